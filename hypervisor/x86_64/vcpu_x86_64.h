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

#include <cstdint>
#include <vector>

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
  // Local APIC state; requires the in-kernel irqchip.
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
};

}  // namespace hv

#endif  // HV_HYPERVISOR_X86_64_VCPU_X86_64_H_
