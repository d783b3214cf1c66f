#include "snapshot/aarch64_snapshot.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/numeric/int128.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "hypervisor/os/status_macros.h"
#include "snapshot/aarch64_codec.h"

namespace hv::snapshot {
namespace {

constexpr const char* kRestore = "snapshot restore";

// The registers every aarch64 vCPU has outside the system register list:
// x0-x30, SP_EL0, PC, PSTATE, SP_EL1, ELR_EL1, SPSR_EL1 (the core
// registers of the Arm ARM's AArch64 state, B1.2), then FPSR and FPCR.
std::vector<AArch64Reg> CoreRegs() {
  std::vector<AArch64Reg> regs;
  for (uint32_t n = 0; n <= 30; ++n) regs.push_back(AArch64Reg::X(n));
  for (AArch64Reg reg :
       {AArch64Reg::Sp(), AArch64Reg::Pc(), AArch64Reg::Pstate(),
        AArch64Reg::SpEl1(), AArch64Reg::ElrEl1(), AArch64Reg::SpsrEl1(),
        AArch64Reg::Fpsr(), AArch64Reg::Fpcr()}) {
    regs.push_back(reg);
  }
  return regs;
}

// Whether a register read failed because the hypervisor does not expose
// the register (it is then left out), not because the call failed.
bool NotExposed(const absl::Status& status) {
  return absl::IsNotFound(status) || absl::IsInvalidArgument(status) ||
         Absent(status);
}

absl::StatusOr<AArch64RegValues> ReadRegs(VcpuAArch64& vcpu) {
  AArch64RegValues regs;
  for (AArch64Reg reg : CoreRegs()) {
    ASSIGN_OR_RETURN(uint64_t value, vcpu.GetOneReg(reg));
    regs.emplace_back(reg, value);
  }
  if (absl::StatusOr<uint64_t> psci = vcpu.GetOneReg(AArch64Reg::PsciVersion());
      psci.ok()) {
    regs.emplace_back(AArch64Reg::PsciVersion(), *psci);
  } else if (!NotExposed(psci.status())) {
    return Within("get PSCI version", psci.status());
  }
  ASSIGN_OR_RETURN(AArch64RegValues system, vcpu.GetSystemRegs());
  regs.insert(regs.end(), system.begin(), system.end());
  return regs;
}

// The host's generic timer frequency (CNTFRQ_EL0, which Linux lets user
// space read): a guest reads the same register, which its hypervisor does
// not virtualise (KVM's arm64 timer documentation), so it is the rate of
// the guest's virtual counter. 0 on a host of another architecture (the
// Geniezone and Gunyah fakes run on x86_64): its captures record no clock.
uint64_t HostCounterFrequency() {
#if defined(__aarch64__)
  uint64_t hz = 0;
  asm volatile("mrs %0, cntfrq_el0" : "=r"(hz));
  return hz;
#else
  return 0;
#endif
}

absl::Status CaptureVcpu(VcpuAArch64& vcpu, SnapshotFile& file) {
  const uint32_t id = vcpu.id();
  RETURN_IF_ERROR(SettleVcpu(vcpu));
  ASSIGN_OR_RETURN(AArch64RegValues regs, ReadRegs(vcpu));
  file.Add(Tag::kVcpuAArch64Regs, id, EncodeAArch64Regs(regs));
  AArch64Vregs vregs;
  for (uint32_t n = 0; n < vregs.size(); ++n) {
    ASSIGN_OR_RETURN(vregs[n], vcpu.GetVectorReg(n));
  }
  file.Add(Tag::kVcpuAArch64Vregs, id, EncodeAArch64Vregs(vregs));
  RETURN_IF_ERROR(CaptureMpState(vcpu, file));
  return absl::OkStatus();
}

// What RestoreAArch64 loads into one vCPU, decoded and checked first.
struct VcpuImage {
  AArch64RegValues regs;
  AArch64Vregs vregs;
  std::optional<MpState> mp_state;
};

absl::StatusOr<VcpuImage> DecodeVcpu(const SnapshotFile& file, uint32_t id) {
  const std::string name = VcpuName(id);
  VcpuImage image;
  ASSIGN_OR_RETURN(image.regs,
                   DecodeSection(file, Tag::kVcpuAArch64Regs, id,
                                 DecodeAArch64Regs, name + " regs"));
  ASSIGN_OR_RETURN(image.vregs,
                   DecodeSection(file, Tag::kVcpuAArch64Vregs, id,
                                 DecodeAArch64Vregs, name + " vregs"));
  if (auto p = Optional(file, Tag::kVcpuMpState, id)) {
    ASSIGN_OR_RETURN(image.mp_state, DecodeMpState(*p, name + " mp state"));
  }
  return image;
}

// Checks, by side-effect-free reads, that `vcpu` can take `image`: every
// saved register is one the vCPU has (the system registers on its list:
// another host CPU or hypervisor version may list others).
absl::Status CheckVcpuTakes(VcpuAArch64& vcpu, const VcpuImage& image) {
  ASSIGN_OR_RETURN(AArch64RegValues listed, vcpu.GetSystemRegs());
  absl::flat_hash_set<uint32_t> system;
  for (const auto& [reg, value] : listed) system.insert(reg.index);
  for (const auto& [reg, value] : image.regs) {
    if (reg.kind == AArch64Reg::Kind::kSystem) {
      if (system.contains(reg.index)) continue;
      return absl::FailedPreconditionError(absl::StrFormat(
          "the snapshot has system register %s, which this vCPU's register "
          "list lacks (another CPU, features or hypervisor)",
          AArch64RegName(reg)));
    }
    if (absl::Status readable = vcpu.GetOneReg(reg).status(); !readable.ok()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "the snapshot has register %s, which this vCPU cannot take (%s)",
          AArch64RegName(reg), readable.message()));
    }
  }
  if (image.mp_state.has_value()) {
    if (absl::Status mp = vcpu.GetMpState().status(); !mp.ok()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "the snapshot has MP state, which this vCPU cannot take (%s)",
          mp.message()));
    }
  }
  return absl::OkStatus();
}

