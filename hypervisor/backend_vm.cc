#include "hypervisor/backend_vm.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vm_checks.h"
#include "hypervisor/x86_64/vm_x86_64.h"

namespace hv {

HostPageChange HostPageChange::Map(uint64_t offset, uint64_t size, int fd,
                                   uint64_t fd_offset, Protection prot) {
  HostPageChange change = Restore(offset, size);
  change.operation = "add fd mapping";
  change.fd = fd;
  change.fd_offset = fd_offset;
  change.prot = prot;
  return change;
}

HostPageChange HostPageChange::Restore(uint64_t offset, uint64_t size) {
  HostPageChange change;
  change.operation = "remove mapping";
  change.offset = offset;
  change.size = size;
  return change;
}

absl::Status HostPageChange::ApplyTo(MemoryRegion& region) const {
  if (maps_fd()) return region.MapFd(offset, size, fd, fd_offset, prot);
  return region.Unmap(offset, size);
}

template <typename ArchVm>
uint32_t BackendVm<ArchVm>::MaxMemorySlots() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return slots_.max_slots();
}

template <typename ArchVm>
uint64_t BackendVm<ArchVm>::GuestAddressLimit() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return slots_.address_limit();
}

template <typename ArchVm>
absl::StatusOr<MemSlot> BackendVm<ArchVm>::AddMemoryRegion(
    GuestAddress guest_address, std::unique_ptr<MemoryRegion> region,
    const MemoryRegionOptions& options) {
  RETURN_IF_ERROR(CheckRegionGiven(region.get()));
  std::lock_guard<std::mutex> lock(mutex_);
  ASSIGN_OR_RETURN(MemSlot slot, slots_.Check(guest_address, region->size()));
  RETURN_IF_ERROR(CheckDeviceFrames(guest_address, region->size()));
  RETURN_IF_ERROR(MapSlot(slot, guest_address, *region, options));
  slots_.Insert(slot, guest_address, std::move(region), options);
  return slot;
}

template <typename ArchVm>
absl::StatusOr<std::unique_ptr<MemoryRegion>>
BackendVm<ArchVm>::RemoveMemoryRegion(MemSlot slot) {
  std::lock_guard<std::mutex> lock(mutex_);
  ASSIGN_OR_RETURN(MemorySlotTable::Entry * entry,
                   FindSlot("remove memory region", slots_, slot));
  RETURN_IF_ERROR(UnmapSlot(slot, *entry));
  ASSIGN_OR_RETURN(MemorySlotTable::Entry removed, slots_.Remove(slot));
  return std::move(removed.region);
}

template <typename ArchVm>
std::vector<MemoryRegionInfo> BackendVm<ArchVm>::MemoryRegions() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return RegionsLocked();
}

template <typename ArchVm>
absl::Status BackendVm<ArchVm>::AddFdMapping(MemSlot slot, uint64_t offset,
                                             uint64_t size, int fd,
                                             uint64_t fd_offset,
                                             Protection prot) {
  const HostPageChange change =
      HostPageChange::Map(offset, size, fd, fd_offset, prot);
  std::lock_guard<std::mutex> lock(mutex_);
  ASSIGN_OR_RETURN(MemorySlotTable::Entry * entry,
                   slots_.FindRange(change.operation, slot, offset, size));
  RETURN_IF_ERROR(CheckFdMappingArguments(fd, fd_offset, slots_.alignment()));
  return ReplacePages(slot, *entry, change);
}

template <typename ArchVm>
absl::Status BackendVm<ArchVm>::RemoveMapping(MemSlot slot, uint64_t offset,
                                              uint64_t size) {
  const HostPageChange change = HostPageChange::Restore(offset, size);
  std::lock_guard<std::mutex> lock(mutex_);
  ASSIGN_OR_RETURN(MemorySlotTable::Entry * entry,
                   slots_.FindRange(change.operation, slot, offset, size));
  return ReplacePages(slot, *entry, change);
}

template <typename ArchVm>
absl::StatusOr<std::vector<uint64_t>> BackendVm<ArchVm>::GetDirtyLog(
    MemSlot slot) {
  std::lock_guard<std::mutex> lock(mutex_);
  ASSIGN_OR_RETURN(MemorySlotTable::Entry * entry,
                   FindSlot("get dirty log", slots_, slot));
  return ReadDirtyLog(slot, *entry);
}

