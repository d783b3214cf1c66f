#include "snapshot/x86_64_snapshot.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vcpu_exit.h"
#include "snapshot/codec.h"
#include "snapshot/vm_snapshot_common.h"
#include "snapshot/x86_64_codec.h"

namespace hv::snapshot {
namespace {

// The vCPU's MSRs of `indices`: all at once, or, where the hypervisor
// refuses one (an MSR the list names that this vCPU's CPUID does not
// offer), one at a time, leaving out those it refuses.
absl::StatusOr<std::vector<MsrEntry>> ReadMsrs(VcpuX86_64& vcpu,
                                               absl::Span<const uint32_t> indices) {
  absl::StatusOr<std::vector<MsrEntry>> all = vcpu.GetMsrs(indices);
  if (all.ok()) return all;
  std::vector<MsrEntry> readable;
  for (uint32_t index : indices) {
    absl::StatusOr<std::vector<MsrEntry>> one = vcpu.GetMsrs({index});
    if (one.ok()) readable.insert(readable.end(), one->begin(), one->end());
  }
  return readable;
}

absl::Status CaptureVcpu(VcpuX86_64& vcpu, absl::Span<const uint32_t> msr_list,
                         SnapshotFile& file) {
  const uint32_t id = vcpu.id();
  RETURN_IF_ERROR(SettleVcpu(vcpu));
  // Tell a kvmclock guest it was paused; one without kvmclock has no
  // watchdog to calm (FAILED_PRECONDITION) and some hypervisors have no
  // such call.
  if (absl::Status paused = vcpu.NotifyGuestPaused();
      !paused.ok() && !Absent(paused)) {
    return Within("notify guest paused", paused);
  }
  ASSIGN_OR_RETURN(Regs regs, vcpu.GetRegs());
  file.Add(Tag::kVcpuRegs, id, EncodeRegs(regs));
  ASSIGN_OR_RETURN(Sregs sregs, vcpu.GetSregs());
  file.Add(Tag::kVcpuSregs, id, EncodeSregs(sregs));
  ASSIGN_OR_RETURN(Fpu fpu, vcpu.GetFpu());
  file.Add(Tag::kVcpuFpu, id, EncodeFpu(fpu));
  ASSIGN_OR_RETURN(DebugRegs debug, vcpu.GetDebugRegs());
  file.Add(Tag::kVcpuDebugRegs, id, EncodeDebugRegs(debug));
  if (absl::StatusOr<std::vector<Xcr>> xcrs = vcpu.GetXcrs(); xcrs.ok()) {
    file.Add(Tag::kVcpuXcrs, id, EncodeXcrs(*xcrs));
  } else if (!Absent(xcrs.status())) {
    return Within("get xcrs", xcrs.status());
  }
  if (absl::StatusOr<std::vector<uint8_t>> xsave = vcpu.GetXsave();
      xsave.ok()) {
    file.Add(Tag::kVcpuXsave, id, *std::move(xsave));
  } else if (!Absent(xsave.status())) {
    return Within("get xsave", xsave.status());
  }
  if (!msr_list.empty()) {
    ASSIGN_OR_RETURN(std::vector<MsrEntry> msrs, ReadMsrs(vcpu, msr_list));
    file.Add(Tag::kVcpuMsrs, id, EncodeMsrs(msrs));
  }
  if (absl::StatusOr<VcpuEvents> events = vcpu.GetVcpuEvents(); events.ok()) {
    file.Add(Tag::kVcpuEvents, id, EncodeVcpuEvents(*events));
  } else if (!Absent(events.status())) {
    return Within("get vcpu events", events.status());
  }
  RETURN_IF_ERROR(CaptureMpState(vcpu, file));
  if (absl::StatusOr<LapicState> lapic = vcpu.GetLapic(); lapic.ok()) {
    file.Add(Tag::kVcpuLapic, id,
             std::vector<uint8_t>(lapic->regs.begin(), lapic->regs.end()));
  } else if (!Absent(lapic.status())) {
    return Within("get lapic", lapic.status());
  }
  if (absl::StatusOr<uint32_t> khz = vcpu.GetTscKhz(); khz.ok()) {
    file.Add(Tag::kVcpuTscKhz, id, EncodeU32(*khz));
  } else if (!Absent(khz.status())) {
    return Within("get tsc khz", khz.status());
  }
  return absl::OkStatus();
}

// What RestoreX86_64 loads into one vCPU, decoded and checked first.
struct VcpuImage {
  Regs regs;
  Sregs sregs;
  Fpu fpu;
  DebugRegs debug;
  std::optional<std::vector<Xcr>> xcrs;
  std::optional<std::vector<uint8_t>> xsave;
  std::optional<std::vector<MsrEntry>> msrs;
  std::optional<VcpuEvents> events;
  std::optional<MpState> mp_state;
  std::optional<LapicState> lapic;
  std::optional<uint32_t> tsc_khz;
};

absl::StatusOr<VcpuImage> DecodeVcpu(const SnapshotFile& file, uint32_t id) {
  const std::string name = VcpuName(id);
  VcpuImage image;
  ASSIGN_OR_RETURN(image.regs, DecodeSection(file, Tag::kVcpuRegs, id,
                                             DecodeRegs, name + " regs"));
  ASSIGN_OR_RETURN(image.sregs, DecodeSection(file, Tag::kVcpuSregs, id,
                                              DecodeSregs, name + " sregs"));
  ASSIGN_OR_RETURN(image.fpu, DecodeSection(file, Tag::kVcpuFpu, id,
                                            DecodeFpu, name + " fpu"));
  ASSIGN_OR_RETURN(image.debug,
                   DecodeSection(file, Tag::kVcpuDebugRegs, id,
                                 DecodeDebugRegs, name + " debug regs"));
  if (auto p = Optional(file, Tag::kVcpuXcrs, id)) {
    ASSIGN_OR_RETURN(image.xcrs, DecodeXcrs(*p, name + " xcrs"));
  }
  if (auto p = Optional(file, Tag::kVcpuXsave, id)) {
    image.xsave = std::vector<uint8_t>(p->begin(), p->end());
  }
  if (auto p = Optional(file, Tag::kVcpuMsrs, id)) {
    ASSIGN_OR_RETURN(image.msrs, DecodeMsrs(*p, name + " msrs"));
  }
  if (auto p = Optional(file, Tag::kVcpuEvents, id)) {
    ASSIGN_OR_RETURN(image.events, DecodeVcpuEvents(*p, name + " events"));
  }
  if (auto p = Optional(file, Tag::kVcpuMpState, id)) {
    ASSIGN_OR_RETURN(image.mp_state, DecodeMpState(*p, name + " mp state"));
  }
  if (auto p = Optional(file, Tag::kVcpuLapic, id)) {
    LapicState lapic;
    if (p->size() != lapic.regs.size()) {
      return absl::DataLossError(absl::StrFormat(
          "%s lapic: %u bytes, not the %u of the APIC page", name, p->size(),
          lapic.regs.size()));
    }
    std::copy(p->begin(), p->end(), lapic.regs.begin());
    image.lapic = lapic;
  }
  if (auto p = Optional(file, Tag::kVcpuTscKhz, id)) {
    ASSIGN_OR_RETURN(image.tsc_khz, DecodeU32(*p, name + " tsc khz"));
  }
  return image;
}

// Checks, by side-effect-free reads, that `vcpu` can take `image`.
absl::Status CheckVcpuTakes(VcpuX86_64& vcpu, const VcpuImage& image) {
  auto needs = [&](bool present, const absl::Status& probe,
                   const char* piece) -> absl::Status {
    if (present && !probe.ok()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "the snapshot has %s state, which this vCPU cannot take (%s)",
          piece, probe.message()));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(needs(image.xcrs.has_value(), vcpu.GetXcrs().status(), "XCR"));
  if (image.xsave.has_value() && image.xsave->size() != vcpu.XsaveSize()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "the snapshot's XSAVE image is %u bytes, this vCPU's %u (another "
        "host CPU or hypervisor)",
        image.xsave->size(), vcpu.XsaveSize()));
  }
  RETURN_IF_ERROR(needs(image.events.has_value(),
                        vcpu.GetVcpuEvents().status(), "vCPU event"));
  RETURN_IF_ERROR(
      needs(image.mp_state.has_value(), vcpu.GetMpState().status(), "MP"));
  RETURN_IF_ERROR(
      needs(image.lapic.has_value(), vcpu.GetLapic().status(), "local APIC"));
  if (image.tsc_khz.has_value()) {
    absl::StatusOr<uint32_t> khz = vcpu.GetTscKhz();
    RETURN_IF_ERROR(needs(true, khz.status(), "TSC frequency"));
    if (*khz != *image.tsc_khz) {
      // SetTscKhz may scale it; a hypervisor that cannot is refused below.
      // Probe with the current value: it changes nothing.
      absl::Status settable = vcpu.SetTscKhz(*khz);
      if (!settable.ok()) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "the snapshot's guest TSC ran at %u kHz, this vCPU's runs at %u "
            "kHz and cannot be set (%s)",
            *image.tsc_khz, *khz, settable.message()));
      }
    }
  }
  return absl::OkStatus();
}