// Writes one register. A refusal is accepted only when the vCPU already
// holds the saved value (KVM refuses writes that would change an
// invariant register, e.g. an ID register of another CPU model).
absl::Status WriteReg(VcpuAArch64& vcpu, AArch64Reg reg, uint64_t value) {
  absl::Status written = vcpu.SetOneReg(reg, value);
  if (written.ok()) return written;
  absl::StatusOr<uint64_t> current = vcpu.GetOneReg(reg);
  if (current.ok() && *current == value) return absl::OkStatus();
  return absl::Status(
      written.code(),
      absl::StrFormat("%s (saved value %#x) cannot be restored: %s",
                      AArch64RegName(reg), value, written.message()));
}

// The registers: the system registers first (MPIDR_EL1 and the ID
// registers before anything depends on them), then the rest.
absl::Status LoadRegs(VcpuAArch64& vcpu, const VcpuImage& image) {
  for (bool system : {true, false}) {
    for (const auto& [reg, value] : image.regs) {
      if ((reg.kind == AArch64Reg::Kind::kSystem) != system) continue;
      RETURN_IF_ERROR(WriteReg(vcpu, reg, value));
    }
  }
  for (uint32_t n = 0; n < image.vregs.size(); ++n) {
    RETURN_IF_ERROR(
        Within(absl::StrCat("set v", n), vcpu.SetVectorReg(n, image.vregs[n])));
  }
  return absl::OkStatus();
}

// The VM's GIC and ITS, decoded, and checked against `vm` by reads.
struct VmImage {
  std::optional<GicState> gic;
  std::optional<GicItsState> its;
};

