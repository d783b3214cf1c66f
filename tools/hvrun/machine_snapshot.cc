// MachineSnapshot on Linux builds (machine_snapshot.h): the library's
// capture and restore of the VM, its vCPUs and its RAM (x86_64_snapshot.h
// or aarch64_snapshot.h, by the machine's VM), plus
// hvrun's machine section (Tag::kVmmState, index 0), version 2:
//   u32 version (2), u32 machine kind (1: a flat payload, 2: a Linux
//   guest), u64 RAM size (--mem), u32 vCPU count, count × bool halted,
//   u64 VM exits handled, u32 device count, count × u32 section index;
// and each device's own section (Tag::kVmmState, its index: the device's
// record, Machine::DeviceState). Version 1 (flat payloads, before devices
// had sections) ends after the exits handled and is read too.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "hypervisor/aarch64/vcpu_aarch64.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "snapshot/aarch64_snapshot.h"
#include "snapshot/codec.h"
#include "snapshot/snapshot_file.h"
#include "snapshot/x86_64_snapshot.h"
#include "tools/hvrun/machine_snapshot.h"

namespace hv {
namespace {

using snapshot::ByteReader;
using snapshot::ByteWriter;
using snapshot::SnapshotFile;
using snapshot::Tag;

constexpr uint32_t kStateVersion = 2;
constexpr uint32_t kStateVersionWithoutDevices = 1;
constexpr uint32_t kMachineKindPayload = 1;
constexpr uint32_t kMachineKindLinux = 2;

// hvrun's machine section, decoded.
struct MachineState {
  bool linux_guest = false;
  uint64_t mem_size = 0;
  std::vector<bool> halted;
  uint64_t exits_handled = 0;
  std::vector<uint32_t> device_indices;
};

std::vector<uint8_t> EncodeState(const Machine& machine) {
  ByteWriter out;
  out.Put32(kStateVersion);
  out.Put32(machine.linux_guest() ? kMachineKindLinux : kMachineKindPayload);
  out.Put64(machine.mem_size());
  const std::vector<bool> halted = machine.halted_vcpus();
  out.Put32(static_cast<uint32_t>(halted.size()));
  for (bool h : halted) out.PutBool(h);
  out.Put64(machine.exits_handled());
  out.Put32(static_cast<uint32_t>(machine.device_states().size()));
  for (const DeviceState& device : machine.device_states()) out.Put32(device.index);
  return out.Take();
}

// Version 2's device list: each index once, none 0.
absl::Status DecodeDevices(ByteReader& in, MachineState& state) {
  ASSIGN_OR_RETURN(uint32_t count, in.Get32("device count"));
  if (count > in.remaining() / 4) {
    return absl::DataLossError(
        absl::StrFormat("its hvrun machine section claims %u devices", count));
  }
  for (uint32_t i = 0; i < count; ++i) {
    ASSIGN_OR_RETURN(uint32_t index, in.Get32("device section index"));
    if (index == kMachineStateIndex || absl::c_linear_search(state.device_indices, index)) {
      return absl::DataLossError(absl::StrFormat(
          "its hvrun machine section lists device section %u twice or as the machine's",
          index));
    }
    state.device_indices.push_back(index);
  }
  return absl::OkStatus();
}

absl::StatusOr<MachineState> DecodeState(absl::Span<const uint8_t> bytes) {
  ByteReader in(bytes, "hvrun machine section");
  ASSIGN_OR_RETURN(uint32_t version, in.GetVersion(kStateVersionWithoutDevices,
                                                   kStateVersion, "hvrun machine section"));
  ASSIGN_OR_RETURN(uint32_t kind, in.Get32("machine kind"));
  if (kind != kMachineKindPayload && (kind != kMachineKindLinux || version != kStateVersion)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "its machine is of kind %u; this hvrun restores flat payloads (kind %u) and Linux "
        "guests (kind %u, section version %u)",
        kind, kMachineKindPayload, kMachineKindLinux, kStateVersion));
  }
  MachineState state;
  state.linux_guest = kind == kMachineKindLinux;
  ASSIGN_OR_RETURN(state.mem_size, in.Get64("RAM size"));
  ASSIGN_OR_RETURN(uint32_t count, in.Get32("vCPU count"));
  if (count == 0 || count > in.remaining()) {
    return absl::DataLossError(
        absl::StrFormat("its hvrun machine section claims %u vCPUs", count));
  }
  for (uint32_t i = 0; i < count; ++i) {
    ASSIGN_OR_RETURN(bool halted, in.GetBool("halted"));
    state.halted.push_back(halted);
  }
  ASSIGN_OR_RETURN(state.exits_handled, in.Get64("VM exits handled"));
  if (version == kStateVersion) RETURN_IF_ERROR(DecodeDevices(in, state));
  RETURN_IF_ERROR(in.Done());
  return state;
}