// Writes `msrs`: all at once, or, where the hypervisor refuses one, one at
// a time. A refused MSR is skipped only when the vCPU already holds the
// saved value (KVM lists paravirtual MSRs that it refuses to write unless
// the guest's CPUID offers the feature; the guest cannot have changed them
// then, so they hold their reset value on both sides); any other refusal
// is an error naming the MSR.
absl::Status WriteMsrs(VcpuX86_64& vcpu, absl::Span<const MsrEntry> msrs) {
  if (vcpu.SetMsrs(msrs).ok()) return absl::OkStatus();
  for (const MsrEntry& msr : msrs) {
    absl::Status written = vcpu.SetMsrs({msr});
    if (written.ok()) continue;
    absl::StatusOr<std::vector<MsrEntry>> current = vcpu.GetMsrs({msr.index});
    if (current.ok() && current->size() == 1 &&
        (*current)[0].value == msr.value) {
      continue;
    }
    return absl::Status(
        written.code(),
        absl::StrFormat("MSR %#x (saved value %#x) cannot be restored: %s",
                        msr.index, msr.value, written.message()));
  }
  return absl::OkStatus();
}

absl::Status LoadVcpu(VcpuX86_64& vcpu, const VcpuImage& image) {
  if (image.tsc_khz.has_value()) {
    ASSIGN_OR_RETURN(uint32_t khz, vcpu.GetTscKhz());
    if (khz != *image.tsc_khz) {
      RETURN_IF_ERROR(Within("set tsc khz", vcpu.SetTscKhz(*image.tsc_khz)));
    }
  }
  RETURN_IF_ERROR(Within("set regs", vcpu.SetRegs(image.regs)));
  if (image.xsave.has_value()) {
    RETURN_IF_ERROR(Within("set xsave", vcpu.SetXsave(*image.xsave)));
  } else {
    RETURN_IF_ERROR(Within("set fpu", vcpu.SetFpu(image.fpu)));
  }
  if (image.xcrs.has_value()) {
    RETURN_IF_ERROR(Within("set xcrs", vcpu.SetXcrs(*image.xcrs)));
  }
  RETURN_IF_ERROR(Within("set sregs", vcpu.SetSregs(image.sregs)));
  if (image.msrs.has_value()) {
    RETURN_IF_ERROR(Within("set msrs", WriteMsrs(vcpu, *image.msrs)));
  }
  if (image.mp_state.has_value()) {
    RETURN_IF_ERROR(Within("set mp state", vcpu.SetMpState(*image.mp_state)));
  }
  if (image.lapic.has_value()) {
    RETURN_IF_ERROR(Within("set lapic", vcpu.SetLapic(*image.lapic)));
  }
  if (image.events.has_value()) {
    RETURN_IF_ERROR(Within("set vcpu events", vcpu.SetVcpuEvents(*image.events)));
  }
  return Within("set debug regs", vcpu.SetDebugRegs(image.debug));
}

