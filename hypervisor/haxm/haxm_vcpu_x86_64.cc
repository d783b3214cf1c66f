// The x86_64 half of HaxmVcpu: register state, FPU, MSRs, CPUID and
// interrupt injection. Conversions between hv's state types
// (hypervisor/x86_64/regs.h) and HAXM's structs happen only here.
#include <algorithm>
#include <cstddef>
#include <cstring>

#include "absl/strings/str_format.h"
#include "hypervisor/haxm/haxm_vcpu.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/arch_bits.h"
#include "hypervisor/x86_64/state_fields.h"

namespace hv {
namespace {

using haxm_abi::segment_desc_t;
using haxm_abi::vcpu_state_t;

// HAXM's ports reject nr_msr >= HAX_MAX_MSR_ARRAY (0x20).
constexpr size_t kMsrBatch = haxm_abi::kMaxMsrs - 1;

// segment_desc_t.ar is the VMX access-rights word (haxm_abi::kAr*).
static_assert(haxm_abi::kArS == 1u << kAccessRightsSBit &&
                  haxm_abi::kArDplShift == kAccessRightsDplShift &&
                  haxm_abi::kArPresent == 1u << kAccessRightsPresentBit &&
                  haxm_abi::kArAvl == 1u << kAccessRightsAvlBit &&
                  haxm_abi::kArL == 1u << kAccessRightsLBit &&
                  haxm_abi::kArDb == 1u << kAccessRightsDbBit &&
                  haxm_abi::kArG == 1u << kAccessRightsGBit &&
                  haxm_abi::kArUnusable == 1u << kAccessRightsUnusableBit,
              "HAXM's ar is the VMX access-rights word");
Segment FromHaxm(const segment_desc_t& s) {
  Segment out;
  out.base = s.base;
  out.limit = s.limit;
  out.selector = s.selector;
  SetAccessRights(s.ar, out);
  return out;
}

segment_desc_t ToHaxm(const Segment& s) {
  segment_desc_t out = {};
  out.base = s.base;
  out.limit = s.limit;
  out.selector = s.selector;
  out.ar = ToAccessRights(s);
  return out;
}

DescriptorTable TableFromHaxm(const segment_desc_t& s) {
  return {s.base, static_cast<uint16_t>(s.limit)};
}

segment_desc_t TableToHaxm(const DescriptorTable& t) {
  segment_desc_t out = {};
  out.base = t.base;
  out.limit = t.limit;
  return out;
}

}  // namespace

absl::StatusOr<vcpu_state_t> HaxmVcpu::GetState() {
  vcpu_state_t state = {};
  RETURN_IF_ERROR(Ioctl(sys_->platform().codes.vcpu_get_regs, &state, 0,
                        sizeof(state)));
  return state;
}

absl::Status HaxmVcpu::SetState(vcpu_state_t& state) {
  return Ioctl(sys_->platform().codes.vcpu_set_regs, &state, sizeof(state),
               sizeof(state));
}

absl::StatusOr<Regs> HaxmVcpu::GetRegs() {
  ASSIGN_OR_RETURN(vcpu_state_t state, GetState());
  Regs regs;
  // vcpu_state_t.regs is indexed by register number.
  for (int i = 0; i < 16; ++i) regs.*kGprsByNumber[i] = state.regs[i];
  regs.rip = state.rip;
  regs.rflags = state.rflags;
  return regs;
}

absl::Status HaxmVcpu::SetRegs(const Regs& regs) {
  // SET_REGS replaces the whole vcpu_state_t: start from the current one.
  ASSIGN_OR_RETURN(vcpu_state_t state, GetState());
  for (int i = 0; i < 16; ++i) state.regs[i] = regs.*kGprsByNumber[i];
  state.rip = regs.rip;
  state.rflags = regs.rflags;
  return SetState(state);
}

absl::StatusOr<Sregs> HaxmVcpu::GetSregs() {
  ASSIGN_OR_RETURN(vcpu_state_t state, GetState());
  // HAXM's GET_REGS does not report EFER; it and the APIC base are MSRs.
  const uint32_t indices[] = {x86::kMsrEfer, x86::kMsrApicBase};
  ASSIGN_OR_RETURN(std::vector<MsrEntry> msrs, GetMsrs(indices));
  Sregs sregs;
  CopySregsFields(state, sregs, FromHaxm, TableFromHaxm);
  sregs.cr8 = 0;  // vcpu_state_t has no CR8
  sregs.efer = msrs[0].value;
  sregs.apic_base = msrs[1].value;
  return sregs;
}

absl::Status HaxmVcpu::SetSregs(const Sregs& sregs) {
  if (sregs.cr8 != 0) {
    return absl::UnimplementedError(absl::StrFormat(
        "SetSregs (vCPU %u): HAXM's vcpu_state_t has no CR8 (TPR); cr8 %#x "
        "cannot be set",
        id_, sregs.cr8));
  }
  ASSIGN_OR_RETURN(vcpu_state_t state, GetState());
  CopySregsFields(sregs, state, ToHaxm, TableToHaxm);
  state.efer = static_cast<uint32_t>(sregs.efer);
  RETURN_IF_ERROR(SetState(state));
  // After the CRs, so EFER.LMA agrees with CR0.PG when HAXM checks it.
  const MsrEntry msrs[] = {{x86::kMsrEfer, sregs.efer},
                           {x86::kMsrApicBase, sregs.apic_base}};
  return SetMsrs(msrs);
}

// ReadFxsave / WriteFxsave take fx_layout as the FXSAVE image it is; the
// offsets haxm_abi.h does not assert itself.
static_assert(offsetof(haxm_abi::fx_layout, fsw) == 2 &&
                  offsetof(haxm_abi::fx_layout, ftw) == 4 &&
                  offsetof(haxm_abi::fx_layout, fop) == 6 &&
                  offsetof(haxm_abi::fx_layout, mmx_2) == 288,
              "fx_layout is the FXSAVE image");

absl::StatusOr<Fpu> HaxmVcpu::GetFpu() {
  haxm_abi::fx_layout fx = {};
  RETURN_IF_ERROR(
      Ioctl(sys_->platform().codes.vcpu_get_fpu, &fx, 0, sizeof(fx)));
  // SAFETY: fx_layout is the 512-byte FXSAVE image (its offsets are
  // static_assert'ed in haxm_abi.h), a trivially copyable struct read here
  // as bytes.
  return ReadFxsave(reinterpret_cast<const uint8_t*>(&fx));
}

absl::Status HaxmVcpu::SetFpu(const Fpu& fpu) {
  // MXCSR_MASK is the CPU's, not state: keep what HAXM reports.
  haxm_abi::fx_layout fx = {};
  const haxm_abi::IoctlCodes& codes = sys_->platform().codes;
  RETURN_IF_ERROR(Ioctl(codes.vcpu_get_fpu, &fx, 0, sizeof(fx)));
  // SAFETY: as in GetFpu; only the image's bytes for hv's fields change.
  WriteFxsave(fpu, reinterpret_cast<uint8_t*>(&fx));
  return Ioctl(codes.vcpu_set_fpu, &fx, sizeof(fx), 0);
}

absl::StatusOr<DebugRegs> HaxmVcpu::GetDebugRegs() {
  ASSIGN_OR_RETURN(vcpu_state_t state, GetState());
  DebugRegs regs;
  regs.db = {state.dr0, state.dr1, state.dr2, state.dr3};
  regs.dr6 = state.dr6;
  regs.dr7 = state.dr7;
  return regs;
}

absl::Status HaxmVcpu::SetDebugRegs(const DebugRegs& regs) {
  ASSIGN_OR_RETURN(vcpu_state_t state, GetState());
  state.dr0 = regs.db[0];
  state.dr1 = regs.db[1];
  state.dr2 = regs.db[2];
  state.dr3 = regs.db[3];
  state.dr6 = regs.dr6;
  state.dr7 = regs.dr7;
  return SetState(state);
}

absl::StatusOr<std::vector<Xcr>> HaxmVcpu::GetXcrs() {
  return absl::UnimplementedError(
      "GetXcrs: HAXM has no ioctl for extended control registers");
}

absl::Status HaxmVcpu::SetXcrs(absl::Span<const Xcr>) {
  return absl::UnimplementedError(
      "SetXcrs: HAXM has no ioctl for extended control registers");
}

absl::Status HaxmVcpu::MsrBatch(bool set,
                                std::vector<haxm_abi::vmx_msr>& entries) {
  haxm_abi::hax_msr_data data = {};
  data.nr_msr = static_cast<uint16_t>(entries.size());
  // The POSIX port does not copy `done` back for SET_MSRS; a value it
  // cannot have written shows that.
  data.done = 0xffff;
  std::copy(entries.begin(), entries.end(), data.entries);
  const haxm_abi::IoctlCodes& codes = sys_->platform().codes;
  RETURN_IF_ERROR(Ioctl(set ? codes.vcpu_set_msrs : codes.vcpu_get_msrs, &data,
                        sizeof(data), sizeof(data)));
  if (data.done != 0xffff && data.done < entries.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s (vCPU %u): HAXM cannot %s MSR %#x",
        set ? "HAX_VCPU_IOCTL_SET_MSRS" : "HAX_VCPU_IOCTL_GET_MSRS", id_,
        set ? "write" : "read", data.entries[data.done].entry));
  }
  if (!set) {
    if (data.done == 0xffff) {
      return absl::InternalError(absl::StrFormat(
          "HAX_VCPU_IOCTL_GET_MSRS (vCPU %u): HAXM did not report how many "
          "MSRs it read",
          id_));
    }
    std::copy(data.entries, data.entries + entries.size(), entries.begin());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<MsrEntry>> HaxmVcpu::GetMsrs(
    absl::Span<const uint32_t> indices) {
  std::vector<MsrEntry> result;
  result.reserve(indices.size());
  for (size_t start = 0; start < indices.size(); start += kMsrBatch) {
    const size_t n = std::min(kMsrBatch, indices.size() - start);
    std::vector<haxm_abi::vmx_msr> batch(n);
    for (size_t i = 0; i < n; ++i) batch[i].entry = indices[start + i];
    RETURN_IF_ERROR(MsrBatch(false, batch));
    for (const haxm_abi::vmx_msr& msr : batch) {
      result.push_back({static_cast<uint32_t>(msr.entry), msr.value});
    }
  }
  return result;
}

absl::Status HaxmVcpu::SetMsrs(absl::Span<const MsrEntry> msrs) {
  for (size_t start = 0; start < msrs.size(); start += kMsrBatch) {
    const size_t n = std::min(kMsrBatch, msrs.size() - start);
    std::vector<haxm_abi::vmx_msr> batch(n);
    for (size_t i = 0; i < n; ++i) {
      batch[i].entry = msrs[start + i].index;
      batch[i].value = msrs[start + i].value;
    }
    RETURN_IF_ERROR(MsrBatch(true, batch));
  }
  return absl::OkStatus();
}

absl::Status HaxmVcpu::SetCpuid(absl::Span<const CpuidEntry> entries) {
  if (!device_->Has(haxm_abi::kCapCpuid)) {
    return absl::UnimplementedError(
        "SetCpuid: this HAXM lacks HAX_CAP_CPUID (HAX_VCPU_IOCTL_SET_CPUID)");
  }
  if (entries.size() > haxm_abi::kMaxCpuidEntries) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "SetCpuid (vCPU %u): %u entries; HAXM takes at most %u", id_,
        entries.size(), haxm_abi::kMaxCpuidEntries));
  }
  // A hax_cpuid header followed by its entries, in 8-byte words so the
  // buffer is aligned for both.
  const size_t bytes = sizeof(haxm_abi::hax_cpuid) +
                       entries.size() * sizeof(haxm_abi::hax_cpuid_entry);
  std::vector<uint64_t> storage((bytes + 7) / 8, 0);
  uint8_t* buffer = reinterpret_cast<uint8_t*>(storage.data());
  haxm_abi::hax_cpuid header = {};
  header.total = static_cast<uint32_t>(entries.size());
  std::memcpy(buffer, &header, sizeof(header));
  for (size_t i = 0; i < entries.size(); ++i) {
    haxm_abi::hax_cpuid_entry entry = {};
    entry.function = entries[i].function;
    entry.index = entries[i].index;
    // KVM's "significant index" bit, as crosvm hands its flags through.
    entry.flags = entries[i].significant_index ? 1 : 0;
    entry.eax = entries[i].eax;
    entry.ebx = entries[i].ebx;
    entry.ecx = entries[i].ecx;
    entry.edx = entries[i].edx;
    std::memcpy(buffer + sizeof(header) + i * sizeof(entry), &entry,
                sizeof(entry));
  }
  const uint32_t code = sys_->platform().codes.vcpu_set_cpuid;
  if (sys_->platform().kind == haxm_abi::PlatformKind::kPosix) {
    // The POSIX port's argument is the address of a pointer to the
    // variable-length hax_cpuid (its number encodes sizeof(hax_cpuid *)).
    void* pointer = buffer;
    return Ioctl(code, &pointer, sizeof(pointer), 0);
  }
  return Ioctl(code, buffer, static_cast<uint32_t>(bytes), 0);
}

