// KvmVcpuX86_64: register state, MSRs, CPUID, the local APIC,
// interrupt injection and the TSC. Conversions between hv's state types
// (hypervisor/x86_64/regs.h) and the kernel's structs happen only here.
#include "hypervisor/kvm/kvm_vcpu_x86_64.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "hypervisor/kvm/kvm_abi_x86_64.h"
#include "hypervisor/kvm/kvm_ioctl.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/state_fields.h"

namespace hv {
namespace {

// Writes `fpu` into the legacy FXSAVE area that starts an XSAVE image
// (Intel SDM Vol. 1, Section 10.5.1) and marks x87 and SSE state present
// in the XSAVE header's XSTATE_BV at byte 512 (Section 13.4.2), so the
// kernel loads what was written. Reading needs no more than ReadFxsave():
// the kernel fills components absent from XSTATE_BV with their init
// values.
void WriteLegacyArea(const Fpu& fpu, uint8_t* image) {
  WriteFxsave(fpu, image);
  uint64_t xstate_bv;
  std::memcpy(&xstate_bv, image + 512, 8);
  xstate_bv |= 0x3;  // bit 0: x87, bit 1: SSE
  std::memcpy(image + 512, &xstate_bv, 8);
}

// hv's Regs, Segment and Fpu and the kernel's kvm_regs, kvm_segment and
// kvm_fpu name their fields alike: each Copy* serves both directions
// (From/To are hv's type and the kernel's, either way round).
template <typename From, typename To>
void CopyRegs(const From& from, To& to) {
  to.rax = from.rax;
  to.rbx = from.rbx;
  to.rcx = from.rcx;
  to.rdx = from.rdx;
  to.rsi = from.rsi;
  to.rdi = from.rdi;
  to.rsp = from.rsp;
  to.rbp = from.rbp;
  to.r8 = from.r8;
  to.r9 = from.r9;
  to.r10 = from.r10;
  to.r11 = from.r11;
  to.r12 = from.r12;
  to.r13 = from.r13;
  to.r14 = from.r14;
  to.r15 = from.r15;
  to.rip = from.rip;
  to.rflags = from.rflags;
}

// kvm_segment's flags are __u8 (0 or 1 from the kernel); hv's are bool.
template <typename From, typename To>
void CopySegment(const From& from, To& to) {
  to.base = from.base;
  to.limit = from.limit;
  to.selector = from.selector;
  to.type = from.type;
  to.present = from.present != 0;
  to.dpl = from.dpl;
  to.db = from.db != 0;
  to.s = from.s != 0;
  to.l = from.l != 0;
  to.g = from.g != 0;
  to.avl = from.avl != 0;
  to.unusable = from.unusable != 0;
}

// kvm_fpu's arrays are __u8[16] per register; hv's std::array.
template <typename From, typename To>
void CopyFpu(const From& from, To& to) {
  for (int i = 0; i < 8; ++i) {
    std::memcpy(std::data(to.fpr[i]), std::data(from.fpr[i]), 16);
  }
  to.fcw = from.fcw;
  to.fsw = from.fsw;
  to.ftwx = from.ftwx;
  to.last_opcode = from.last_opcode;
  to.last_ip = from.last_ip;
  to.last_dp = from.last_dp;
  for (int i = 0; i < 16; ++i) {
    std::memcpy(std::data(to.xmm[i]), std::data(from.xmm[i]), 16);
  }
  to.mxcsr = from.mxcsr;
}

Segment FromKvm(const kvm_segment& s) {
  Segment out;
  CopySegment(s, out);
  return out;
}

kvm_segment ToKvm(const Segment& s) {
  kvm_segment out = {};
  CopySegment(s, out);
  return out;
}

DescriptorTable FromKvm(const kvm_dtable& t) { return {t.base, t.limit}; }

kvm_dtable ToKvm(const DescriptorTable& t) {
  kvm_dtable out = {};
  out.base = t.base;
  out.limit = t.limit;
  return out;
}

constexpr auto kFromKvm = [](const auto& field) { return FromKvm(field); };
constexpr auto kToKvm = [](const auto& field) { return ToKvm(field); };

}  // namespace

absl::StatusOr<std::unique_ptr<KvmVcpuX86_64>> KvmVcpuX86_64::Create(
    std::shared_ptr<const KvmDevice> device, int vm_fd, uint32_t id) {
  ASSIGN_OR_RETURN(KvmVcpuFd vcpu, OpenKvmVcpu(*device, vm_fd, id));
  return std::unique_ptr<KvmVcpuX86_64>(
      new KvmVcpuX86_64(std::move(device), std::move(vcpu), id));
}

void KvmVcpuX86_64::DecodeDebugExit(const kvm_run& run, VcpuExit& exit) const {
  exit.code = run.debug.arch.exception;
  exit.data = run.debug.arch.pc;
  exit.debug.address = run.debug.arch.pc;
  exit.debug.exception = run.debug.arch.exception;
  exit.debug.dr6 = run.debug.arch.dr6;
  exit.debug.dr7 = run.debug.arch.dr7;
}

absl::StatusOr<Regs> KvmVcpuX86_64::GetRegs() {
  kvm_regs r = {};
  RETURN_IF_ERROR(KvmIoctl(sys_, fd_.get(), KVM_GET_REGS, &r, "KVM_GET_REGS"));
  Regs regs;
  CopyRegs(r, regs);
  return regs;
}

absl::Status KvmVcpuX86_64::SetRegs(const Regs& regs) {
  kvm_regs r = {};
  CopyRegs(regs, r);
  return KvmIoctl(sys_, fd_.get(), KVM_SET_REGS, &r, "KVM_SET_REGS");
}

absl::StatusOr<Sregs> KvmVcpuX86_64::GetSregs() {
  kvm_sregs s = {};
  RETURN_IF_ERROR(
      KvmIoctl(sys_, fd_.get(), KVM_GET_SREGS, &s, "KVM_GET_SREGS"));
  Sregs sregs;
  CopySregsFields(s, sregs, kFromKvm, kFromKvm);
  sregs.cr8 = s.cr8;
  sregs.efer = s.efer;
  sregs.apic_base = s.apic_base;
  return sregs;
}

absl::Status KvmVcpuX86_64::SetSregs(const Sregs& sregs) {
  // KVM_SET_SREGS also sets the pending-interrupt bitmap (without an
  // in-kernel irqchip), which hv's Sregs does not carry: read it first so a
  // queued interrupt survives. Costs one extra vCPU ioctl.
  kvm_sregs s = {};
  RETURN_IF_ERROR(
      KvmIoctl(sys_, fd_.get(), KVM_GET_SREGS, &s, "KVM_GET_SREGS"));
  CopySregsFields(sregs, s, kToKvm, kToKvm);
  s.cr8 = sregs.cr8;
  s.efer = sregs.efer;
  s.apic_base = sregs.apic_base;
  return KvmIoctl(sys_, fd_.get(), KVM_SET_SREGS, &s, "KVM_SET_SREGS");
}

absl::StatusOr<Fpu> KvmVcpuX86_64::GetFpu() {
  if (device_->caps.xsave) {
    // KVM_GET_FPU leaves mxcsr out; the XSAVE image has the whole legacy
    // area, so one ioctl serves (the mirror of SetFpu).
    ASSIGN_OR_RETURN(std::vector<uint8_t> xsave, GetXsave());
    return ReadFxsave(xsave.data());
  }
  kvm_fpu f = {};
  RETURN_IF_ERROR(KvmIoctl(sys_, fd_.get(), KVM_GET_FPU, &f, "KVM_GET_FPU"));
  Fpu fpu;
  CopyFpu(f, fpu);
  return fpu;
}

absl::Status KvmVcpuX86_64::SetFpu(const Fpu& fpu) {
  if (device_->caps.xsave) {
    // KVM_SET_FPU does not load mxcsr, so with XSAVE the whole legacy area
    // goes through the XSAVE image instead.
    ASSIGN_OR_RETURN(std::vector<uint8_t> xsave, GetXsave());
    WriteLegacyArea(fpu, xsave.data());
    return KvmIoctl(sys_, fd_.get(), kvm_abi::kSetXsave, xsave.data(),
                    "KVM_SET_XSAVE");
  }
  kvm_fpu f = {};
  CopyFpu(fpu, f);
  return KvmIoctl(sys_, fd_.get(), KVM_SET_FPU, &f, "KVM_SET_FPU");
}

absl::StatusOr<DebugRegs> KvmVcpuX86_64::GetDebugRegs() {
  kvm_debugregs d = {};
  RETURN_IF_ERROR(
      KvmIoctl(sys_, fd_.get(), KVM_GET_DEBUGREGS, &d, "KVM_GET_DEBUGREGS"));
  DebugRegs regs;
  for (int i = 0; i < 4; ++i) regs.db[i] = d.db[i];
  regs.dr6 = d.dr6;
  regs.dr7 = d.dr7;
  return regs;
}

absl::Status KvmVcpuX86_64::SetDebugRegs(const DebugRegs& regs) {
  kvm_debugregs d = {};
  for (int i = 0; i < 4; ++i) d.db[i] = regs.db[i];
  d.dr6 = regs.dr6;
  d.dr7 = regs.dr7;
  return KvmIoctl(sys_, fd_.get(), KVM_SET_DEBUGREGS, &d, "KVM_SET_DEBUGREGS");
}

absl::Status KvmVcpuX86_64::CheckXcrs(absl::string_view operation) const {
  if (device_->caps.xcrs == 0) {
    return absl::UnimplementedError(
        absl::StrCat(operation, ": this KVM lacks KVM_CAP_XCRS"));
  }
  if (!device_->XcrsHonoured()) {
    return absl::UnimplementedError(absl::StrCat(
        operation,
        ": this KVM accepts KVM_SET_XCRS but its guests do not see the XCR0 "
        "it sets (a probe's XGETBV disagreed; kvm_pvm does this), so "
        "HypervisorCap::kXcrs is false"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Xcr>> KvmVcpuX86_64::GetXcrs() {
  RETURN_IF_ERROR(CheckXcrs("get xcrs"));
  kvm_xcrs x = {};
  RETURN_IF_ERROR(KvmIoctl(sys_, fd_.get(), KVM_GET_XCRS, &x, "KVM_GET_XCRS"));
  std::vector<Xcr> xcrs;
  for (uint32_t i = 0; i < x.nr_xcrs && i < KVM_MAX_XCRS; ++i) {
    xcrs.push_back(Xcr{x.xcrs[i].xcr, x.xcrs[i].value});
  }
  return xcrs;
}

absl::Status KvmVcpuX86_64::SetXcrs(absl::Span<const Xcr> xcrs) {
  RETURN_IF_ERROR(CheckXcrs("set xcrs"));
  if (xcrs.size() > KVM_MAX_XCRS) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "set xcrs: %d registers, at most %d", xcrs.size(), KVM_MAX_XCRS));
  }
  kvm_xcrs x = {};
  x.nr_xcrs = static_cast<uint32_t>(xcrs.size());
  for (size_t i = 0; i < xcrs.size(); ++i) {
    x.xcrs[i].xcr = xcrs[i].index;
    x.xcrs[i].value = xcrs[i].value;
  }
  return KvmIoctl(sys_, fd_.get(), KVM_SET_XCRS, &x, "KVM_SET_XCRS");
}

absl::StatusOr<std::vector<MsrEntry>> KvmVcpuX86_64::GetMsrs(
    absl::Span<const uint32_t> indices) {
  ASSIGN_OR_RETURN(std::vector<MsrEntry> result,
                   GetKvmMsrs(sys_, fd_.get(), indices, "KVM_GET_MSRS"));
  if (result.size() < indices.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "KVM_GET_MSRS: MSR %#x cannot be read (read %d of %d)",
        indices[result.size()], result.size(), indices.size()));
  }
  return result;
}