template <typename ArchVm>
absl::Status BackendVm<ArchVm>::CheckDirtyLogCap(VmCap cap,
                                                 const char* operation) const {
  if (this->CheckCapability(cap)) return absl::OkStatus();
  if (cap == VmCap::kDirtyLogSwitch) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: %s cannot switch dirty logging of a region that is already "
        "added; choose MemoryRegionOptions::log_dirty_pages when adding it",
        operation, hypervisor_));
  }
  return absl::UnimplementedError(absl::StrFormat(
      "%s: %s has no manual dirty-log protection; GetDirtyLog resets the log",
      operation, hypervisor_));
}

template <typename ArchVm>
absl::Status BackendVm<ArchVm>::SetDirtyLogging(MemSlot slot, bool enabled) {
  const char* const operation =
      enabled ? "set dirty logging on" : "set dirty logging off";
  RETURN_IF_ERROR(CheckDirtyLogCap(VmCap::kDirtyLogSwitch, operation));
  std::lock_guard<std::mutex> lock(mutex_);
  ASSIGN_OR_RETURN(MemorySlotTable::Entry * entry,
                   FindSlot(operation, slots_, slot));
  if (entry->options.log_dirty_pages == enabled) return absl::OkStatus();
  RETURN_IF_ERROR(SwitchDirtyLogging(slot, *entry, enabled));
  entry->options.log_dirty_pages = enabled;
  return absl::OkStatus();
}

template <typename ArchVm>
absl::Status BackendVm<ArchVm>::EnableDirtyLogManualProtect() {
  constexpr const char* kOperation = "enable dirty log manual protect";
  RETURN_IF_ERROR(
      CheckDirtyLogCap(VmCap::kDirtyLogManualProtect, kOperation));
  std::lock_guard<std::mutex> lock(mutex_);
  if (manual_protect_) return absl::OkStatus();
  for (const MemoryRegionInfo& info : slots_.List()) {
    if (info.options.log_dirty_pages) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: slot %u already logs dirty pages; turn manual protection on "
          "before any region logs (or switch its logging off first)",
          kOperation, info.slot));
    }
  }
  RETURN_IF_ERROR(EnableManualProtect());
  manual_protect_ = true;
  return absl::OkStatus();
}

template <typename ArchVm>
absl::Status BackendVm<ArchVm>::ClearDirtyLog(
    MemSlot slot, uint64_t first_page, uint64_t num_pages,
    absl::Span<const uint64_t> bitmap) {
  constexpr const char* kOperation = "clear dirty log";
  RETURN_IF_ERROR(
      CheckDirtyLogCap(VmCap::kDirtyLogManualProtect, kOperation));
  std::lock_guard<std::mutex> lock(mutex_);
  ASSIGN_OR_RETURN(MemorySlotTable::Entry * entry,
                   FindSlot(kOperation, slots_, slot));
  if (!manual_protect_) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s (slot %u): manual protection is off (GetDirtyLog already "
        "re-protects); call EnableDirtyLogManualProtect first",
        kOperation, slot));
  }
  RETURN_IF_ERROR(CheckDirtyLogging(*entry, slot, kOperation));
  RETURN_IF_ERROR(CheckDirtyLogRange(slot,
                                     entry->region->size() / slots_.alignment(),
                                     first_page, num_pages, bitmap.size()));
  return ClearDirtyPages(slot, *entry, first_page, num_pages, bitmap);
}

template <typename ArchVm>
absl::Status BackendVm<ArchVm>::SwitchDirtyLogging(
    MemSlot slot, const MemorySlotTable::Entry&, bool enabled) {
  return absl::UnimplementedError(absl::StrFormat(
      "set dirty logging %s (slot %u): %s cannot switch it on a live region",
      enabled ? "on" : "off", slot, hypervisor_));
}

template <typename ArchVm>
absl::Status BackendVm<ArchVm>::EnableManualProtect() {
  return absl::UnimplementedError(absl::StrFormat(
      "enable dirty log manual protect: %s has no manual dirty-log "
      "protection",
      hypervisor_));
}

