// HaxmVm: hv::VmX86_64 over a HAXM VM device (\\.\hax_vmNN, /dev/hax_vm/vmNN).
//
// Memory goes through hv::BackendVm and its MemorySlotTable: Check() first,
// then the driver, then Insert() only once it agreed. How a region reaches
// the driver depends on what it offers:
//   - HAX_CAP_IMPLICIT_RAMBLOCK (HAXM 7.5+): one HAX_VM_IOCTL_SET_RAM2 with
//     HAX_RAM_INFO_STANDALONE (| ROM); HAXM creates a RAM block for the
//     mapping and drops it when the mapping is invalidated. This is what
//     crosvm does, and the only mode where fd mappings work (below).
//   - otherwise: HAX_VM_IOCTL_ALLOC_RAM (HAX_VM_IOCTL_ADD_RAMBLOCK for 4 GiB
//     or more) registers the host range as a RAM block, then SET_RAM2 maps
//     it. HAXM has no call to drop a RAM block: it keeps the pages it pinned
//     until the VM closes, so a later region whose host range overlaps an
//     earlier one's block is refused (FAILED_PRECONDITION) rather than
//     silently mapped to stale pages.
// RemoveMemoryRegion is SET_RAM2 with HAX_RAM_INFO_INVALID (va 0).
//
// Fd mappings: HAXM pins the pages of a RAM block and has no MMU notifier,
// so pages swapped under a mapped region never reach the guest. AddFdMapping
// / RemoveMapping therefore unmap the whole region from HAXM (INVALID, which
// drops its stand-alone block and the pins), swap the pages, and map the
// region again. Without HAX_CAP_IMPLICIT_RAMBLOCK they are UNIMPLEMENTED.
//
// Thread safe: BackendVm's mutex guards the slot table and the RAM block
// list.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::HaxmVm> vm, hv::HaxmVm::Create(device));
//   ASSIGN_OR_RETURN(auto ram, hv::MemoryRegion::CreateShared("ram", 1 << 20));
//   ASSIGN_OR_RETURN(hv::MemSlot slot, vm->AddMemoryRegion(0, std::move(ram), {}));
#ifndef HV_HYPERVISOR_HAXM_HAXM_VM_H_
#define HV_HYPERVISOR_HAXM_HAXM_VM_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/backend_overrides.h"
#include "hypervisor/haxm/haxm_device.h"
#include "hypervisor/haxm/haxm_sys.h"
#include "hypervisor/user_irqchip_vm.h"
#include "hypervisor/x86_64/vm_x86_64.h"

namespace hv {

// HaxmVcpuIds: which vCPU ids of a VM are taken, shared with its vCPUs so a
// closed vCPU frees its id. Internal.
struct HaxmVcpuIds {
  std::mutex mutex;
  std::set<uint32_t> live ABSL_GUARDED_BY(mutex);
  // Created in HAXM, but their device could not be opened: HAXM keeps them
  // until the VM closes, so the id cannot be created again.
  std::set<uint32_t> orphaned ABSL_GUARDED_BY(mutex);
};

class HaxmVm final : public UserIrqchipVm {
 public:
  // hv's limits (HAXM keeps a list of mappings and has no slot count; its
  // 4-level EPT maps 48-bit guest-physical addresses).
  static constexpr uint32_t kMaxSlots = 512;
  static constexpr uint64_t kGuestAddressLimit = uint64_t{1} << 48;

  // HaxmVm::Create(): HAX_IOCTL_CREATE_VM, opens the VM device and tells it
  // the user API version (HAX_VM_IOCTL_NOTIFY_QEMU_VERSION).
  static absl::StatusOr<std::unique_ptr<HaxmVm>> Create(
      std::shared_ptr<const HaxmDevice> device);

  ~HaxmVm() override;

  uint32_t vm_id() const { return vm_id_; }
  // Whether regions use HAX_RAM_INFO_STANDALONE (HAX_CAP_IMPLICIT_RAMBLOCK).
  bool standalone_ram() const { return standalone_ram_; }

  // Vm; memory through BackendVm; no interrupt lines (BackendVm's
  // SetIrqLine).
  bool CheckCapability(VmCap cap) const override;

  // VmX86_64 (the rest: UserIrqchipVm).
  absl::StatusOr<std::unique_ptr<VcpuX86_64>> CreateVcpuX86_64(
      uint32_t id) override;

 private:
  // A host range HAXM holds as a RAM block (ALLOC_RAM / ADD_RAMBLOCK).
  struct RamBlock {
    uint64_t start = 0;
    uint64_t size = 0;
  };

  HaxmVm(std::shared_ptr<const HaxmDevice> device, HaxmHandleOwner handle,
         uint32_t vm_id);

  // BackendVm's hooks (no dirty log, ioeventfds or irqfds: the defaults).
  // MapSlot: a RAM block unless HAXM makes one (RegisterRamBlock), then
  // HAX_VM_IOCTL_SET_RAM2; dirty-logged and non-coherent regions are
  // UNIMPLEMENTED. UnmapSlot: HAX_VM_IOCTL_SET_RAM2 with
  // HAX_RAM_INFO_INVALID. ReplacePages: Remap(), with
  // HAX_CAP_IMPLICIT_RAMBLOCK only.
  HV_BACKEND_VM_SLOT_HOOKS(override)

  // HAX_VM_IOCTL_SET_RAM2 mapping [gpa, gpa + size) to `host` (flags as
  // given), or unmapping it (host == nullptr: HAX_RAM_INFO_INVALID).
  absl::Status SetRam(GuestAddress gpa, uint64_t size, const void* host,
                      uint32_t flags);
  // The SET_RAM2 flags that map `entry`.
  uint32_t MapFlags(const MemoryRegionOptions& options) const;
  // ALLOC_RAM or ADD_RAMBLOCK for the host range of a new region.
  absl::Status RegisterRamBlock(const void* host, uint64_t size)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Unmaps the region in `slot` from HAXM, makes `change` to it, and maps
  // it again (whether or not the change succeeded; the map is retried
  // once). Only if both map attempts fail is the slot left unmapped in
  // HAXM: INTERNAL.
  absl::Status Remap(MemSlot slot, MemorySlotTable::Entry& entry,
                     const HostPageChange& change)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  HaxmSys* const sys_;
  const std::shared_ptr<const HaxmDevice> device_;
  const HaxmHandleOwner handle_;
  const uint32_t vm_id_;
  const bool standalone_ram_;
  const std::shared_ptr<HaxmVcpuIds> vcpu_ids_;

  std::vector<RamBlock> ram_blocks_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace hv

#endif  // HV_HYPERVISOR_HAXM_HAXM_VM_H_