absl::Status KvmVcpuX86_64::SetMsrs(absl::Span<const MsrEntry> entries) {
  kvm_abi::FlexBuffer<kvm_abi::MsrsHeader, kvm_msr_entry> buffer(
      entries.size());
  buffer.header()->nmsrs = static_cast<uint32_t>(entries.size());
  kvm_msr_entry* msrs = buffer.entries();
  for (size_t i = 0; i < entries.size(); ++i) {
    msrs[i].index = entries[i].index;
    msrs[i].data = entries[i].value;
  }
  ASSIGN_OR_RETURN(int written, KvmIoctlValue(sys_, fd_.get(), kvm_abi::kSetMsrs,
                                              reinterpret_cast<uintptr_t>(buffer.data()),
                                              "KVM_SET_MSRS"));
  if (static_cast<size_t>(written) < entries.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "KVM_SET_MSRS: MSR %#x cannot be written (wrote %d of %d)",
        entries[written].index, written, entries.size()));
  }
  return absl::OkStatus();
}

absl::Status KvmVcpuX86_64::SetCpuid(absl::Span<const CpuidEntry> entries) {
  return SetCpuid2(sys_, fd_.get(), entries);
}

absl::StatusOr<LapicState> KvmVcpuX86_64::GetLapic() {
  kvm_lapic_state l = {};
  // KVM's only EINVAL here is a vCPU without an in-kernel local APIC
  // (virt/kvm/x86.c, kvm_vcpu_ioctl_get_lapic's caller).
  if (absl::Status status =
          KvmIoctl(sys_, fd_.get(), KVM_GET_LAPIC, &l, "KVM_GET_LAPIC");
      !status.ok()) {
    if (absl::IsInvalidArgument(status)) {
      return absl::FailedPreconditionError(
          "KVM_GET_LAPIC: the VM has no in-kernel local APIC (CreateIrqChip "
          "first)");
    }
    return status;
  }
  LapicState state;
  std::memcpy(state.regs.data(), l.regs, sizeof(l.regs));
  return state;
}

