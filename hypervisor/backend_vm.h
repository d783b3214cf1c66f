// BackendVm<ArchVm>: what every backend's Vm shares, written once: the
// memory half of hv::Vm (AddMemoryRegion, RemoveMemoryRegion,
// MemoryRegions, AddFdMapping, RemoveMapping, GetDirtyLog, MaxMemorySlots,
// GuestAddressLimit) and the register/unregister pairs of ioeventfds and
// irqfds. `ArchVm` is hv::Vm, hv::VmX86_64 or hv::VmAArch64; a backend's VM
// derives from BackendVm<VmX86_64> (say) and keeps only what differs, in
// hooks around its hypervisor calls:
//
//   MapSlot       map a new region (or refuse an option it cannot honour)
//   UnmapSlot     take a region out of the hypervisor
//   ReplacePages  swap host pages of a mapped region (AddFdMapping and
//                 RemoveMapping: MAP_FIXED for KVM and Geniezone, unmap /
//                 swap / map for WHPX and HAXM)
//   ReadDirtyLog  read and reset a region's dirty bitmap
//   SwitchDirtyLogging   turn a live region's dirty logging on or off
//   EnableManualProtect  turn on manual dirty-log protection
//   ClearDirtyPages      reset and re-protect pages of a region's log
//   IoEvent       assign or deassign an ioeventfd
//   Irqfd         assign or deassign an irqfd
//
// A hypervisor without a dirty log, ioeventfds, irqfds or interrupt lines
// keeps the default of ReadDirtyLog, IoEvent, Irqfd or SetIrqLine:
// UNIMPLEMENTED, naming the hypervisor and the operation. SetDirtyLogging,
// EnableDirtyLogManualProtect and ClearDirtyLog are UNIMPLEMENTED the same
// way, before any other check, unless the VM reports VmCap::kDirtyLogSwitch
// or VmCap::kDirtyLogManualProtect.
//
// BackendVm owns the mutex and the MemorySlotTable. Each memory method
// checks its arguments (vm_checks.h), finds the slot, calls the hook with
// the mutex held and records the change only once the hook succeeded, so a
// failure leaves the VM exactly as it was, provided the hook itself changes
// nothing when it fails. Regions are destroyed with BackendVm, after the
// backend's own members. Backend support: not part of the hypervisor API.
//
// Example (a backend's VM):
//   class MyVm final : public hv::BackendVm<hv::VmX86_64> {
//     ...
//     absl::Status MapSlot(hv::MemSlot slot, hv::GuestAddress guest_address,
//                          hv::MemoryRegion& region,
//                          const hv::MemoryRegionOptions& options) override {
//       if (options.read_only) return absl::UnimplementedError("...");
//       return MapInMyHypervisor(slot, guest_address, region.data(),
//                                region.size());
//     }
//   };
#ifndef HV_HYPERVISOR_BACKEND_VM_H_
#define HV_HYPERVISOR_BACKEND_VM_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/memory.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/memory_slot_table.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/vm.h"

namespace hv {

// HostPageChange: what Vm::AddFdMapping (a file's pages) or
// Vm::RemoveMapping (the region's empty state) does to [offset, offset +
// size) of a region's host mapping. BackendVm has checked the range and the
// fd arguments before a backend sees one.
struct HostPageChange {
  // "add fd mapping" or "remove mapping", for messages.
  const char* operation = "";
  uint64_t offset = 0;
  uint64_t size = 0;
  // AddFdMapping: `size` bytes of `fd` at `fd_offset`, with `prot`.
  // RemoveMapping: fd -1.
  int fd = -1;
  uint64_t fd_offset = 0;
  Protection prot;

  // HostPageChange::Map() / Restore(): AddFdMapping's and RemoveMapping's.
  static HostPageChange Map(uint64_t offset, uint64_t size, int fd,
                            uint64_t fd_offset, Protection prot);
  static HostPageChange Restore(uint64_t offset, uint64_t size);

  bool maps_fd() const { return fd >= 0; }

  // HostPageChange::ApplyTo(): makes the change with MemoryRegion::MapFd or
  // MemoryRegion::Unmap (the host's own calls, not a backend's seam). On
  // failure nothing changes.
  absl::Status ApplyTo(MemoryRegion& region) const;
};

template <typename ArchVm>
class BackendVm : public ArchVm {
  static_assert(std::is_base_of_v<Vm, ArchVm>,
                "BackendVm implements an hv::Vm interface");

