// MachineSnapshot on x86_64 Linux builds (machine_snapshot.h): the
// library's capture and restore of the VM, its vCPUs and its RAM, plus
// hvrun's machine section (Tag::kVmmState, index 0), version 1:
//   u32 version (1), u32 machine kind (1: a flat payload), u64 RAM size,
//   u32 vCPU count, count × bool halted, u64 VM exits handled.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"
#include "hypervisor/x86_64/vm_x86_64.h"
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

constexpr uint32_t kStateIndex = 0;
constexpr uint32_t kStateVersion = 1;
constexpr uint32_t kMachineKindPayload = 1;

// hvrun's machine section, decoded.
struct MachineState {
  uint64_t mem_size = 0;
  std::vector<bool> halted;
  uint64_t exits_handled = 0;
};

std::vector<uint8_t> EncodeState(const Machine& machine) {
  ByteWriter out;
  out.Put32(kStateVersion);
  out.Put32(kMachineKindPayload);
  out.Put64(machine.ram_size());
  const std::vector<bool> halted = machine.halted_vcpus();
  out.Put32(static_cast<uint32_t>(halted.size()));
  for (bool h : halted) out.PutBool(h);
  out.Put64(machine.exits_handled());
  return out.Take();
}

absl::StatusOr<MachineState> DecodeState(absl::Span<const uint8_t> bytes) {
  ByteReader in(bytes, "hvrun machine section");
  ASSIGN_OR_RETURN(uint32_t version, in.Get32("version"));
  if (version != kStateVersion) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "its hvrun machine section is version %u; this hvrun reads version %u", version,
        kStateVersion));
  }
  ASSIGN_OR_RETURN(uint32_t kind, in.Get32("machine kind"));
  if (kind != kMachineKindPayload) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "its machine is of kind %u; this hvrun restores flat payloads (kind %u) only", kind,
        kMachineKindPayload));
  }
  MachineState state;
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
  RETURN_IF_ERROR(in.Done());
  return state;
}

// The machine's VM and vCPUs as x86_64 ones; FAILED_PRECONDITION for a
// Linux guest (its devices' state is not saved).
absl::StatusOr<std::vector<VcpuX86_64*>> X86Vcpus(Machine& machine, const char* op) {
  if (machine.linux_guest()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: Linux guests are not supported (the state of their UART, 8042, PCI bus "
        "and virtio device is not saved)",
        op));
  }
  if (machine.vm().AsX86_64() == nullptr) {
    return absl::FailedPreconditionError(absl::StrFormat("%s: not an x86_64 VM", op));
  }
  std::vector<VcpuX86_64*> vcpus;
  for (const std::unique_ptr<Vcpu>& vcpu : machine.vcpus()) {
    VcpuX86_64* x86 = vcpu->AsX86_64();
    if (x86 == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s: vCPU %u is not an x86_64 vCPU", op, vcpu->id()));
    }
    vcpus.push_back(x86);
  }
  return vcpus;
}

snapshot::GuestRam RamOf(Machine& machine) {
  return {machine.layout().ram_base, absl::MakeSpan(machine.ram(), machine.ram_size())};
}

absl::Status Annotate(const absl::Status& status, const std::string& what) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrFormat("%s: %s", what, status.message()));
}

class X86MachineSnapshot : public MachineSnapshot {
 public:
  X86MachineSnapshot(std::string path, SnapshotFile file, MachineState state)
      : path_(std::move(path)), file_(std::move(file)), state_(std::move(state)) {}

  uint64_t mem_size() const override { return state_.mem_size; }
  uint32_t vcpus() const override { return static_cast<uint32_t>(state_.halted.size()); }
  uint64_t exits_handled() const override { return state_.exits_handled; }
  const std::string& backend() const override { return file_.backend(); }

  absl::Status RestoreInto(Machine& machine) const override {
    const std::string op = absl::StrFormat("restoring %s", path_);
    ASSIGN_OR_RETURN(std::vector<VcpuX86_64*> vcpus, X86Vcpus(machine, op.c_str()));
    if (machine.ram_size() != mem_size() || vcpus.size() != state_.halted.size()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: the snapshot is of a machine with %u bytes of RAM and %u vCPUs; this one "
          "has %u bytes and %u vCPUs",
          op, mem_size(), state_.halted.size(), machine.ram_size(), vcpus.size()));
    }
    const snapshot::GuestRam ram[] = {RamOf(machine)};
    RETURN_IF_ERROR(Annotate(
        snapshot::RestoreX86_64(file_, *machine.vm().AsX86_64(), vcpus, ram), op));
    return Annotate(machine.SetHaltedVcpus(state_.halted), op);
  }

 private:
  const std::string path_;
  const SnapshotFile file_;
  const MachineState state_;
};

}  // namespace

absl::Status MachineSnapshotSupport() { return absl::OkStatus(); }

absl::StatusOr<uint64_t> SaveMachineSnapshot(Machine& machine, const std::string& path) {
  constexpr const char* kOp = "taking the snapshot";
  ASSIGN_OR_RETURN(std::vector<VcpuX86_64*> vcpus, X86Vcpus(machine, kOp));
  const snapshot::GuestRam ram[] = {RamOf(machine)};
  absl::StatusOr<SnapshotFile> file = snapshot::CaptureX86_64(
      *machine.vm().AsX86_64(), vcpus, ram, std::string(machine.hypervisor_kind()));
  if (!file.ok()) return Annotate(file.status(), kOp);
  file->Add(Tag::kVmmState, kStateIndex, EncodeState(machine));
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
  if (file->arch() != snapshot::Arch::kX86_64) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: it is of an %s VM; this hvrun is x86_64", op, snapshot::ArchName(file->arch())));
  }
  absl::StatusOr<absl::Span<const uint8_t>> section = file->Find(Tag::kVmmState, kStateIndex);
  if (!section.ok()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: it has no hvrun machine section (not written by hvrun --snapshot)", op));
  }
  absl::StatusOr<MachineState> state = DecodeState(*section);
  if (!state.ok()) return Annotate(state.status(), op);
  return std::unique_ptr<MachineSnapshot>(
      new X86MachineSnapshot(path, *std::move(file), *std::move(state)));
}

}  // namespace hv
