// WhpxVcpu's register state: hv's Regs / Sregs / Fpu / ... mapped to WHPX
// register names at the edge, each set in one batched call.
#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/whpx/whpx_status.h"
#include "hypervisor/whpx/whpx_vcpu.h"
#include "hypervisor/x86_64/arch_bits.h"
#include "hypervisor/x86_64/state_fields.h"

namespace hv {

using namespace whpx_abi;  // NOLINT: the SDK's names

namespace {

// The general purpose registers in the order of Regs' fields (kRegsFields).
constexpr WHV_REGISTER_NAME kRegsNames[] = {
    WHvX64RegisterRax,    WHvX64RegisterRbx,    WHvX64RegisterRcx,
    WHvX64RegisterRdx,    WHvX64RegisterRsi,    WHvX64RegisterRdi,
    WHvX64RegisterRsp,    WHvX64RegisterRbp,    WHvX64RegisterR8 + 0,
    WHvX64RegisterR8 + 1, WHvX64RegisterR8 + 2, WHvX64RegisterR8 + 3,
    WHvX64RegisterR8 + 4, WHvX64RegisterR8 + 5, WHvX64RegisterR8 + 6,
    WHvX64RegisterR15,    WHvX64RegisterRip,    WHvX64RegisterRflags,
};
constexpr size_t kRegsCount = sizeof(kRegsNames) / sizeof(kRegsNames[0]);

static_assert(kRegsCount == sizeof(kRegsFields) / sizeof(kRegsFields[0]),
              "kRegsNames follows Regs' field order (kRegsFields)");

constexpr WHV_REGISTER_NAME kSregsNames[] = {
    WHvX64RegisterCs,   WHvX64RegisterDs,      WHvX64RegisterEs,
    WHvX64RegisterFs,   WHvX64RegisterGs,      WHvX64RegisterSs,
    WHvX64RegisterTr,   WHvX64RegisterLdtr,    WHvX64RegisterGdtr,
    WHvX64RegisterIdtr, WHvX64RegisterCr0,     WHvX64RegisterCr2,
    WHvX64RegisterCr3,  WHvX64RegisterCr4,     WHvX64RegisterCr8,
    WHvX64RegisterEfer, WHvX64RegisterApicBase,
};
constexpr size_t kSregsCount = sizeof(kSregsNames) / sizeof(kSregsNames[0]);

// Attributes are the low 16 bits of the VMX access-rights word
// (whpx_abi::kSeg*), without its "unusable" bit 16.
static_assert(kSegTypeShift == 0 && kSegNonSystemBit == kAccessRightsSBit &&
                  kSegDplShift == kAccessRightsDplShift &&
                  kSegPresentBit == kAccessRightsPresentBit &&
                  kSegAvailableBit == kAccessRightsAvlBit &&
                  kSegLongBit == kAccessRightsLBit &&
                  kSegDefaultBit == kAccessRightsDbBit &&
                  kSegGranularityBit == kAccessRightsGBit,
              "WHPX's segment Attributes are the VMX access-rights layout");
WHV_X64_SEGMENT_REGISTER ToWhpx(const Segment& s) {
  WHV_X64_SEGMENT_REGISTER r = {};
  r.Base = s.base;
  r.Limit = s.limit;
  r.Selector = s.selector;
  // WHPX has no "unusable" bit: an unusable segment is a non-present one.
  Segment attributes = s;
  attributes.present = s.present && !s.unusable;
  r.Attributes = static_cast<uint16_t>(ToAccessRights(attributes));
  return r;
}

Segment FromWhpx(const WHV_X64_SEGMENT_REGISTER& r) {
  Segment s;
  s.base = r.Base;
  s.limit = r.Limit;
  s.selector = r.Selector;
  SetAccessRights(r.Attributes, s);
  s.unusable = !s.present;
  return s;
}

// MSR index -> WHPX register (the MSRs WHPX exposes as registers).
struct MsrName {
  uint32_t index;
  WHV_REGISTER_NAME name;
};
constexpr MsrName kMsrNames[] = {
    {0x10, WHvX64RegisterTsc},          {0x1b, WHvX64RegisterApicBase},
    {0x174, WHvX64RegisterSysenterCs},  {0x175, WHvX64RegisterSysenterEsp},
    {0x176, WHvX64RegisterSysenterEip}, {0x277, WHvX64RegisterPat},
    {0xc0000080, WHvX64RegisterEfer},   {0xc0000081, WHvX64RegisterStar},
    {0xc0000082, WHvX64RegisterLstar},  {0xc0000083, WHvX64RegisterCstar},
    {0xc0000084, WHvX64RegisterSfmask}, {0xc0000102, WHvX64RegisterKernelGsBase},
    {0xc0000103, WHvX64RegisterTscAux},
};

absl::StatusOr<WHV_REGISTER_NAME> MsrRegister(const char* operation,
                                              uint32_t index) {
  for (const MsrName& msr : kMsrNames) {
    if (msr.index == index) return msr.name;
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: MSR %#x is not one WHPX exposes as a register", operation, index));
}

}  // namespace

absl::Status WhpxVcpu::GetRegisters(const char* what,
                                    absl::Span<const WHV_REGISTER_NAME> names,
                                    absl::Span<WHV_REGISTER_VALUE> values) const {
  return HResultStatus(
      absl::StrFormat("WHvGetVirtualProcessorRegisters (vCPU %u, %s)", id_,
                      what),
      api_.WHvGetVirtualProcessorRegisters(partition_->handle(), id_,
                                           names.data(),
                                           static_cast<uint32_t>(names.size()),
                                           values.data()));
}

absl::Status WhpxVcpu::SetRegisters(
    const char* what, absl::Span<const WHV_REGISTER_NAME> names,
    absl::Span<const WHV_REGISTER_VALUE> values) {
  return HResultStatus(
      absl::StrFormat("WHvSetVirtualProcessorRegisters (vCPU %u, %s)", id_,
                      what),
      api_.WHvSetVirtualProcessorRegisters(partition_->handle(), id_,
                                           names.data(),
                                           static_cast<uint32_t>(names.size()),
                                           values.data()));
}

absl::StatusOr<Regs> WhpxVcpu::GetRegs() {
  WHV_REGISTER_VALUE values[kRegsCount] = {};
  RETURN_IF_ERROR(GetRegisters("regs", kRegsNames, values));
  Regs regs;
  for (size_t i = 0; i < kRegsCount; ++i) regs.*kRegsFields[i] = values[i].Reg64;
  return regs;
}

absl::Status WhpxVcpu::SetRegs(const Regs& regs) {
  WHV_REGISTER_VALUE values[kRegsCount] = {};
  for (size_t i = 0; i < kRegsCount; ++i) values[i].Reg64 = regs.*kRegsFields[i];
  return SetRegisters("regs", kRegsNames, values);
}

absl::StatusOr<Sregs> WhpxVcpu::GetSregs() {
  WHV_REGISTER_VALUE v[kSregsCount] = {};
  RETURN_IF_ERROR(GetRegisters("sregs", kSregsNames, v));
  Sregs s;
  for (int i = 0; i < 8; ++i) s.*kSregsSegments[i] = FromWhpx(v[i].Segment);
  s.gdt.base = v[8].Table.Base;
  s.gdt.limit = v[8].Table.Limit;
  s.idt.base = v[9].Table.Base;
  s.idt.limit = v[9].Table.Limit;
  s.cr0 = v[10].Reg64;
  s.cr2 = v[11].Reg64;
  s.cr3 = v[12].Reg64;
  s.cr4 = v[13].Reg64;
  s.cr8 = v[14].Reg64;
  s.efer = v[15].Reg64;
  s.apic_base = v[16].Reg64;
  return s;
}

absl::Status WhpxVcpu::SetSregs(const Sregs& s) {
  WHV_REGISTER_VALUE v[kSregsCount] = {};
  for (int i = 0; i < 8; ++i) v[i].Segment = ToWhpx(s.*kSregsSegments[i]);
  v[8].Table.Base = s.gdt.base;
  v[8].Table.Limit = s.gdt.limit;
  v[9].Table.Base = s.idt.base;
  v[9].Table.Limit = s.idt.limit;
  v[10].Reg64 = s.cr0;
  v[11].Reg64 = s.cr2;
  v[12].Reg64 = s.cr3;
  v[13].Reg64 = s.cr4;
  v[14].Reg64 = s.cr8;
  v[15].Reg64 = s.efer;
  v[16].Reg64 = s.apic_base;
  return SetRegisters("sregs", kSregsNames, v);
}

namespace {

// FpMmx0-7, FpControlStatus, XmmControlStatus, Xmm0-15.
constexpr size_t kFpuCount = 8 + 2 + 16;

void FpuNames(WHV_REGISTER_NAME* names) {
  for (int i = 0; i < 8; ++i) names[i] = WHvX64RegisterFpMmx0 + i;
  names[8] = WHvX64RegisterFpControlStatus;
  names[9] = WHvX64RegisterXmmControlStatus;
  for (int i = 0; i < 16; ++i) names[10 + i] = WHvX64RegisterXmm0 + i;
}

}  // namespace

absl::StatusOr<Fpu> WhpxVcpu::GetFpu() {
  WHV_REGISTER_NAME names[kFpuCount];
  FpuNames(names);
  WHV_REGISTER_VALUE v[kFpuCount] = {};
  RETURN_IF_ERROR(GetRegisters("fpu", names, v));
  Fpu fpu;
  for (int i = 0; i < 8; ++i) std::memcpy(fpu.fpr[i].data(), &v[i].Reg128, 16);
  fpu.fcw = v[8].FpControlStatus.FpControl;
  fpu.fsw = v[8].FpControlStatus.FpStatus;
  fpu.ftwx = v[8].FpControlStatus.FpTag;
  fpu.last_opcode = v[8].FpControlStatus.LastFpOp;
  fpu.last_ip = v[8].FpControlStatus.LastFpRip;
  fpu.last_dp = v[9].XmmControlStatus.LastFpRdp;
  fpu.mxcsr = v[9].XmmControlStatus.XmmStatusControl;
  for (int i = 0; i < 16; ++i) {
    std::memcpy(fpu.xmm[i].data(), &v[10 + i].Reg128, 16);
  }
  return fpu;
}

absl::Status WhpxVcpu::SetFpu(const Fpu& fpu) {
  WHV_REGISTER_NAME names[kFpuCount];
  FpuNames(names);
  WHV_REGISTER_VALUE v[kFpuCount] = {};
  // Keep WHPX's MXCSR_MASK (read-only state hv's Fpu does not carry).
  RETURN_IF_ERROR(GetRegisters("fpu (MXCSR mask)", {&names[9], 1}, {&v[9], 1}));
  for (int i = 0; i < 8; ++i) std::memcpy(&v[i].Reg128, fpu.fpr[i].data(), 16);
  v[8].FpControlStatus.FpControl = fpu.fcw;
  v[8].FpControlStatus.FpStatus = fpu.fsw;
  v[8].FpControlStatus.FpTag = fpu.ftwx;
  v[8].FpControlStatus.LastFpOp = fpu.last_opcode;
  v[8].FpControlStatus.LastFpRip = fpu.last_ip;
  v[9].XmmControlStatus.LastFpRdp = fpu.last_dp;
  v[9].XmmControlStatus.XmmStatusControl = fpu.mxcsr;
  for (int i = 0; i < 16; ++i) {
    std::memcpy(&v[10 + i].Reg128, fpu.xmm[i].data(), 16);
  }
  return SetRegisters("fpu", names, v);
}

namespace {
constexpr WHV_REGISTER_NAME kDebugNames[] = {
    WHvX64RegisterDr0, WHvX64RegisterDr1, WHvX64RegisterDr2,
    WHvX64RegisterDr3, WHvX64RegisterDr6, WHvX64RegisterDr7};
}  // namespace

absl::StatusOr<DebugRegs> WhpxVcpu::GetDebugRegs() {
  WHV_REGISTER_VALUE v[6] = {};
  RETURN_IF_ERROR(GetRegisters("debug registers", kDebugNames, v));
  DebugRegs regs;
  for (int i = 0; i < 4; ++i) regs.db[i] = v[i].Reg64;
  regs.dr6 = v[4].Reg64;
  regs.dr7 = v[5].Reg64;
  return regs;
}

absl::Status WhpxVcpu::SetDebugRegs(const DebugRegs& regs) {
  WHV_REGISTER_VALUE v[6] = {};
  for (int i = 0; i < 4; ++i) v[i].Reg64 = regs.db[i];
  v[4].Reg64 = regs.dr6;
  v[5].Reg64 = regs.dr7;
  return SetRegisters("debug registers", kDebugNames, v);
}

absl::StatusOr<std::vector<Xcr>> WhpxVcpu::GetXcrs() {
  if ((partition_->caps().features & kFeatureXsave) == 0) {
    return absl::UnimplementedError(
        "get XCRs: this WHPX does not offer XSAVE state (no Xsave feature)");
  }
  const WHV_REGISTER_NAME name = WHvX64RegisterXCr0;
  WHV_REGISTER_VALUE value = {};
  RETURN_IF_ERROR(GetRegisters("XCR0", {&name, 1}, {&value, 1}));
  return std::vector<Xcr>{Xcr{0, value.Reg64}};
}

absl::Status WhpxVcpu::SetXcrs(absl::Span<const Xcr> xcrs) {
  if ((partition_->caps().features & kFeatureXsave) == 0) {
    return absl::UnimplementedError(
        "set XCRs: this WHPX does not offer XSAVE state (no Xsave feature)");
  }
  std::vector<WHV_REGISTER_NAME> names;
  std::vector<WHV_REGISTER_VALUE> values;
  for (const Xcr& xcr : xcrs) {
    if (xcr.index != 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "set XCRs: XCR%u is not settable through WHPX (only XCR0)",
          xcr.index));
    }
    names.push_back(WHvX64RegisterXCr0);
    WHV_REGISTER_VALUE value = {};
    value.Reg64 = xcr.value;
    values.push_back(value);
  }
  if (names.empty()) return absl::OkStatus();
  return SetRegisters("XCR0", names, values);
}

