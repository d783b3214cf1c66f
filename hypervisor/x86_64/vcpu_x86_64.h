// VcpuX86_64: the x86_64 part of a vCPU: register state, CPUID, MSRs, the
// local APIC, interrupt injection and the TSC.
//
// Example:
//   hv::VcpuX86_64* cpu = vcpu->AsX86_64();
//   ASSIGN_OR_RETURN(hv::Regs regs, cpu->GetRegs());
//   regs.rip = 0x1000;
//   RETURN_IF_ERROR(cpu->SetRegs(regs));
#ifndef HV_HYPERVISOR_X86_64_VCPU_X86_64_H_
#define HV_HYPERVISOR_X86_64_VCPU_X86_64_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hypervisor/vcpu.h"
#include "hypervisor/x86_64/regs.h"

namespace hv {

class VcpuX86_64 : public Vcpu {
 public:
  VcpuX86_64* AsX86_64() override { return this; }

  virtual absl::StatusOr<Regs> GetRegs() = 0;
  virtual absl::Status SetRegs(const Regs& regs) = 0;
  virtual absl::StatusOr<Sregs> GetSregs() = 0;
  virtual absl::Status SetSregs(const Sregs& sregs) = 0;
  virtual absl::StatusOr<Fpu> GetFpu() = 0;
  virtual absl::Status SetFpu(const Fpu& fpu) = 0;
  virtual absl::StatusOr<DebugRegs> GetDebugRegs() = 0;
  virtual absl::Status SetDebugRegs(const DebugRegs& regs) = 0;
  // Requires HypervisorCap::kXcrs.
  virtual absl::StatusOr<std::vector<Xcr>> GetXcrs() = 0;
  virtual absl::Status SetXcrs(absl::Span<const Xcr> xcrs) = 0;
  // VcpuX86_64::GetMsrs(): the values of `indices`; an MSR the hypervisor
  // cannot read is an error naming it.
  virtual absl::StatusOr<std::vector<MsrEntry>> GetMsrs(
      absl::Span<const uint32_t> indices) = 0;
  virtual absl::Status SetMsrs(absl::Span<const MsrEntry> msrs) = 0;
  // VcpuX86_64::SetCpuid(): the CPUID results the guest sees.
  virtual absl::Status SetCpuid(absl::Span<const CpuidEntry> entries) = 0;
  // Local APIC state; requires the in-kernel irqchip: GetLapic() is
  // FAILED_PRECONDITION on a VM without one (the VMM then has the APIC).
  virtual absl::StatusOr<LapicState> GetLapic() = 0;
  virtual absl::Status SetLapic(const LapicState& state) = 0;

  // VcpuX86_64::InjectInterrupt(): queues external interrupt `vector`
  // (only without an in-kernel irqchip). FAILED_PRECONDITION, and nothing
  // queued, unless the guest can take it now (ReadyForInterrupt(): after a
  // run that exited with interrupts enabled and no event pending); request
  // the interrupt window and inject on its exit.
  virtual absl::Status InjectInterrupt(uint8_t vector) = 0;
  virtual absl::Status InjectNmi() = 0;
  // Whether the guest can take an interrupt on the next entry.
  virtual bool ReadyForInterrupt() const = 0;
  // Ask for a kIrqWindowOpen exit once the guest can take an interrupt.
  virtual void SetInterruptWindowRequested(bool requested) = 0;

  // VcpuX86_64::SetTscOffset(): the guest's TSC reads host TSC + offset.
  // Requires HypervisorCap::kTscControl, which a backend reports only where
  // the offset was shown to reach the guest; without it UNIMPLEMENTED, and
  // the vCPU is unchanged.
  virtual absl::Status SetTscOffset(uint64_t offset) = 0;
  // VcpuX86_64::GetTscOffset(): the offset in effect. Before any
  // SetTscOffset it is the hypervisor's choice (KVM starts a new vCPU's TSC
  // near 0, i.e. minus the host TSC at creation). Requires
  // HypervisorCap::kTscControl; without it UNIMPLEMENTED.
  virtual absl::StatusOr<uint64_t> GetTscOffset() = 0;
  // VcpuX86_64::GetTscKhz(): the guest TSC frequency.
  virtual absl::StatusOr<uint32_t> GetTscKhz() = 0;

  // What saving and restoring a running vCPU needs beyond the calls above.
  // Each is UNIMPLEMENTED where the hypervisor lacks the HypervisorCap it
  // names, and leaves the vCPU unchanged when it fails.
  //
  // VcpuX86_64::GetXsave(): the vCPU's whole XSAVE image in the standard
  // format (Intel SDM Vol. 1, Section 13.4: legacy area, XSAVE header,
  // every state component the hypervisor keeps, AVX and AVX-512 among
  // them), XsaveSize() bytes. HypervisorCap::kXsave.
  virtual absl::StatusOr<std::vector<uint8_t>> GetXsave();
  // VcpuX86_64::SetXsave(): loads an image GetXsave() returned (on this
  // vCPU or another of the same hypervisor). INVALID_ARGUMENT, with
  // nothing loaded, unless it is XsaveSize() bytes; the hypervisor refuses
  // components the guest's CPUID does not offer (KVM: EINVAL), so call
  // SetCpuid first.
  virtual absl::Status SetXsave(absl::Span<const uint8_t> image);
  // VcpuX86_64::XsaveSize(): bytes of this hypervisor's XSAVE image (KVM:
  // KVM_CAP_XSAVE2's answer, at least 4096); 0 without kXsave.
  virtual size_t XsaveSize() const;

  // VcpuX86_64::GetVcpuEvents() / SetVcpuEvents(): the events in flight
  // (VcpuEvents). HypervisorCap::kVcpuEvents. SetVcpuEvents sets every
  // field, so an NMI or SIPI it does not mark pending is cleared.
  virtual absl::StatusOr<VcpuEvents> GetVcpuEvents();
  virtual absl::Status SetVcpuEvents(const VcpuEvents& events);

  // VcpuX86_64::SetTscKhz(): the guest TSC frequency GetTscKhz() reports
  // and the guest's TSC runs at (KVM scales it where the CPU can).
  // HypervisorCap::kTscKhz; INVALID_ARGUMENT for 0.
  virtual absl::Status SetTscKhz(uint32_t khz);

  // VcpuX86_64::HandleMsr(): after a kRdMsr or kWrMsr exit (MSRs the VMM
  // took with VmX86_64::SetUserSpaceMsrs), calls `handler` once with the
  // access; the next Run() completes the guest's instruction with the
  // handler's answer (a read's value, or #GP when it sets `fault`).
  // FAILED_PRECONDITION, and `handler` not called, unless the last Run()
  // returned such an exit that no HandleMsr() has answered. An exit left
  // unanswered is completed by the next Run() as the hypervisor's default
  // (KVM: a read of 0, a write accepted).
  virtual absl::Status HandleMsr(absl::FunctionRef<void(MsrRequest&)> handler);

  // VcpuX86_64::NotifyGuestPaused(): tells the guest's paravirtual clock
  // that the VM was paused (KVM_KVMCLOCK_CTRL), so that its soft-lockup
  // watchdog does not fire after a snapshot or a stop. FAILED_PRECONDITION
  // when the guest has not enabled the paravirtual clock on this vCPU;
  // UNIMPLEMENTED where the hypervisor has no such call.
  virtual absl::Status NotifyGuestPaused();
};

}  // namespace hv

#endif  // HV_HYPERVISOR_X86_64_VCPU_X86_64_H_