absl::Status CheckGicFits(VmAArch64& vm, absl::Span<VcpuAArch64* const> vcpus,
                          const GicState& saved) {
  absl::StatusOr<GicState> current = vm.GetGicState(vcpus);
  if (!current.ok()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: the snapshot has GICv3 state and this VM cannot take it (%s)",
        kRestore, current.status().message()));
  }
  if (current->distributor.size() != saved.distributor.size() ||
      current->line_levels.size() != saved.line_levels.size() ||
      current->cpus.size() != saved.cpus.size()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: the snapshot's GICv3 has %u distributor registers and %u SPI "
        "words for %u CPUs, this VM's %u and %u for %u (another number of "
        "interrupts)",
        kRestore, saved.distributor.size(), saved.line_levels.size(),
        saved.cpus.size(), current->distributor.size(),
        current->line_levels.size(), current->cpus.size()));
  }
  return absl::OkStatus();
}

// The GIC's CPU interfaces are keyed by MPIDR: each must be the MPIDR_EL1
// saved for its vCPU (which the restore writes before the GIC state), or
// the file contradicts itself.
absl::Status CheckGicMpidrs(const GicState& gic,
                            absl::Span<const VcpuImage> images) {
  for (size_t i = 0; i < images.size() && i < gic.cpus.size(); ++i) {
    for (const auto& [reg, value] : images[i].regs) {
      if (reg != aarch64_sys::kMpidrEl1 || value == gic.cpus[i].mpidr) continue;
      return absl::DataLossError(absl::StrFormat(
          "%s: the snapshot's GIC CPU interface %u is for MPIDR %#x, its vCPU "
          "was saved with MPIDR %#x",
          kRestore, i, gic.cpus[i].mpidr, value));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<VmImage> DecodeAndCheckVm(const SnapshotFile& file,
                                         VmAArch64& vm,
                                         absl::Span<VcpuAArch64* const> vcpus,
                                         absl::Span<const VcpuImage> images) {
  VmImage image;
  if (auto p = Optional(file, Tag::kVmGicV3, 0)) {
    ASSIGN_OR_RETURN(image.gic, DecodeGicState(*p, TagName(Tag::kVmGicV3)));
    RETURN_IF_ERROR(CheckGicFits(vm, vcpus, *image.gic));
    RETURN_IF_ERROR(CheckGicMpidrs(*image.gic, images));
  }
  if (auto p = Optional(file, Tag::kVmGicIts, 0)) {
    ASSIGN_OR_RETURN(image.its, DecodeGicItsState(*p, TagName(Tag::kVmGicIts)));
    // A fresh ITS has no tables yet: reading it writes nothing to RAM.
    absl::StatusOr<GicItsState> current = vm.GetGicItsState();
    if (!current.ok()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: the snapshot has GIC ITS state and this VM cannot take it "
          "(%s)",
          kRestore, current.status().message()));
    }
    if (current->base != image.its->base) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: the snapshot's ITS was at %#x, this VM's is at %#x", kRestore,
          image.its->base, current->base));
    }
  }
  return image;
}

