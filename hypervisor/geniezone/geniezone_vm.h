// GeniezoneVm: hv::VmAArch64 over a Geniezone VM file descriptor.
//
// Memory goes through hv::BackendVm and its MemorySlotTable
// (GZVM_MAX_MEM_REGION = 10 slots): Check() first, then
// GZVM_SET_USER_MEMORY_REGION, then Insert() only once the driver agreed, so a
// failure leaves the VM as it was. Geniezone has no way to delete a slot, no
// read-only or non-coherent regions and no dirty log: those calls are
// UNIMPLEMENTED, naming the operation. Fd mappings replace pages of a region's
// host mapping in place (MAP_FIXED) with no Geniezone call. Interrupts go to
// the in-hypervisor GICv3 (CreateGic); SetIrqLine and irqfds take SPI numbers.
// Thread safe: BackendVm's mutex guards the slot table and the VM's mutable
// state.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::GeniezoneVm> vm,
//                    hv::GeniezoneVm::Create(device));
//   ASSIGN_OR_RETURN(auto ram, hv::MemoryRegion::CreateShared("ram", 1 << 20));
//   ASSIGN_OR_RETURN(hv::MemSlot slot,
//                    vm->AddMemoryRegion(0x80000000, std::move(ram), {}));
#ifndef HV_HYPERVISOR_GENIEZONE_GENIEZONE_VM_H_
#define HV_HYPERVISOR_GENIEZONE_GENIEZONE_VM_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/backend_overrides.h"
#include "hypervisor/backend_vm.h"
#include "hypervisor/geniezone/geniezone_fd.h"
#include "hypervisor/geniezone/geniezone_hypervisor.h"
#include "hypervisor/vm_checks.h"

namespace hv {

class GeniezoneVm final : public BackendVm<VmAArch64> {
 public:
  // GeniezoneVm::Create(): GZVM_CREATE_VM (VM type 0) on `device`.
  static absl::StatusOr<std::unique_ptr<GeniezoneVm>> Create(
      std::shared_ptr<const GeniezoneDevice> device);

  ~GeniezoneVm() override;

  // Vm (geniezone_vm.cc); memory through BackendVm. RemoveMemoryRegion is
  // UNIMPLEMENTED for a known slot: GZVM_SET_USER_MEMORY_REGION has no
  // delete (the driver requires memory_size to equal the host VMA's size).
  bool CheckCapability(VmCap cap) const override;
  absl::Status SetIrqLine(uint32_t irq, bool level) override;

  // VmAArch64 (geniezone_vm_aarch64.cc).
  HV_VM_AARCH64_OVERRIDES

 private:
  GeniezoneVm(std::shared_ptr<const GeniezoneDevice> device, GeniezoneFd vm_fd);

  // BackendVm's hooks (no dirty log: the default).
  // MapSlot: GZVM_SET_USER_MEMORY_REGION; read-only, dirty-logged and
  // non-coherent regions are UNIMPLEMENTED (the struct has no flag for
  // them). UnmapSlot: UNIMPLEMENTED, the ioctl has no delete. ReplacePages:
  // ReplaceHostPages() (MAP_FIXED; the driver follows the host's pages).
  HV_BACKEND_VM_SLOT_HOOKS(override)
  // VmAArch64::InitArch's part: GZVM_SET_DTB_CONFIG (the entry is vCPU
  // 0's PC, set with SetOneReg).
  absl::Status ConfigureBoot(GuestAddress entry, GuestAddress fdt_address,
                             uint64_t fdt_size) override;
  // GZVM_IOEVENTFD (MMIO only) and GZVM_IRQFD (SPI numbers).
  absl::Status IoEvent(const EventFd& event, const IoEventAddress& address,
                       bool assign) override;
  absl::Status Irqfd(const EventFd& event, uint32_t gsi, bool assign) override;
  // GZVM_IRQFD with GZVM_IRQFD_FLAG_RESAMPLE: the driver's resampler holds
  // the SPI asserted until the guest EOIs it (seen in the vGIC list
  // registers after a GZVM_RUN), then lowers it and signals `resample`.
  absl::Status ResampleIrqfd(const EventFd& event, uint32_t gsi,
                             const EventFd& resample) override;
  // The GICv3's distributor and redistributor frames, once created: a
  // memory region over them is refused (ALREADY_EXISTS naming both
  // ranges), as CreateGic refuses frames over a region.
  absl::Status CheckDeviceFrames(GuestAddress guest_address,
                                 uint64_t size) const override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  // The SPI `spi` exists on the GIC (when one was created); `operation`
  // names the caller.
  absl::Status CheckSpi(const char* operation, uint32_t spi) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  GeniezoneSys* const sys_;
  const std::shared_ptr<const GeniezoneDevice> device_;
  const GeniezoneFd vm_fd_;

  // vCPU ids created so far; the driver frees them only with the VM.
  std::set<uint32_t> vcpu_ids_ ABSL_GUARDED_BY(mutex_);
  enum class GicState { kNone, kDistributorOnly, kCreated };
  GicState gic_state_ ABSL_GUARDED_BY(mutex_) = GicState::kNone;
  std::optional<GicConfig> gic_ ABSL_GUARDED_BY(mutex_);
  // The device frames the driver has created (the distributor alone after
  // a failed redistributor): CheckDeviceFrames keeps memory regions off
  // them.
  std::vector<DeviceFrame> device_frames_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace hv

#endif  // HV_HYPERVISOR_GENIEZONE_GENIEZONE_VM_H_
