// KvmVmAArch64: hv::VmAArch64 over a KVM VM (KvmVmCore, kvm_vm.h): vCPU
// creation with the VM's preferred vCPU target, the vGIC (v2 or v3, a KVM
// device), SPIs through KVM_IRQ_LINE and irqfds, and the VM-wide counter
// offset (kvm_vm_aarch64.cc); the GICv3 ITS (another KVM device) and its
// state (kvm_vm_aarch64_its.cc). CreateKvmVm() creates it on aarch64 hosts.
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

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/backend_overrides.h"
#include "hypervisor/kvm/kvm_device.h"
#include "hypervisor/kvm/kvm_fd.h"
#include "hypervisor/kvm/kvm_vm.h"
#include "hypervisor/vm_checks.h"

namespace hv {

class KvmVmAArch64 final : public KvmVmCore<VmAArch64> {
 public:
  absl::Status SetIrqLine(uint32_t irq, bool level) override;
  HV_VM_AARCH64_OVERRIDES
  // The vGICv3's registers through its device attributes
  // (kvm_vm_aarch64_gic_state.cc).
  absl::StatusOr<GicState> GetGicState(
      absl::Span<VcpuAArch64* const> vcpus) override;
  absl::Status SetGicState(const GicState& state,
                           absl::Span<VcpuAArch64* const> vcpus) override;
  // The ITS: KVM_DEV_TYPE_ARM_VGIC_ITS, its address and
  // KVM_DEV_ARM_VGIC_CTRL_INIT; its registers (KVM_DEV_ARM_VGIC_GRP_ITS_REGS)
  // and tables (KVM_DEV_ARM_ITS_SAVE_TABLES / RESTORE_TABLES, and the
  // vGICv3's KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES).
  absl::Status CreateGicIts(GuestAddress base) override;
  absl::StatusOr<GicItsState> GetGicItsState() override;
  absl::Status SetGicItsState(const GicItsState& state) override;
  // KVM_DEV_ARM_ITS_CTRL_RESET.
  absl::Status ResetGicIts() override;

 private:
  friend std::unique_ptr<Vm> NewKvmVm(std::shared_ptr<const KvmDevice> device,
                                      KvmVmFd vm);
  using KvmVmCore::KvmVmCore;

  // KVM_IRQFD once the SPI is checked (assigning only).
  absl::Status Irqfd(const EventFd& event, uint32_t gsi, bool assign) override;
  // MSIs go to the ITS, once there is one, and must name their device.
  bool HasMsiController() const override { return has_its_.load(); }
  bool MsiNeedsDeviceId() const override { return has_its_.load(); }
  // KVM_CREATE_DEVICE_TEST of KVM_DEV_TYPE_ARM_VGIC_ITS.
  bool OffersGicIts() const override;

  uint32_t vcpus_created_ ABSL_GUARDED_BY(mutex_) = 0;
  // The vGIC device (KVM_CREATE_DEVICE), its configuration, and whether
  // KVM_DEV_ARM_VGIC_CTRL_INIT succeeded.
  KvmFd gic_fd_ ABSL_GUARDED_BY(mutex_);
  std::optional<GicConfig> gic_config_ ABSL_GUARDED_BY(mutex_);
  bool gic_finalized_ ABSL_GUARDED_BY(mutex_) = false;
  // The ITS device, once KVM_CREATE_DEVICE made it, and its base once it
  // is placed and initialised; has_its_ mirrors the latter for the MSI
  // paths, which do not take mutex_.
  KvmFd its_fd_ ABSL_GUARDED_BY(mutex_);
  std::optional<GuestAddress> its_base_ ABSL_GUARDED_BY(mutex_);
  std::atomic<bool> has_its_{false};

  // The guest-physical frames of the vGIC `gic` with redistributors for
  // max(vcpus, 1) vCPUs, and of the ITS at `its_base` if given: what memory
  // regions must stay clear of.

  static std::vector<DeviceFrame> GicFrames(
      const GicConfig& gic, uint32_t vcpus,
      std::optional<GuestAddress> its_base);
  // BackendVm's hook: a new memory region must not cover the GIC's frames.
  absl::Status CheckDeviceFrames(GuestAddress guest_address,
                                 uint64_t size) const override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  // INVALID_ARGUMENT naming `operation` when the ITS's frames at `base`
  // are unaligned, reach past the guest address limit, or overlap the
  // distributor, the redistributors of max(vcpus, 1) vCPUs or one of
  // `regions`.
  absl::Status CheckItsPlacement(const char* operation, GuestAddress base,
                                 uint32_t vcpus,
                                 const std::vector<MemoryRegionInfo>& regions)
      const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The ITS's fd with a finalised vGICv3's, or FAILED_PRECONDITION naming
  // `operation`.
  struct Its {
    int its_fd;
    int gic_fd;
  };
  absl::StatusOr<Its> ReadyIts(const char* operation) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

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
