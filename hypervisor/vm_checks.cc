#include "hypervisor/vm_checks.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace hv {

absl::Status CheckRegionGiven(const MemoryRegion* region) {
  if (region == nullptr) {
    return absl::InvalidArgumentError("add memory region: region is null");
  }
  return absl::OkStatus();
}

absl::StatusOr<MemorySlotTable::Entry*> FindSlot(const char* operation,
                                                 MemorySlotTable& slots,
                                                 MemSlot slot) {
  absl::StatusOr<MemorySlotTable::Entry*> entry = slots.Find(slot);
  if (!entry.ok()) {
    return absl::NotFoundError(
        absl::StrCat(operation, ": ", entry.status().message()));
  }
  return entry;
}

absl::Status CheckDirtyLogging(const MemorySlotTable::Entry& entry,
                               MemSlot slot) {
  if (!entry.options.log_dirty_pages) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "get dirty log: slot %u was added without log_dirty_pages", slot));
  }
  return absl::OkStatus();
}

absl::Status CheckFdMappingArguments(int fd, uint64_t fd_offset,
                                     uint64_t page_size) {
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("add fd mapping: fd %d is not a file descriptor", fd));
  }
  if (fd_offset % page_size != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "add fd mapping: fd offset %#x is not page aligned", fd_offset));
  }
  return absl::OkStatus();
}

absl::Status CheckIoEventLength(const char* operation, uint32_t length) {
  if (length != 0 && length != 1 && length != 2 && length != 4 &&
      length != 8) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: length %u is not 0, 1, 2, 4 or 8", operation, length));
  }
  return absl::OkStatus();
}

absl::Status CheckIoEventAnyLength(const char* operation,
                                   const IoEventAddress& address) {
  if (address.length == 0 && address.datamatch.has_value()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: length 0 (any) cannot have a datamatch", operation));
  }
  return absl::OkStatus();
}

}  // namespace hv
