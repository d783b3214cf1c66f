// KvmVcpuX86_64: register state, MSRs, CPUID, the local APIC,
// interrupt injection and the TSC. Conversions between hv's state types
// (hypervisor/x86_64/regs.h) and the kernel's structs happen only here.
#include "hypervisor/kvm/kvm_vcpu_x86_64.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "hypervisor/kvm/kvm_abi_x86_64.h"
#include "hypervisor/kvm/kvm_ioctl.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/status_macros.h"

namespace hv {
namespace {

// MXCSR sits at bytes 24..27 of the legacy FXSAVE area that starts every
// XSAVE image (Intel SDM Vol. 1, Section 10.5.1, Table 10-2).
constexpr size_t kXsaveMxcsrOffset = 24;

// Writes `fpu` into the legacy FXSAVE area at the start of an XSAVE image
// (Intel SDM Vol. 1, Table 10-2: FCW 0, FSW 2, abridged FTW 4, FOP 6, FIP 8,
// FDP 16, MXCSR 24, ST0-7 from 32 in 16-byte slots, XMM0-15 from 160) and
// marks x87 and SSE state present in the XSAVE header's XSTATE_BV at byte
// 512 (Section 13.4.2), so the kernel loads what was written.
// Reads the legacy FXSAVE area of an XSAVE image (layout as above; the
// kernel fills components absent from XSTATE_BV with their init values).
Fpu ReadLegacyArea(const uint8_t* image) {
  Fpu fpu;
  std::memcpy(&fpu.fcw, image + 0, 2);
  std::memcpy(&fpu.fsw, image + 2, 2);
  fpu.ftwx = image[4];
  std::memcpy(&fpu.last_opcode, image + 6, 2);
  std::memcpy(&fpu.last_ip, image + 8, 8);
  std::memcpy(&fpu.last_dp, image + 16, 8);
  std::memcpy(&fpu.mxcsr, image + kXsaveMxcsrOffset, 4);
  for (int i = 0; i < 8; ++i) std::memcpy(fpu.fpr[i].data(), image + 32 + 16 * i, 16);
  for (int i = 0; i < 16; ++i) std::memcpy(fpu.xmm[i].data(), image + 160 + 16 * i, 16);
  return fpu;
}

void WriteLegacyArea(const Fpu& fpu, uint8_t* image) {
  std::memcpy(image + 0, &fpu.fcw, 2);
  std::memcpy(image + 2, &fpu.fsw, 2);
  image[4] = fpu.ftwx;
  std::memcpy(image + 6, &fpu.last_opcode, 2);
  std::memcpy(image + 8, &fpu.last_ip, 8);
  std::memcpy(image + 16, &fpu.last_dp, 8);
  std::memcpy(image + kXsaveMxcsrOffset, &fpu.mxcsr, 4);
  for (int i = 0; i < 8; ++i) std::memcpy(image + 32 + 16 * i, fpu.fpr[i].data(), 16);
  for (int i = 0; i < 16; ++i) std::memcpy(image + 160 + 16 * i, fpu.xmm[i].data(), 16);
  uint64_t xstate_bv;
  std::memcpy(&xstate_bv, image + 512, 8);
  xstate_bv |= 0x3;  // bit 0: x87, bit 1: SSE
  std::memcpy(image + 512, &xstate_bv, 8);
}

Segment FromKvm(const kvm_segment& s) {
  Segment out;
  out.base = s.base;
  out.limit = s.limit;
  out.selector = s.selector;
  out.type = s.type;
  out.present = s.present != 0;
  out.dpl = s.dpl;
  out.db = s.db != 0;
  out.s = s.s != 0;
  out.l = s.l != 0;
  out.g = s.g != 0;
  out.avl = s.avl != 0;
  out.unusable = s.unusable != 0;
  return out;
}

kvm_segment ToKvm(const Segment& s) {
  kvm_segment out = {};
  out.base = s.base;
  out.limit = s.limit;
  out.selector = s.selector;
  out.type = s.type;
  out.present = s.present;
  out.dpl = s.dpl;
  out.db = s.db;
  out.s = s.s;
  out.l = s.l;
  out.g = s.g;
  out.avl = s.avl;
  out.unusable = s.unusable;
  return out;
}

DescriptorTable FromKvm(const kvm_dtable& t) { return {t.base, t.limit}; }

kvm_dtable ToKvm(const DescriptorTable& t) {
  kvm_dtable out = {};
  out.base = t.base;
  out.limit = t.limit;
  return out;
}

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
}

absl::StatusOr<Regs> KvmVcpuX86_64::GetRegs() {
  kvm_regs r = {};
  RETURN_IF_ERROR(KvmIoctl(sys_, fd_.get(), KVM_GET_REGS, &r, "KVM_GET_REGS"));
  Regs regs;
  regs.rax = r.rax;
  regs.rbx = r.rbx;
  regs.rcx = r.rcx;
  regs.rdx = r.rdx;
  regs.rsi = r.rsi;
  regs.rdi = r.rdi;
  regs.rsp = r.rsp;
  regs.rbp = r.rbp;
  regs.r8 = r.r8;
  regs.r9 = r.r9;
  regs.r10 = r.r10;
  regs.r11 = r.r11;
  regs.r12 = r.r12;
  regs.r13 = r.r13;
  regs.r14 = r.r14;
  regs.r15 = r.r15;
  regs.rip = r.rip;
  regs.rflags = r.rflags;
  return regs;
}

absl::Status KvmVcpuX86_64::SetRegs(const Regs& regs) {
  kvm_regs r = {};
  r.rax = regs.rax;
  r.rbx = regs.rbx;
  r.rcx = regs.rcx;
  r.rdx = regs.rdx;
  r.rsi = regs.rsi;
  r.rdi = regs.rdi;
  r.rsp = regs.rsp;
  r.rbp = regs.rbp;
  r.r8 = regs.r8;
  r.r9 = regs.r9;
  r.r10 = regs.r10;
  r.r11 = regs.r11;
  r.r12 = regs.r12;
  r.r13 = regs.r13;
  r.r14 = regs.r14;
  r.r15 = regs.r15;
  r.rip = regs.rip;
  r.rflags = regs.rflags;
  return KvmIoctl(sys_, fd_.get(), KVM_SET_REGS, &r, "KVM_SET_REGS");
}

absl::StatusOr<Sregs> KvmVcpuX86_64::GetSregs() {
  kvm_sregs s = {};
  RETURN_IF_ERROR(
      KvmIoctl(sys_, fd_.get(), KVM_GET_SREGS, &s, "KVM_GET_SREGS"));
  Sregs sregs;
  sregs.cs = FromKvm(s.cs);
  sregs.ds = FromKvm(s.ds);
  sregs.es = FromKvm(s.es);
  sregs.fs = FromKvm(s.fs);
  sregs.gs = FromKvm(s.gs);
  sregs.ss = FromKvm(s.ss);
  sregs.tr = FromKvm(s.tr);
  sregs.ldt = FromKvm(s.ldt);
  sregs.gdt = FromKvm(s.gdt);
  sregs.idt = FromKvm(s.idt);
  sregs.cr0 = s.cr0;
  sregs.cr2 = s.cr2;
  sregs.cr3 = s.cr3;
  sregs.cr4 = s.cr4;
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
  s.cs = ToKvm(sregs.cs);
  s.ds = ToKvm(sregs.ds);
  s.es = ToKvm(sregs.es);
  s.fs = ToKvm(sregs.fs);
  s.gs = ToKvm(sregs.gs);
  s.ss = ToKvm(sregs.ss);
  s.tr = ToKvm(sregs.tr);
  s.ldt = ToKvm(sregs.ldt);
  s.gdt = ToKvm(sregs.gdt);
  s.idt = ToKvm(sregs.idt);
  s.cr0 = sregs.cr0;
  s.cr2 = sregs.cr2;
  s.cr3 = sregs.cr3;
  s.cr4 = sregs.cr4;
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
    return ReadLegacyArea(xsave.data());
  }
  kvm_fpu f = {};
  RETURN_IF_ERROR(KvmIoctl(sys_, fd_.get(), KVM_GET_FPU, &f, "KVM_GET_FPU"));
  Fpu fpu;
  for (int i = 0; i < 8; ++i) std::memcpy(fpu.fpr[i].data(), f.fpr[i], 16);
  fpu.fcw = f.fcw;
  fpu.fsw = f.fsw;
  fpu.ftwx = f.ftwx;
  fpu.last_opcode = f.last_opcode;
  fpu.last_ip = f.last_ip;
  fpu.last_dp = f.last_dp;
  for (int i = 0; i < 16; ++i) std::memcpy(fpu.xmm[i].data(), f.xmm[i], 16);
  fpu.mxcsr = f.mxcsr;
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
  for (int i = 0; i < 8; ++i) std::memcpy(f.fpr[i], fpu.fpr[i].data(), 16);
  f.fcw = fpu.fcw;
  f.fsw = fpu.fsw;
  f.ftwx = fpu.ftwx;
  f.last_opcode = fpu.last_opcode;
  f.last_ip = fpu.last_ip;
  f.last_dp = fpu.last_dp;
  for (int i = 0; i < 16; ++i) std::memcpy(f.xmm[i], fpu.xmm[i].data(), 16);
  f.mxcsr = fpu.mxcsr;
  return KvmIoctl(sys_, fd_.get(), KVM_SET_FPU, &f, "KVM_SET_FPU");
}