// The machine's vCPUs as its architecture's (`as`: Vcpu::AsX86_64 or
// Vcpu::AsAArch64); FAILED_PRECONDITION for one that is not.
template <typename ArchVcpu>
absl::StatusOr<std::vector<ArchVcpu*>> ArchVcpus(Machine& machine, ArchVcpu* (Vcpu::*as)()) {
  std::vector<ArchVcpu*> vcpus;
  for (const std::unique_ptr<Vcpu>& vcpu : machine.vcpus()) {
    ArchVcpu* arch = (vcpu.get()->*as)();
    if (arch == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrFormat("vCPU %u is not of its VM's architecture", vcpu->id()));
    }
    vcpus.push_back(arch);
  }
  return vcpus;
}

// The library's capture and restore for the machine's VM's architecture.
absl::StatusOr<SnapshotFile> CaptureVm(Machine& machine,
                                       absl::Span<const snapshot::GuestRam> ram) {
  const std::string backend(machine.hypervisor_kind());
  if (VmX86_64* vm = machine.vm().AsX86_64()) {
    ASSIGN_OR_RETURN(std::vector<VcpuX86_64*> vcpus, ArchVcpus(machine, &Vcpu::AsX86_64));
    return snapshot::CaptureX86_64(*vm, vcpus, ram, backend);
  }
  if (VmAArch64* vm = machine.vm().AsAArch64()) {
    ASSIGN_OR_RETURN(std::vector<VcpuAArch64*> vcpus, ArchVcpus(machine, &Vcpu::AsAArch64));
    return snapshot::CaptureAArch64(*vm, vcpus, ram, backend);
  }
  return absl::FailedPreconditionError("neither an x86_64 nor an aarch64 VM");
}

absl::Status RestoreVm(const SnapshotFile& file, Machine& machine,
                       absl::Span<const snapshot::GuestRam> ram,
                       const snapshot::RestoreOptions& options) {
  if (VmX86_64* vm = machine.vm().AsX86_64()) {
    ASSIGN_OR_RETURN(std::vector<VcpuX86_64*> vcpus, ArchVcpus(machine, &Vcpu::AsX86_64));
    return snapshot::RestoreX86_64(file, *vm, vcpus, ram, options);
  }
  if (VmAArch64* vm = machine.vm().AsAArch64()) {
    ASSIGN_OR_RETURN(std::vector<VcpuAArch64*> vcpus, ArchVcpus(machine, &Vcpu::AsAArch64));
    return snapshot::RestoreAArch64(file, *vm, vcpus, ram, options);
  }
  return absl::FailedPreconditionError("neither an x86_64 nor an aarch64 VM");
}

std::vector<snapshot::GuestRam> RamOf(const Machine& machine) {
  std::vector<snapshot::GuestRam> ram;
  for (const GuestRamRange& range : machine.ram_ranges()) {
    ram.push_back({range.address, range.host});
  }
  return ram;
}

absl::Status Annotate(const absl::Status& status, const std::string& what) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrFormat("%s: %s", what, status.message()));
}

class MachineSnapshotFile : public MachineSnapshot {
 public:
  MachineSnapshotFile(std::string path, SnapshotFile file, MachineState state)
      : path_(std::move(path)), file_(std::move(file)), state_(std::move(state)) {}

  uint64_t mem_size() const override { return state_.mem_size; }
  uint32_t vcpus() const override { return static_cast<uint32_t>(state_.halted.size()); }
  uint64_t exits_handled() const override { return state_.exits_handled; }
  const std::string& backend() const override { return file_.backend(); }
  bool linux_guest() const override { return state_.linux_guest; }

  absl::Status RestoreInto(Machine& machine, bool advance_clock) const override {
    const std::string op = absl::StrFormat("restoring %s", path_);
    RETURN_IF_ERROR(CheckShape(machine, machine.vcpus().size(), op));
    ASSIGN_OR_RETURN(std::vector<absl::Span<const uint8_t>> devices,
                     CheckDevices(machine, op));
    const std::vector<snapshot::GuestRam> ram = RamOf(machine);
    snapshot::RestoreOptions options;
    options.advance_clock_by_downtime = advance_clock;
    RETURN_IF_ERROR(Annotate(RestoreVm(file_, machine, ram, options), op));
    RETURN_IF_ERROR(Annotate(machine.SetHaltedVcpus(state_.halted), op));
    // After the VM's irqchip: a UART drives its interrupt line again.
    for (size_t i = 0; i < devices.size(); ++i) {
      RETURN_IF_ERROR(Annotate(machine.device_states()[i].restore(devices[i]), op));
    }
    return absl::OkStatus();
  }