absl::Status KvmVcpuX86_64::SetLapic(const LapicState& state) {
  kvm_lapic_state l = {};
  std::memcpy(l.regs, state.regs.data(), sizeof(l.regs));
  return KvmIoctl(sys_, fd_.get(), KVM_SET_LAPIC, &l, "KVM_SET_LAPIC");
}

absl::Status KvmVcpuX86_64::InjectInterrupt(uint8_t vector) {
  // crosvm's contract: KVM_INTERRUPT queues the vector whatever the guest's
  // state, and a vector queued while the guest cannot take it is delivered
  // with IF=0 (or lost behind another event). Refuse instead, and let the
  // VMM ask for the window (SetInterruptWindowRequested).
  if (!ReadyForInterrupt()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "inject interrupt %#x: the vCPU cannot take an interrupt now "
        "(kvm_run: ready_for_interrupt_injection %u, IF %u); request an "
        "interrupt window and inject on the kIrqWindowOpen exit",
        vector, run_->ready_for_interrupt_injection, run_->if_flag));
  }
  kvm_interrupt interrupt = {};
  interrupt.irq = vector;
  return KvmIoctl(sys_, fd_.get(), KVM_INTERRUPT, &interrupt,
                  absl::StrFormat("KVM_INTERRUPT (vector %#x)", vector));
}