 public:
  BackendVm(const BackendVm&) = delete;
  BackendVm& operator=(const BackendVm&) = delete;

  uint32_t MaxMemorySlots() const final;
  uint64_t GuestAddressLimit() const final;
  absl::StatusOr<MemSlot> AddMemoryRegion(
      GuestAddress guest_address, std::unique_ptr<MemoryRegion> region,
      const MemoryRegionOptions& options) final;
  absl::StatusOr<std::unique_ptr<MemoryRegion>> RemoveMemoryRegion(
      MemSlot slot) final;
  std::vector<MemoryRegionInfo> MemoryRegions() const final;
  absl::Status AddFdMapping(MemSlot slot, uint64_t offset, uint64_t size,
                            int fd, uint64_t fd_offset, Protection prot) final;
  absl::Status RemoveMapping(MemSlot slot, uint64_t offset,
                             uint64_t size) final;
  absl::StatusOr<std::vector<uint64_t>> GetDirtyLog(MemSlot slot) final;
  // Vm::SetDirtyLogging(): the capability, the slot, then (unless the
  // setting is already `enabled`) the SwitchDirtyLogging() hook; the table
  // records the new setting only once the hook succeeded.
  absl::Status SetDirtyLogging(MemSlot slot, bool enabled) final;
  // Vm::EnableDirtyLogManualProtect(): the capability, no logging region,
  // then the EnableManualProtect() hook, once.
  absl::Status EnableDirtyLogManualProtect() final;
  // Vm::ClearDirtyLog(): the capability, the slot, manual protection, the
  // region's logging and the range (CheckDirtyLogRange), then the
  // ClearDirtyPages() hook.
  absl::Status ClearDirtyLog(MemSlot slot, uint64_t first_page,
                             uint64_t num_pages,
                             absl::Span<const uint64_t> bitmap) final;

  absl::Status RegisterIoEvent(const EventFd& event,
                               const IoEventAddress& address) final {
    return IoEvent(event, address, true);
  }
  absl::Status UnregisterIoEvent(const EventFd& event,
                                 const IoEventAddress& address) final {
    return IoEvent(event, address, false);
  }
  absl::Status RegisterIrqfd(const EventFd& event, uint32_t gsi) final {
    return Irqfd(event, gsi, true);
  }
  absl::Status UnregisterIrqfd(const EventFd& event, uint32_t gsi) final {
    return Irqfd(event, gsi, false);
  }
  // Vm::RegisterResampleIrqfd(): checks that the two events differ, then
  // the ResampleIrqfd() hook.
  absl::Status RegisterResampleIrqfd(const EventFd& event, uint32_t gsi,
                                     const EventFd& resample) final;

  // Vm::SetGsiRouting(), Vm::MaxGsiRoutes(), Vm::SignalMsi(): by default
  // UNIMPLEMENTED (and 0 routes), for a hypervisor without in-kernel GSI
  // routing or MSI injection.
  absl::Status SetGsiRouting(absl::Span<const IrqRoute> routes) override;
  uint32_t MaxGsiRoutes() const override { return 0; }
  absl::StatusOr<bool> SignalMsi(const MsiMessage& msi) override;

  // Vm::SetIrqLine(): by default UNIMPLEMENTED, for a hypervisor without an
  // in-kernel interrupt controller.
  absl::Status SetIrqLine(uint32_t irq, bool level) override;

 protected:
  // `hypervisor` names the hypervisor in the defaults' messages ("HAXM").
  // `max_slots` slots; regions end at or below `address_limit`; addresses,
  // sizes and fd offsets are multiples of `page_size` (MemorySlotTable).
  BackendVm(const char* hypervisor, uint32_t max_slots, uint64_t address_limit,
            uint64_t page_size)
      : hypervisor_(hypervisor), slots_(max_slots, address_limit, page_size) {}

  // BackendVm::MapSlot(): maps `region` at `guest_address` as `slot` (which
  // MemorySlotTable::Check() gave), or refuses an option the hypervisor
  // cannot honour with UNIMPLEMENTED. On error nothing stays mapped.
  virtual absl::Status MapSlot(MemSlot slot, GuestAddress guest_address,
                               MemoryRegion& region,
                               const MemoryRegionOptions& options)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) = 0;