 private:
  // The machine is of the snapshot's kind, RAM and vCPU count.
  absl::Status CheckShape(const Machine& machine, size_t vcpus, const std::string& op) const {
    if (machine.linux_guest() != state_.linux_guest) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: the snapshot is of %s; this machine is %s", op,
          state_.linux_guest ? "a Linux guest" : "a flat payload",
          machine.linux_guest() ? "a Linux guest" : "a flat payload"));
    }
    if (machine.mem_size() != mem_size() || vcpus != state_.halted.size()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: the snapshot is of a machine with %u bytes of RAM and %u vCPUs; this one "
          "has %u bytes and %u vCPUs",
          op, mem_size(), state_.halted.size(), machine.mem_size(), vcpus));
    }
    return absl::OkStatus();
  }

  // Each of the machine's devices has its section, listed in the machine's,
  // and the device accepts it; the sections in the machine's device order.
  absl::StatusOr<std::vector<absl::Span<const uint8_t>>> CheckDevices(
      const Machine& machine, const std::string& op) const {
    const std::vector<DeviceState>& devices = machine.device_states();
    if (devices.size() != state_.device_indices.size()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: the snapshot holds %u devices' state; this machine has %u devices", op,
          state_.device_indices.size(), devices.size()));
    }
    std::vector<absl::Span<const uint8_t>> sections;
    for (const DeviceState& device : devices) {
      if (!absl::c_linear_search(state_.device_indices, device.index)) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "%s: the snapshot holds no state of this machine's %s (section %u)", op,
            device.name, device.index));
      }
      absl::StatusOr<absl::Span<const uint8_t>> section =
          file_.Find(Tag::kVmmState, device.index);
      if (!section.ok()) {
        return absl::DataLossError(absl::StrFormat(
            "%s: its machine section lists the %s (section %u), but the file lacks it", op,
            device.name, device.index));
      }
      RETURN_IF_ERROR(Annotate(device.check(*section), op));
      sections.push_back(*section);
    }
    return sections;
  }

  const std::string path_;
  const SnapshotFile file_;
  const MachineState state_;
};

}  // namespace

absl::Status MachineSnapshotSupport() { return absl::OkStatus(); }

absl::StatusOr<uint64_t> SaveMachineSnapshot(Machine& machine, const std::string& path) {
  constexpr const char* kOp = "taking the snapshot";
  const std::vector<snapshot::GuestRam> ram = RamOf(machine);
  absl::StatusOr<SnapshotFile> file = CaptureVm(machine, ram);
  if (!file.ok()) return Annotate(file.status(), kOp);
  file->Add(Tag::kVmmState, kMachineStateIndex, EncodeState(machine));
  for (const DeviceState& device : machine.device_states()) {
    file->Add(Tag::kVmmState, device.index, device.save());
  }
  RETURN_IF_ERROR(Annotate(file->WriteTo(path), absl::StrFormat("writing snapshot %s", path)));
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::InternalError(absl::StrFormat("writing snapshot %s: stat after the write: %s",
                                               path, std::strerror(errno)));
  }
  return static_cast<uint64_t>(st.st_size);
}

absl::StatusOr<std::unique_ptr<MachineSnapshot>> MachineSnapshot::Read(
    const std::string& path) {
  const std::string op = absl::StrFormat("reading snapshot %s", path);
  absl::StatusOr<SnapshotFile> file = SnapshotFile::ReadFrom(path);
  if (!file.ok()) return Annotate(file.status(), op);
  if (snapshot::ArchName(file->arch()) != absl::string_view(MachineLayoutForTarget().arch)) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: it is of an %s VM; this hvrun is %s", op,
                        snapshot::ArchName(file->arch()), MachineLayoutForTarget().arch));
  }
  absl::StatusOr<absl::Span<const uint8_t>> section =
      file->Find(Tag::kVmmState, kMachineStateIndex);
  if (!section.ok()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: it has no hvrun machine section (not written by hvrun --snapshot)", op));
  }
  absl::StatusOr<MachineState> state = DecodeState(*section);
  if (!state.ok()) return Annotate(state.status(), op);
  return std::unique_ptr<MachineSnapshot>(
      new MachineSnapshotFile(path, *std::move(file), *std::move(state)));
}

}  // namespace hv