absl::StatusOr<std::vector<MsrEntry>> WhpxVcpu::GetMsrs(
    absl::Span<const uint32_t> indices) {
  std::vector<WHV_REGISTER_NAME> names;
  for (uint32_t index : indices) {
    ASSIGN_OR_RETURN(WHV_REGISTER_NAME name, MsrRegister("get MSRs", index));
    names.push_back(name);
  }
  std::vector<WHV_REGISTER_VALUE> values(names.size());
  std::vector<MsrEntry> msrs;
  if (names.empty()) return msrs;
  RETURN_IF_ERROR(GetRegisters("MSRs", names, absl::MakeSpan(values)));
  for (size_t i = 0; i < indices.size(); ++i) {
    msrs.push_back(MsrEntry{indices[i], values[i].Reg64});
  }
  return msrs;
}

absl::Status WhpxVcpu::SetMsrs(absl::Span<const MsrEntry> msrs) {
  std::vector<WHV_REGISTER_NAME> names;
  std::vector<WHV_REGISTER_VALUE> values;
  for (const MsrEntry& msr : msrs) {
    ASSIGN_OR_RETURN(WHV_REGISTER_NAME name, MsrRegister("set MSRs", msr.index));
    names.push_back(name);
    WHV_REGISTER_VALUE value = {};
    value.Reg64 = msr.value;
    values.push_back(value);
  }
  if (names.empty()) return absl::OkStatus();
  return SetRegisters("MSRs", names, values);
}

