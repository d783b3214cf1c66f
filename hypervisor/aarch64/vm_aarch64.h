// VmAArch64: the aarch64 part of a VM: aarch64 vCPUs, the in-kernel GIC
// (an interrupt controller device) and the guest's view of the counter.
//
// Interrupt numbers: Vm::SetIrqLine and Vm::RegisterIrqfd on an aarch64 VM
// take the SPI number (0 is INTID 32), as KVM's irqfd GSIs do.
//
// Order (as the hypervisors require): CreateGic, then the vCPUs, then
// FinalizeGic, then Run.
//
// Example:
//   hv::VmAArch64* arm = vm->AsAArch64();
//   RETURN_IF_ERROR(arm->CreateGic({hv::GicConfig::Version::kV3, 0x08000000,
//                                   0x080a0000, 96}));
//   ASSIGN_OR_RETURN(auto vcpu, arm->CreateVcpuAArch64(0));
//   RETURN_IF_ERROR(vcpu->Init({hv::VcpuFeature::kPsci0_2}));
//   RETURN_IF_ERROR(arm->FinalizeGic());
#ifndef HV_HYPERVISOR_AARCH64_VM_AARCH64_H_
#define HV_HYPERVISOR_AARCH64_VM_AARCH64_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/aarch64/regs.h"
#include "hypervisor/aarch64/vcpu_aarch64.h"
#include "hypervisor/vm.h"

namespace hv {

class VmAArch64 : public Vm {
 public:
  VmAArch64* AsAArch64() override { return this; }

  // VmAArch64::CreateVcpuAArch64(): CreateVcpu with the aarch64 type.
  virtual absl::StatusOr<std::unique_ptr<VcpuAArch64>> CreateVcpuAArch64(
      uint32_t id) = 0;

  // Vm::CreateVcpu() of an aarch64 VM: CreateVcpuAArch64().
  absl::StatusOr<std::unique_ptr<Vcpu>> CreateVcpu(uint32_t id) override {
    return CreateVcpuAArch64(id);
  }

  // VmAArch64::CreateGic(): the in-kernel GIC, before any vCPU exists.
  // UNIMPLEMENTED for a version the hypervisor does not offer;
  // FAILED_PRECONDITION when a GIC exists or a vCPU was created.
  virtual absl::Status CreateGic(const GicConfig& config) = 0;
  virtual bool SupportsGic(GicConfig::Version version) const = 0;
  // VmAArch64::FinalizeGic(): after every vCPU is created and initialised.
  virtual absl::Status FinalizeGic() = 0;

  // VmAArch64::SetCounterOffset(): the guest's virtual counter reads the
  // physical counter minus `offset` on every vCPU. UNIMPLEMENTED where the
  // hypervisor has no VM-wide offset.
  virtual absl::Status SetCounterOffset(uint64_t offset) = 0;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_AARCH64_VM_AARCH64_H_