absl::Status KvmVcpuX86_64::InjectNmi() {
  return KvmIoctlValue(sys_, fd_.get(), KVM_NMI, 0, "KVM_NMI").status();
}

bool KvmVcpuX86_64::ReadyForInterrupt() const {
  // SAFETY: these kvm_run bytes are written by the kernel during KVM_RUN
  // only, which runs on the calling thread (Vcpu's one-thread contract).
  return run_->ready_for_interrupt_injection != 0 && run_->if_flag != 0;
}

void KvmVcpuX86_64::SetInterruptWindowRequested(bool requested) {
  // SAFETY: an input byte of kvm_run, read by the kernel at the next
  // KVM_RUN on this thread; no other thread writes it.
  run_->request_interrupt_window = requested ? 1 : 0;
}

absl::Status KvmVcpuX86_64::CheckTscControl(absl::string_view operation) const {
  if (device_->caps.vcpu_attributes == 0) {
    return absl::UnimplementedError(absl::StrCat(
        operation, ": this KVM lacks KVM_CAP_VCPU_ATTRIBUTES"));
  }
  if (!device_->TscOffsetHonoured()) {
    return absl::UnimplementedError(absl::StrCat(
        operation,
        ": this KVM accepts KVM_VCPU_TSC_OFFSET but does not honour it (a "
        "probe's offset did not read back; kvm_pvm does this), so "
        "HypervisorCap::kTscControl is false"));
  }
  return absl::OkStatus();
}