absl::Status WhpxVcpu::SetCpuid(absl::Span<const CpuidEntry> entries) {
  if ((partition_->extended_exits() & kExtendedExitX64Cpuid) == 0) {
    return absl::UnimplementedError(
        "set CPUID: this WHPX offers no CPUID exits (X64CpuidExit), so hv "
        "cannot answer the guest's CPUID");
  }
  cpuid_.assign(entries.begin(), entries.end());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> WhpxVcpu::ReadLapicPage(
    const char* what) {
  if (api_.WHvGetVirtualProcessorInterruptControllerState2 == nullptr ||
      api_.WHvSetVirtualProcessorInterruptControllerState2 == nullptr) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: this winhvplatform.dll has no "
        "WHv{Get,Set}VirtualProcessorInterruptControllerState2 (Windows 10 "
        "2004 and later)",
        what));
  }
  if ((partition_->caps().features & kFeatureLocalApicEmulation) == 0) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: this WHPX does not emulate local APICs (no LocalApicEmulation "
        "feature); the VMM has the APIC",
        what));
  }
  if (!partition_->LocalApicEmulation()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: the VM has no in-kernel irqchip (CreateIrqChip(kSplit) turns on "
        "WHPX's local APIC emulation); the VMM has the APIC",
        what));
  }
  std::vector<uint8_t> page(kLapicStateSize);
  uint32_t written = 0;
  RETURN_IF_ERROR(HResultStatus(
      absl::StrFormat(
          "WHvGetVirtualProcessorInterruptControllerState2 (vCPU %u, %u bytes)",
          id(), kLapicStateSize),
      api_.WHvGetVirtualProcessorInterruptControllerState2(
          partition_->handle(), id(), page.data(), kLapicStateSize,
          &written)));
  if (written < sizeof(LapicState::regs)) {
    return absl::InternalError(absl::StrFormat(
        "%s: WHvGetVirtualProcessorInterruptControllerState2 wrote %u bytes, "
        "fewer than the %u of the APIC's registers",
        what, written, sizeof(LapicState::regs)));
  }
  return page;
}