// RestoreOptions::advance_clock_by_downtime: every vCPU's saved CNTVCT_EL0
// moved on by the host real time since the capture (none if the host
// clock now reads earlier), at the counter's frequency, so the guest sees
// the downtime pass. INVALID_ARGUMENT for a file without the clock.
absl::Status AdvanceCounters(const SnapshotFile& file,
                             std::vector<VcpuImage>& images) {
  auto section = Optional(file, Tag::kVmAArch64Clock, 0);
  if (!section.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        kRestore,
        ": advance_clock_by_downtime, but the file does not record when it "
        "was captured (only a capture on an aarch64 host records it)"));
  }
  ASSIGN_OR_RETURN(AArch64CaptureClock clock,
                   DecodeAArch64CaptureClock(*section, TagName(Tag::kVmAArch64Clock)));
  const int64_t now_ns = absl::ToUnixNanos(absl::Now());
  const uint64_t downtime_ns =
      now_ns > 0 && static_cast<uint64_t>(now_ns) > clock.realtime_ns
          ? static_cast<uint64_t>(now_ns) - clock.realtime_ns
          : 0;
  const uint64_t ticks = absl::Uint128Low64(absl::uint128(downtime_ns) *
                                            clock.counter_hz / 1000000000u);
  for (VcpuImage& image : images) {
    for (auto& [reg, value] : image.regs) {
      if (reg == aarch64_sys::kCntvctEl0) value += ticks;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SnapshotFile> CaptureAArch64(
    VmAArch64& vm, absl::Span<VcpuAArch64* const> vcpus,
    absl::Span<const GuestRam> ram, const std::string& backend,
    const CaptureOptions& options) {
  ASSIGN_OR_RETURN(
      SnapshotFile file,
      BeginCapture(Arch::kAArch64, backend, vm, AsVcpus(vcpus), ram, options));
  RETURN_IF_ERROR(ForEachVcpu(
      "snapshot capture", vcpus,
      [&](VcpuAArch64& vcpu, size_t) { return CaptureVcpu(vcpu, file); }));
  // When the counters were read, for a restore that advances them.
  if (const uint64_t hz = HostCounterFrequency(); hz != 0) {
    AArch64CaptureClock clock;
    clock.realtime_ns = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
    clock.counter_hz = hz;
    file.Add(Tag::kVmAArch64Clock, 0, EncodeAArch64CaptureClock(clock));
  }
  RETURN_IF_ERROR(CaptureVmPiece(
      Tag::kVmGicV3, [&] { return vm.GetGicState(vcpus); }, EncodeGicState,
      file));
  // Before the RAM: the ITS writes its tables into it.
  RETURN_IF_ERROR(CaptureVmPiece(
      Tag::kVmGicIts, [&] { return vm.GetGicItsState(); }, EncodeGicItsState,
      file));
  RETURN_IF_ERROR(CaptureRam(vm, ram, options, file));
  return file;
}

absl::Status RestoreAArch64(const SnapshotFile& file, VmAArch64& vm,
                            absl::Span<VcpuAArch64* const> vcpus,
                            absl::Span<const GuestRam> ram,
                            const RestoreOptions& options) {
  const SnapshotFile* chain[] = {&file};
  return RestoreAArch64(chain, vm, vcpus, ram, options);
}

absl::Status RestoreAArch64(absl::Span<const SnapshotFile* const> chain,
                            VmAArch64& vm, absl::Span<VcpuAArch64* const> vcpus,
                            absl::Span<const GuestRam> ram,
                            const RestoreOptions& options) {
  RETURN_IF_ERROR(
      CheckRestoreTarget(chain, Arch::kAArch64, AsVcpus(vcpus), ram, options));
  const SnapshotFile& file = *chain.back();
  ASSIGN_OR_RETURN(std::vector<VcpuImage> images,
                   DecodeVcpuImages(file, vcpus, DecodeVcpu, CheckVcpuTakes));
  if (options.advance_clock_by_downtime) {
    RETURN_IF_ERROR(AdvanceCounters(file, images));
  }
  ASSIGN_OR_RETURN(std::vector<RamWrite> writes,
                   CollectChainRamWrites(chain, ram));
  ASSIGN_OR_RETURN(VmImage vm_image, DecodeAndCheckVm(file, vm, vcpus, images));

  // Everything fits: write it.
  ApplyRamWrites(writes, ram);
  RETURN_IF_ERROR(ForEachVcpu(
      kRestore, vcpus,
      [&](VcpuAArch64& vcpu, size_t i) { return LoadRegs(vcpu, images[i]); }));
  if (vm_image.gic.has_value()) {
    RETURN_IF_ERROR(Within(kRestore, vm.SetGicState(*vm_image.gic, vcpus)));
  }
  if (vm_image.its.has_value()) {
    RETURN_IF_ERROR(Within(kRestore, vm.SetGicItsState(*vm_image.its)));
  }
  return ForEachVcpu(kRestore, vcpus, [&](VcpuAArch64& vcpu, size_t i) {
    if (!images[i].mp_state.has_value()) return absl::OkStatus();
    return Within("set mp state", vcpu.SetMpState(*images[i].mp_state));
  });
}

}  // namespace hv::snapshot