absl::StatusOr<std::vector<uint8_t>> KvmVcpuX86_64::GetXsave() {
  // KVM_CAP_XSAVE2 gives the image size when it exceeds 4 KiB
  // (e.g. with AMX state); KVM_GET_XSAVE2 then fills the larger buffer.
  const size_t size = std::max<size_t>(sizeof(kvm_abi::XsaveImage), device_->caps.xsave2);
  std::vector<uint8_t> xsave(size);
  if (size > sizeof(kvm_abi::XsaveImage)) {
    RETURN_IF_ERROR(
        KvmIoctl(sys_, fd_.get(), kvm_abi::kGetXsave2, xsave.data(), "KVM_GET_XSAVE2"));
  } else {
    RETURN_IF_ERROR(
        KvmIoctl(sys_, fd_.get(), kvm_abi::kGetXsave, xsave.data(), "KVM_GET_XSAVE"));
  }
  return xsave;
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
  kvm_abi::FlexBuffer<kvm_abi::MsrsHeader, kvm_msr_entry> buffer(
      indices.size());
  buffer.header()->nmsrs = static_cast<uint32_t>(indices.size());
  kvm_msr_entry* msrs = buffer.entries();
  for (size_t i = 0; i < indices.size(); ++i) msrs[i].index = indices[i];
  // KVM_GET_MSRS returns how many MSRs it read, stopping at the first it
  // cannot.
  ASSIGN_OR_RETURN(int read, KvmIoctlValue(sys_, fd_.get(), kvm_abi::kGetMsrs,
                                           reinterpret_cast<uintptr_t>(buffer.data()),
                                           "KVM_GET_MSRS"));
  if (static_cast<size_t>(read) < indices.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "KVM_GET_MSRS: MSR %#x cannot be read (read %d of %d)",
        indices[read], read, indices.size()));
  }
  std::vector<MsrEntry> result;
  result.reserve(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    result.push_back(MsrEntry{msrs[i].index, msrs[i].data});
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
  RETURN_IF_ERROR(
      KvmIoctl(sys_, fd_.get(), KVM_GET_LAPIC, &l, "KVM_GET_LAPIC"));
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

absl::StatusOr<uint32_t> KvmVcpuX86_64::GetTscKhz() {
  ASSIGN_OR_RETURN(int khz, KvmIoctlValue(sys_, fd_.get(), KVM_GET_TSC_KHZ, 0,
                                          "KVM_GET_TSC_KHZ"));
  return static_cast<uint32_t>(khz);
}

}  // namespace hv