// hv's LapicState is the first 1 KiB of the xAPIC register page (KVM's
// kvm_lapic_state: registers 0x000-0x3f0, 16 bytes apart); WHPX's state is
// the whole 4 KiB page in the same layout, whose rest is reserved.
absl::StatusOr<LapicState> WhpxVcpu::GetLapic() {
  ASSIGN_OR_RETURN(std::vector<uint8_t> page, ReadLapicPage("get local APIC"));
  LapicState state;
  std::memcpy(state.regs.data(), page.data(), state.regs.size());
  return state;
}

absl::Status WhpxVcpu::SetLapic(const LapicState& state) {
  // The page's reserved rest is written back as WHPX has it.
  ASSIGN_OR_RETURN(std::vector<uint8_t> page, ReadLapicPage("set local APIC"));
  std::memcpy(page.data(), state.regs.data(), state.regs.size());
  return HResultStatus(
      absl::StrFormat(
          "WHvSetVirtualProcessorInterruptControllerState2 (vCPU %u, %u bytes)",
          id(), kLapicStateSize),
      api_.WHvSetVirtualProcessorInterruptControllerState2(
          partition_->handle(), id(), page.data(), kLapicStateSize));
}

namespace {

WHV_REGISTER_VALUE PendingInterruption(uint64_t type, uint8_t vector) {
  WHV_REGISTER_VALUE value = {};
  value.Reg64 = kPendingInterruptionPending |
                (type << kPendingInterruptionTypeShift) |
                (uint64_t{vector} << kPendingInterruptionVectorShift);
  return value;
}

}  // namespace