// The VM device state in (tag, 0), decoded, or nullopt where the file has
// none.
template <typename T>
absl::StatusOr<std::optional<T>> DecodeVmState(
    const SnapshotFile& file, Tag tag,
    absl::StatusOr<T> (*decode)(absl::Span<const uint8_t>,
                                const std::string&)) {
  std::optional<absl::Span<const uint8_t>> payload = Optional(file, tag, 0);
  if (!payload.has_value()) return std::optional<T>();
  ASSIGN_OR_RETURN(T state, decode(*payload, TagName(tag)));
  return std::optional<T>(std::move(state));
}

// What RestoreX86_64 writes into the VM's devices, decoded first.
struct VmImage {
  std::optional<PicState> pic0;
  std::optional<PicState> pic1;
  std::optional<IoapicState> ioapic;
  std::optional<PitState> pit;
  std::optional<ClockState> clock;
};

// What `vcpu` holds now of each piece `image` would write: what a restore
// puts back should the hypervisor refuse a piece midway.
absl::StatusOr<VcpuImage> ReadCurrent(VcpuX86_64& vcpu,
                                      const VcpuImage& image) {
  VcpuImage now;
  ASSIGN_OR_RETURN(now.regs, vcpu.GetRegs());
  ASSIGN_OR_RETURN(now.sregs, vcpu.GetSregs());
  ASSIGN_OR_RETURN(now.fpu, vcpu.GetFpu());
  ASSIGN_OR_RETURN(now.debug, vcpu.GetDebugRegs());
  if (image.xcrs) {
    ASSIGN_OR_RETURN(now.xcrs, vcpu.GetXcrs());
  }
  if (image.xsave) {
    ASSIGN_OR_RETURN(now.xsave, vcpu.GetXsave());
  }
  if (image.msrs) {
    std::vector<uint32_t> indices;
    for (const MsrEntry& msr : *image.msrs) indices.push_back(msr.index);
    ASSIGN_OR_RETURN(now.msrs, ReadMsrs(vcpu, indices));
  }
  if (image.events) {
    ASSIGN_OR_RETURN(now.events, vcpu.GetVcpuEvents());
  }
  if (image.mp_state) {
    ASSIGN_OR_RETURN(now.mp_state, vcpu.GetMpState());
  }
  if (image.lapic) {
    ASSIGN_OR_RETURN(now.lapic, vcpu.GetLapic());
  }
  if (image.tsc_khz) {
    ASSIGN_OR_RETURN(now.tsc_khz, vcpu.GetTscKhz());
  }
  return now;
}

