// KvmVmAArch64: hv::VmAArch64 over a KVM VM (KvmVmCore, kvm_vm.h): vCPU
// creation with the VM's preferred vCPU target, the vGIC (v2 or v3, a KVM
// device), SPIs through KVM_IRQ_LINE and irqfds, and the VM-wide counter
// offset (kvm_vm_aarch64.cc). CreateKvmVm() creates it on aarch64 hosts.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, hv::CreateKvmVm(device));
//   hv::VmAArch64* arm = vm->AsAArch64();  // a KvmVmAArch64
//   RETURN_IF_ERROR(arm->CreateGic({hv::GicConfig::Version::kV3, 0x08000000,
//                                   0x080a0000, 96}));
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::VcpuAArch64> vcpu,
//                    arm->CreateVcpuAArch64(0));
#ifndef HV_HYPERVISOR_KVM_KVM_VM_AARCH64_H_
#define HV_HYPERVISOR_KVM_KVM_VM_AARCH64_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/kvm/kvm_device.h"
#include "hypervisor/kvm/kvm_fd.h"
#include "hypervisor/kvm/kvm_vm.h"

namespace hv {

class KvmVmAArch64 final : public KvmVmCore<VmAArch64> {
 public:
  absl::Status SetIrqLine(uint32_t irq, bool level) override;
  absl::StatusOr<std::unique_ptr<VcpuAArch64>> CreateVcpuAArch64(
      uint32_t id) override;
  absl::Status CreateGic(const GicConfig& config) override;
  bool SupportsGic(GicConfig::Version version) const override;
  absl::Status FinalizeGic() override;
  absl::Status SetCounterOffset(uint64_t offset) override;
  // The vGICv3's registers through its device attributes
  // (kvm_vm_aarch64_gic_state.cc).
  absl::StatusOr<GicState> GetGicState(
      absl::Span<VcpuAArch64* const> vcpus) override;
  absl::Status SetGicState(const GicState& state,
                           absl::Span<VcpuAArch64* const> vcpus) override;

 private:
  friend std::unique_ptr<Vm> NewKvmVm(std::shared_ptr<const KvmDevice> device,
                                      KvmVmFd vm);
  using KvmVmCore::KvmVmCore;

  // KVM_IRQFD once the SPI is checked (assigning only).
  absl::Status Irqfd(const EventFd& event, uint32_t gsi, bool assign) override;
  // No GICv3 ITS yet: MSIs have nowhere to go.
  bool HasMsiController() const override { return false; }

  uint32_t vcpus_created_ ABSL_GUARDED_BY(mutex_) = 0;
  // The vGIC device (KVM_CREATE_DEVICE), its configuration, and whether
  // KVM_DEV_ARM_VGIC_CTRL_INIT succeeded.
  KvmFd gic_fd_ ABSL_GUARDED_BY(mutex_);
  std::optional<GicConfig> gic_config_ ABSL_GUARDED_BY(mutex_);
  bool gic_finalized_ ABSL_GUARDED_BY(mutex_) = false;

  // The finalised vGICv3's fd and interrupt count, or FAILED_PRECONDITION
  // (none finalised) / UNIMPLEMENTED (a v2) naming `operation`.
  struct GicV3 {
    int fd;
    uint32_t irqs;
  };
  absl::StatusOr<GicV3> FinalizedGicV3(const char* operation) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
};

}  // namespace hv

#endif  // HV_HYPERVISOR_KVM_KVM_VM_AARCH64_H_