absl::Status WhpxVcpu::InjectInterrupt(uint8_t vector) {
  // ReadyForInterrupt()'s three registers, read once: a vector is queued
  // only when the guest can take it (the contract KVM and HAXM keep too).
  const WHV_REGISTER_NAME names[] = {WHvRegisterPendingInterruption,
                                     WHvX64RegisterRflags,
                                     WHvRegisterInterruptState};
  WHV_REGISTER_VALUE v[3] = {};
  RETURN_IF_ERROR(GetRegisters("pending interruption", names, v));
  const WHV_REGISTER_VALUE& current = v[0];
  if (current.Reg64 & kPendingInterruptionPending) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "inject interrupt %u (vCPU %u): an event is already pending "
        "(WHvRegisterPendingInterruption %#x); wait for the interrupt window",
        vector, id_, current.Reg64));
  }
  if ((v[1].Reg64 & x86::kRflagsIf) == 0 ||
      (v[2].Reg64 & kInterruptStateShadow) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "inject interrupt %u (vCPU %u): the guest cannot take an interrupt "
        "now (RFLAGS %#x, interrupt shadow %u); request an interrupt window "
        "and inject on the kIrqWindowOpen exit",
        vector, id_, v[1].Reg64, (v[2].Reg64 & kInterruptStateShadow) ? 1 : 0));
  }
  const WHV_REGISTER_NAME name = WHvRegisterPendingInterruption;
  const WHV_REGISTER_VALUE value =
      PendingInterruption(WHvX64PendingInterrupt, vector);
  return SetRegisters("pending interruption", {&name, 1}, {&value, 1});
}