template <typename ArchVm>
absl::Status BackendVm<ArchVm>::ClearDirtyPages(
    MemSlot slot, const MemorySlotTable::Entry&, uint64_t, uint64_t,
    absl::Span<const uint64_t>) {
  return absl::UnimplementedError(absl::StrFormat(
      "clear dirty log (slot %u): %s has no manual dirty-log protection",
      slot, hypervisor_));
}

template <typename ArchVm>
absl::StatusOr<std::vector<uint64_t>> BackendVm<ArchVm>::EmptyDirtyBitmap(
    MemSlot slot, const MemorySlotTable::Entry& entry) const {
  RETURN_IF_ERROR(CheckDirtyLogging(entry, slot));
  const uint64_t pages = entry.region->size() / slots_.alignment();
  return std::vector<uint64_t>((pages + 63) / 64, 0);
}

template <typename ArchVm>
absl::StatusOr<std::vector<uint64_t>> BackendVm<ArchVm>::ReadDirtyLog(
    MemSlot slot, const MemorySlotTable::Entry&) {
  return absl::UnimplementedError(absl::StrFormat(
      "get dirty log (slot %u): %s has no dirty-page log", slot, hypervisor_));
}

template <typename ArchVm>
absl::Status BackendVm<ArchVm>::IoEvent(const EventFd&,
                                        const IoEventAddress& address,
                                        bool assign) {
  return absl::UnimplementedError(absl::StrFormat(
      "%s ioeventfd at %s %#x: %s has no in-kernel ioeventfd; handle the "
      "access in the vCPU's I/O or MMIO exit instead",
      assign ? "register" : "unregister",
      address.space == IoEventAddress::Space::kPio ? "port" : "MMIO",
      address.address, hypervisor_));
}

template <typename ArchVm>
absl::Status BackendVm<ArchVm>::Irqfd(const EventFd&, uint32_t gsi,
                                      bool assign) {
  return absl::UnimplementedError(absl::StrFormat(
      "%s irqfd (gsi %u): %s has no in-kernel interrupt lines to signal; "
      "inject interrupts through the vCPU instead",
      assign ? "register" : "unregister", gsi, hypervisor_));
}

template <typename ArchVm>
absl::Status BackendVm<ArchVm>::SetIrqLine(uint32_t irq, bool level) {
  return absl::UnimplementedError(absl::StrFormat(
      "set irq line %u to %d: %s has no in-kernel interrupt controller (PIC, "
      "IOAPIC or GIC); inject interrupts through the vCPU instead",
      irq, level ? 1 : 0, hypervisor_));
}

template <typename ArchVm>
absl::Status BackendVm<ArchVm>::RegisterResampleIrqfd(const EventFd& event,
                                                      uint32_t gsi,
                                                      const EventFd& resample) {
  RETURN_IF_ERROR(CheckResampleIrqfdEvents(gsi, event.fd(), resample.fd()));
  return ResampleIrqfd(event, gsi, resample);
}

template <typename ArchVm>
absl::Status BackendVm<ArchVm>::ResampleIrqfd(const EventFd&, uint32_t gsi,
                                              const EventFd&) {
  return absl::UnimplementedError(absl::StrFormat(
      "register resample irqfd (gsi %u): %s has no level-triggered irqfds; "
      "use a plain irqfd or inject interrupts through the vCPU",
      gsi, hypervisor_));
}

template <typename ArchVm>
absl::Status BackendVm<ArchVm>::SetGsiRouting(
    absl::Span<const IrqRoute> routes) {
  return absl::UnimplementedError(absl::StrFormat(
      "set GSI routing (%u routes): %s has no in-kernel GSI routing",
      routes.size(), hypervisor_));
}

template <typename ArchVm>
absl::StatusOr<bool> BackendVm<ArchVm>::SignalMsi(const MsiMessage& msi) {
  return absl::UnimplementedError(absl::StrFormat(
      "signal MSI (address %#x, data %#x): %s cannot inject an MSI",
      msi.address, msi.data, hypervisor_));
}

// The three interfaces a backend's VM implements.
template class BackendVm<Vm>;
template class BackendVm<VmX86_64>;
template class BackendVm<VmAArch64>;

}  // namespace hv