absl::StatusOr<LapicState> HaxmVcpu::GetLapic() {
  return absl::UnimplementedError(
      "GetLapic: HAXM does not expose its local APIC state");
}

absl::Status HaxmVcpu::SetLapic(const LapicState&) {
  return absl::UnimplementedError(
      "SetLapic: HAXM does not expose its local APIC state");
}

absl::Status HaxmVcpu::InjectInterrupt(uint8_t vector) {
  // The same contract as KVM's: HAX_VCPU_IOCTL_INTERRUPT queues the vector
  // whatever the guest's state, so refuse it until HAXM says the guest can
  // take one.
  if (!ReadyForInterrupt()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "inject interrupt %#x: the vCPU cannot take an interrupt now "
        "(hax_tunnel.ready_for_interrupt_injection is 0); request an "
        "interrupt window and inject on the kIrqWindowOpen exit",
        vector));
  }
  uint32_t value = vector;
  return Ioctl(sys_->platform().codes.vcpu_interrupt, &value, sizeof(value), 0,
               absl::StrFormat("vector %u", vector));
}

absl::Status HaxmVcpu::InjectNmi() {
  return absl::UnimplementedError(
      "InjectNmi: HAXM's HAX_VCPU_IOCTL_INTERRUPT queues external interrupt "
      "vectors only");
}

bool HaxmVcpu::ReadyForInterrupt() const {
  return __atomic_load_n(TunnelWord(offsetof(haxm_abi::hax_tunnel,
                                             ready_for_interrupt_injection)),
                         __ATOMIC_SEQ_CST) != 0;
}

void HaxmVcpu::SetInterruptWindowRequested(bool requested) {
  __atomic_store_n(
      TunnelWord(offsetof(haxm_abi::hax_tunnel, request_interrupt_window)),
      requested ? 1u : 0u, __ATOMIC_SEQ_CST);
}

absl::Status HaxmVcpu::SetTscOffset(uint64_t) {
  return absl::UnimplementedError(
      "SetTscOffset: HAXM has no TSC offset control");
}

absl::StatusOr<uint64_t> HaxmVcpu::GetTscOffset() {
  return absl::UnimplementedError(
      "GetTscOffset: HAXM has no TSC offset control");
}

absl::StatusOr<uint32_t> HaxmVcpu::GetTscKhz() {
  return absl::UnimplementedError(
      "GetTscKhz: HAXM does not report the guest TSC frequency");
}

}  // namespace hv