// The same for the VM's devices.
absl::StatusOr<VmImage> ReadCurrent(VmX86_64& vm, const VmImage& image) {
  VmImage now;
  if (image.pic0) {
    ASSIGN_OR_RETURN(now.pic0, vm.GetPicState(VmX86_64::Pic::kPrimary));
  }
  if (image.pic1) {
    ASSIGN_OR_RETURN(now.pic1, vm.GetPicState(VmX86_64::Pic::kSecondary));
  }
  if (image.ioapic) {
    ASSIGN_OR_RETURN(now.ioapic, vm.GetIoapicState());
  }
  if (image.pit) {
    ASSIGN_OR_RETURN(now.pit, vm.GetPitState());
  }
  if (image.clock) {
    ASSIGN_OR_RETURN(now.clock, vm.GetClock());
    now.clock->realtime_ns.reset();  // set back as it was read
  }
  return now;
}

// Writes the VM's devices, then each vCPU, then the clock, in the order
// the hypervisor needs; the first refusal's Status names the piece.
absl::Status WriteState(VmX86_64& vm, absl::Span<VcpuX86_64* const> vcpus,
                        absl::Span<const VcpuImage> images,
                        const VmImage& devices) {
  if (devices.pic0) {
    RETURN_IF_ERROR(Within("set primary PIC",
                           vm.SetPicState(VmX86_64::Pic::kPrimary, *devices.pic0)));
  }
  if (devices.pic1) {
    RETURN_IF_ERROR(Within(
        "set secondary PIC",
        vm.SetPicState(VmX86_64::Pic::kSecondary, *devices.pic1)));
  }
  if (devices.ioapic) {
    RETURN_IF_ERROR(Within("set ioapic", vm.SetIoapicState(*devices.ioapic)));
  }
  if (devices.pit) RETURN_IF_ERROR(Within("set pit", vm.SetPitState(*devices.pit)));
  for (size_t i = 0; i < vcpus.size(); ++i) {
    RETURN_IF_ERROR(
        Within(VcpuName(vcpus[i]->id()), LoadVcpu(*vcpus[i], images[i])));
  }
  if (devices.clock) {
    RETURN_IF_ERROR(Within("set clock", vm.SetClock(*devices.clock)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SnapshotFile> CaptureX86_64(VmX86_64& vm,
                                           absl::Span<VcpuX86_64* const> vcpus,
                                           absl::Span<const GuestRam> ram,
                                           const std::string& backend,
                                           const CaptureOptions& options) {
  ASSIGN_OR_RETURN(SnapshotFile file,
                   BeginCapture(Arch::kX86_64, backend, vm, AsVcpus(vcpus),
                                ram, options));

  std::vector<uint32_t> msr_list;
  if (absl::StatusOr<std::vector<uint32_t>> list = vm.GetMsrIndexList();
      list.ok()) {
    msr_list = *std::move(list);
  } else if (!Absent(list.status())) {
    return Within("snapshot capture: get MSR index list", list.status());
  }
  RETURN_IF_ERROR(ForEachVcpu("snapshot capture", vcpus,
                              [&](VcpuX86_64& vcpu, size_t) {
                                return CaptureVcpu(vcpu, msr_list, file);
                              }));
  auto optional_vm = [&](Tag tag, auto get, auto encode) {
    return CaptureVmPiece(tag, get, encode, file);
  };
  RETURN_IF_ERROR(optional_vm(
      Tag::kVmPicPrimary, [&] { return vm.GetPicState(VmX86_64::Pic::kPrimary); },
      EncodePic));
  RETURN_IF_ERROR(optional_vm(
      Tag::kVmPicSecondary,
      [&] { return vm.GetPicState(VmX86_64::Pic::kSecondary); }, EncodePic));
  RETURN_IF_ERROR(optional_vm(
      Tag::kVmIoapic, [&] { return vm.GetIoapicState(); }, EncodeIoapic));
  RETURN_IF_ERROR(
      optional_vm(Tag::kVmPit, [&] { return vm.GetPitState(); }, EncodePit));
  RETURN_IF_ERROR(
      optional_vm(Tag::kVmClock, [&] { return vm.GetClock(); }, EncodeClock));
  RETURN_IF_ERROR(CaptureRam(vm, ram, options, file));
  return file;
}

absl::Status RestoreX86_64(const SnapshotFile& file, VmX86_64& vm,
                           absl::Span<VcpuX86_64* const> vcpus,
                           absl::Span<const GuestRam> ram,
                           const RestoreOptions& options) {
  const SnapshotFile* chain[] = {&file};
  return RestoreX86_64(chain, vm, vcpus, ram, options);
}

absl::Status RestoreX86_64(absl::Span<const SnapshotFile* const> chain,
                           VmX86_64& vm, absl::Span<VcpuX86_64* const> vcpus,
                           absl::Span<const GuestRam> ram,
                           const RestoreOptions& options) {
  constexpr const char* kOp = "snapshot restore";
  RETURN_IF_ERROR(
      CheckRestoreTarget(chain, Arch::kX86_64, AsVcpus(vcpus), ram, options));
  const SnapshotFile& file = *chain.back();
  absl::StatusOr<std::vector<VcpuImage>> decoded =
      DecodeVcpuImages(file, vcpus, DecodeVcpu, CheckVcpuTakes);
  if (!decoded.ok()) return Within(kOp, decoded.status());
  std::vector<VcpuImage> images = *std::move(decoded);

  // The RAM: every file's writes, checked before any byte is copied.
  ASSIGN_OR_RETURN(std::vector<RamWrite> writes,
                   CollectChainRamWrites(chain, ram));

  // The VM's devices, decoded now so that a damaged one changes nothing.
  VmImage devices;
  ASSIGN_OR_RETURN(devices.pic0,
                   DecodeVmState(file, Tag::kVmPicPrimary, DecodePic));
  ASSIGN_OR_RETURN(devices.pic1,
                   DecodeVmState(file, Tag::kVmPicSecondary, DecodePic));
  ASSIGN_OR_RETURN(devices.ioapic,
                   DecodeVmState(file, Tag::kVmIoapic, DecodeIoapic));
  ASSIGN_OR_RETURN(devices.pit, DecodeVmState(file, Tag::kVmPit, DecodePit));
  ASSIGN_OR_RETURN(devices.clock,
                   DecodeVmState(file, Tag::kVmClock, DecodeClock));
  if ((devices.pic0 || devices.ioapic) && !vm.GetIoapicState().ok()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: the snapshot has in-kernel irqchip state and this VM has no "
        "in-kernel irqchip (CreateIrqChip(kKernel) first)",
        kOp));
  }
  if (devices.pit && !vm.GetPitState().ok()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: the snapshot has PIT state and this VM has no in-kernel PIT", kOp));
  }
  // Without the real time of the capture, SetClock sets the clock as it
  // was: the guest sees no time pass while it was saved.
  if (devices.clock && !options.advance_clock_by_downtime) {
    devices.clock->realtime_ns.reset();
  }

  // Everything fits. What the VM holds now, to put back should the
  // hypervisor refuse a piece midway (a value no decoder can judge, such
  // as a CR4 bit this CPU lacks).
  std::vector<VcpuImage> before;
  for (size_t i = 0; i < vcpus.size(); ++i) {
    ASSIGN_OR_RETURN(VcpuImage now, ReadCurrent(*vcpus[i], images[i]));
    before.push_back(std::move(now));
  }
  ASSIGN_OR_RETURN(VmImage devices_before, ReadCurrent(vm, devices));
  if (absl::Status written = WriteState(vm, vcpus, images, devices);
      !written.ok()) {
    absl::Status undone = WriteState(vm, vcpus, before, devices_before);
    if (!undone.ok()) {
      return absl::Status(
          written.code(),
          absl::StrCat(kOp, ": ", written.message(),
                       "; putting the VM's state back failed too (",
                       undone.message(), "): discard the VM"));
    }
    return absl::Status(
        written.code(),
        absl::StrCat(kOp, ": ", written.message(),
                     " (the VM's state was put back; its RAM is untouched)"));
  }
  // The RAM last: a copy cannot fail. (The hypervisor refreshes what it
  // keeps in guest memory, e.g. kvmclock's page, at the next entry.)
  ApplyRamWrites(writes, ram);
  return absl::OkStatus();
}

}  // namespace hv::snapshot