absl::Status KvmVcpuX86_64::SetTscOffset(uint64_t offset) {
  RETURN_IF_ERROR(CheckTscControl("set TSC offset"));
  const kvm_device_attr attr = kvm_abi::TscOffsetAttr(&offset);
  RETURN_IF_ERROR(KvmIoctl(sys_, fd_.get(), KVM_SET_DEVICE_ATTR, &attr,
                           "KVM_SET_DEVICE_ATTR (KVM_VCPU_TSC_OFFSET)"));
  // The device probe showed this KVM honours the attribute; a vCPU that
  // still reads back another value is reported, never taken on trust.
  ASSIGN_OR_RETURN(uint64_t now, GetTscOffset());
  if (now != offset) {
    return absl::InternalError(absl::StrFormat(
        "set TSC offset: KVM accepted %#x but the vCPU reports %#x", offset,
        now));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> KvmVcpuX86_64::GetTscOffset() {
  RETURN_IF_ERROR(CheckTscControl("get TSC offset"));
  uint64_t offset = 0;
  const kvm_device_attr attr = kvm_abi::TscOffsetAttr(&offset);
  RETURN_IF_ERROR(KvmIoctl(sys_, fd_.get(), KVM_GET_DEVICE_ATTR, &attr,
                           "KVM_GET_DEVICE_ATTR (KVM_VCPU_TSC_OFFSET)"));
  return offset;
}

absl::Status KvmVcpuX86_64::HandleMsr(
    absl::FunctionRef<void(MsrRequest&)> handler) {
  ASSIGN_OR_RETURN(const bool write, TakePendingMsrExit());
  // SAFETY: the last KVM_RUN ended with KVM_EXIT_X86_RDMSR or WRMSR, so
  // run_->msr is the live union member; the kernel reads `error` and (for
  // a read) `data` back at the next KVM_RUN, and nothing else writes them
  // in between (only this, the Run() thread, does).
  auto& msr = run_->msr;
  MsrRequest request;
  request.index = msr.index;
  request.is_write = write;
  request.data = write ? msr.data : 0;
  handler(request);
  msr.error = request.fault ? 1 : 0;
  if (!write) msr.data = request.fault ? 0 : request.data;
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> KvmVcpuX86_64::GetTscKhz() {
  ASSIGN_OR_RETURN(int khz, KvmIoctlValue(sys_, fd_.get(), KVM_GET_TSC_KHZ, 0,
                                          "KVM_GET_TSC_KHZ"));
  return static_cast<uint32_t>(khz);
}

}  // namespace hv