absl::Status WhpxVcpu::InjectNmi() {
  const WHV_REGISTER_NAME name = WHvRegisterPendingInterruption;
  const WHV_REGISTER_VALUE value = PendingInterruption(WHvX64PendingNmi, 2);
  return SetRegisters("pending NMI", {&name, 1}, {&value, 1});
}

bool WhpxVcpu::ReadyForInterrupt() const {
  const WHV_REGISTER_NAME names[] = {WHvX64RegisterRflags,
                                     WHvRegisterInterruptState,
                                     WHvRegisterPendingInterruption};
  WHV_REGISTER_VALUE v[3] = {};
  if (!GetRegisters("interrupt readiness", names, v).ok()) return false;
  return (v[0].Reg64 & x86::kRflagsIf) != 0 &&
         (v[1].Reg64 & kInterruptStateShadow) == 0 &&
         (v[2].Reg64 & kPendingInterruptionPending) == 0;
}

void WhpxVcpu::SetInterruptWindowRequested(bool requested) {
  if (requested == window_requested_) return;
  window_requested_ = requested;
  window_register_stale_ = true;  // written before the next entry
}

absl::Status WhpxVcpu::SetTscOffset(uint64_t) {
  return absl::UnimplementedError(
      "set TSC offset: hv does not expose WHPX's TSC control "
      "(HypervisorCap::kTscControl is false)");
}

absl::StatusOr<uint64_t> WhpxVcpu::GetTscOffset() {
  return absl::UnimplementedError(
      "get TSC offset: hv does not expose WHPX's TSC control "
      "(HypervisorCap::kTscControl is false)");
}

absl::StatusOr<uint32_t> WhpxVcpu::GetTscKhz() {
  const uint64_t hz = partition_->caps().processor_clock_hz;
  if (hz == 0) {
    return absl::UnavailableError(
        "get TSC kHz: WHvGetCapability (ProcessorClockFrequency) gave no "
        "frequency on this host");
  }
  return static_cast<uint32_t>(hz / 1000);
}

size_t WhpxVcpu::XsaveSize() const {
  if (!partition_->caps().xsave_state) return 0;
  // Every component XCR0 can enable fits (CPUID.(EAX=0DH,ECX=0):ECX); at
  // least 4096 bytes, as KVM's image.
  return std::max<size_t>(4096, partition_->caps().xsave_layout.standard_size);
}