  // BackendVm::UnmapSlot(): takes the region in `slot` out of the
  // hypervisor (RemoveMemoryRegion), or says why it cannot; on error it
  // stays mapped.
  virtual absl::Status UnmapSlot(MemSlot slot,
                                 const MemorySlotTable::Entry& entry)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) = 0;

  // BackendVm::ReplacePages(): makes `change` to the region in `slot` so
  // that the guest sees it. On error the range is as it was, or the message
  // says what state it is in.
  virtual absl::Status ReplacePages(MemSlot slot, MemorySlotTable::Entry& entry,
                                    const HostPageChange& change)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) = 0;

  // BackendVm::ReadDirtyLog(): Vm::GetDirtyLog() for the region in `slot`
  // (EmptyDirtyBitmap() checks and sizes the bitmap). By default
  // UNIMPLEMENTED: no dirty log.
  virtual absl::StatusOr<std::vector<uint64_t>> ReadDirtyLog(
      MemSlot slot, const MemorySlotTable::Entry& entry)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  // BackendVm::SwitchDirtyLogging(): makes the hypervisor log (or stop
  // logging) the region in `slot`, whose entry still has the old setting,
  // keeping everything else about it. On error nothing changed. By
  // default UNIMPLEMENTED (never called without VmCap::kDirtyLogSwitch).
  virtual absl::Status SwitchDirtyLogging(MemSlot slot,
                                          const MemorySlotTable::Entry& entry,
                                          bool enabled)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  // BackendVm::EnableManualProtect(): turns on manual dirty-log protection
  // for the whole VM (no region logs yet). By default UNIMPLEMENTED.
  virtual absl::Status EnableManualProtect()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  // BackendVm::ClearDirtyPages(): Vm::ClearDirtyLog() once every argument
  // is checked. By default UNIMPLEMENTED.
  virtual absl::Status ClearDirtyPages(MemSlot slot,
                                       const MemorySlotTable::Entry& entry,
                                       uint64_t first_page, uint64_t num_pages,
                                       absl::Span<const uint64_t> bitmap)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  // BackendVm::IoEvent() / Irqfd(): Vm::RegisterIoEvent (assign) and
  // Vm::UnregisterIoEvent, Vm::RegisterIrqfd and Vm::UnregisterIrqfd.
  // Called without the mutex. By default UNIMPLEMENTED: no in-kernel
  // ioeventfds or irqfds.
  virtual absl::Status IoEvent(const EventFd& event,
                               const IoEventAddress& address, bool assign);
  virtual absl::Status Irqfd(const EventFd& event, uint32_t gsi, bool assign);
  // BackendVm::ResampleIrqfd(): Vm::RegisterResampleIrqfd once `event` and
  // `resample` are known to differ. Called without the mutex. By default
  // UNIMPLEMENTED: no level-triggered irqfds.
  virtual absl::Status ResampleIrqfd(const EventFd& event, uint32_t gsi,
                                     const EventFd& resample);

  // BackendVm::CheckDeviceFrames(): AddMemoryRegion's last check before
  // MapSlot, with the mutex held: an error naming the device when
  // [guest_address, guest_address + size) overlaps guest-physical frames
  // the backend gave an in-kernel device (a memory slot there would hide
  // the device from the guest). By default OK: no such frames.
  virtual absl::Status CheckDeviceFrames(GuestAddress guest_address,
                                         uint64_t size) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return absl::OkStatus();
  }

  // BackendVm::RegionsLocked(): MemoryRegions() for a caller that holds the
  // mutex.
  std::vector<MemoryRegionInfo> RegionsLocked() const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return slots_.List();
  }

  // BackendVm::EmptyDirtyBitmap(): FAILED_PRECONDITION (CheckDirtyLogging)
  // unless the region in `slot` logs dirty pages; else a zeroed bitmap of
  // one bit a page, for ReadDirtyLog() to fill.
  absl::StatusOr<std::vector<uint64_t>> EmptyDirtyBitmap(
      MemSlot slot, const MemorySlotTable::Entry& entry) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  // The hypervisor's name, as the constructor was given it.
  const char* hypervisor() const { return hypervisor_; }

  // Guards the slot table and the backend's own mutable VM state.
  // std::mutex (not absl::Mutex) so ThreadSanitizer sees the ordering.
  mutable std::mutex mutex_;

 private:
  // UNIMPLEMENTED "<operation>: <hypervisor> ..." unless the VM reports
  // `cap`.
  absl::Status CheckDirtyLogCap(VmCap cap, const char* operation) const;

  const char* const hypervisor_;
  MemorySlotTable slots_ ABSL_GUARDED_BY(mutex_);
  // Vm::EnableDirtyLogManualProtect() succeeded.
  bool manual_protect_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_BACKEND_VM_H_