absl::StatusOr<std::vector<uint8_t>> WhpxVcpu::ReadCompactedXsave(
    const char* what) {
  // The size first: a 0-byte buffer is WHV_E_INSUFFICIENT_BUFFER with the
  // size WHPX needs.
  uint8_t probe = 0;
  uint32_t needed = 0;
  const HRESULT hr = api_.WHvGetVirtualProcessorXsaveState(
      partition_->handle(), id(), &probe, 0, &needed);
  if (hr != kWhvEInsufficientBuffer) {
    RETURN_IF_ERROR(HResultStatus(
        absl::StrFormat("%s: WHvGetVirtualProcessorXsaveState (vp %u, size 0)",
                        what, id()),
        hr));
    return absl::InternalError(absl::StrFormat(
        "%s: WHvGetVirtualProcessorXsaveState (vp %u) accepted a 0-byte "
        "buffer",
        what, id()));
  }
  if (needed < kXsaveExtendedOffset) {
    return absl::InternalError(absl::StrFormat(
        "%s: WHvGetVirtualProcessorXsaveState (vp %u) asks for %u bytes, less "
        "than an XSAVE area's legacy region and header",
        what, id(), needed));
  }
  std::vector<uint8_t> image(needed);
  uint32_t written = 0;
  RETURN_IF_ERROR(HResultStatus(
      absl::StrFormat("%s: WHvGetVirtualProcessorXsaveState (vp %u, size %u)",
                      what, id(), needed),
      api_.WHvGetVirtualProcessorXsaveState(partition_->handle(), id(),
                                            image.data(), needed, &written)));
  // The image is what WHPX wrote (its XCOMP_BV says how much that must be;
  // CompactedToStandard checks).
  if (written < kXsaveExtendedOffset || written > needed) {
    return absl::InternalError(absl::StrFormat(
        "%s: WHvGetVirtualProcessorXsaveState (vp %u) wrote %u bytes into a "
        "%u-byte buffer",
        what, id(), written, needed));
  }
  image.resize(written);
  return image;
}

absl::StatusOr<std::vector<uint8_t>> WhpxVcpu::GetXsave() {
  if (!partition_->caps().xsave_state) return VcpuX86_64::GetXsave();
  ASSIGN_OR_RETURN(std::vector<uint8_t> compacted,
                   ReadCompactedXsave("get xsave"));
  absl::StatusOr<std::vector<uint8_t>> standard = CompactedToStandard(
      partition_->caps().xsave_layout, compacted, XsaveSize());
  if (!standard.ok()) {
    return absl::Status(standard.status().code(),
                        absl::StrCat("get xsave: WHPX's image: ",
                                     standard.status().message()));
  }
  return standard;
}

absl::Status WhpxVcpu::SetXsave(absl::Span<const uint8_t> image) {
  if (!partition_->caps().xsave_state) return VcpuX86_64::SetXsave(image);
  if (image.size() != XsaveSize()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "set xsave: the image is %u bytes; this vCPU's XSAVE image "
        "(XsaveSize()) is %u bytes",
        image.size(), XsaveSize()));
  }
  ASSIGN_OR_RETURN(std::vector<uint8_t> current,
                   ReadCompactedXsave("set xsave"));
  uint64_t xcomp_bv;
  std::memcpy(&xcomp_bv, current.data() + kXsaveXcompBvOffset,
              sizeof(xcomp_bv));
  if ((xcomp_bv & kXcompBvCompacted) == 0) {
    return absl::InternalError(absl::StrFormat(
        "set xsave: WHvGetVirtualProcessorXsaveState (vp %u) gave XCOMP_BV "
        "0x%x, not a compacted image",
        id(), xcomp_bv));
  }
  absl::StatusOr<std::vector<uint8_t>> compacted =
      StandardToCompacted(partition_->caps().xsave_layout, image, xcomp_bv);
  if (!compacted.ok()) {
    return absl::Status(
        compacted.status().code(),
        absl::StrCat("set xsave: ", compacted.status().message()));
  }
  return HResultStatus(
      absl::StrFormat("set xsave: WHvSetVirtualProcessorXsaveState (vp %u, "
                      "size %u)",
                      id(), compacted->size()),
      api_.WHvSetVirtualProcessorXsaveState(partition_->handle(), id(),
                                            compacted->data(),
                                            compacted->size()));
}

}  // namespace hv
