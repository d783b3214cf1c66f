// Argument checks shared by the POSIX and Windows MmapRegion implementations
// (private to hypervisor/os), so both reject bad sizes and offsets with the
// same Status, and the one call each platform answers for the shared code.
//
// Example:
//   RETURN_IF_ERROR(hv::internal_mmap::CheckSize("mmap anonymous", size));
#ifndef HV_HYPERVISOR_OS_MMAP_REGION_CHECKS_H_
#define HV_HYPERVISOR_OS_MMAP_REGION_CHECKS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/status_macros.h"

namespace hv {
namespace internal_mmap {

inline bool PageAligned(uint64_t value) { return value % HostPageSize() == 0; }

// CheckSize(): OK when `size` is a non-zero multiple of the page size.
inline absl::Status CheckSize(const char* operation, size_t size) {
  if (size == 0 || !PageAligned(size)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: size %#x is not a non-zero multiple of the page size %#x",
        operation, size, HostPageSize()));
  }
  return absl::OkStatus();
}

// CheckRange(): OK when [offset, offset + size) is page aligned, non-empty
// and inside a region of `region_size` bytes.
inline absl::Status CheckRange(const char* operation, size_t offset,
                               size_t size, size_t region_size) {
  RETURN_IF_ERROR(CheckSize(operation, size));
  if (!PageAligned(offset)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: offset %#x is not page aligned", operation, offset));
  }
  if (offset > region_size || size > region_size - offset) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: range [%#x, %#x) is outside the region of size %#x", operation,
        offset, offset + size, region_size));
  }
  return absl::OkStatus();
}

// CheckFdOffset(): OK when the file offset `fd_offset` is page aligned;
// else "<what> offset 0x... is not page aligned".
inline absl::Status CheckFdOffset(const std::string& what, uint64_t fd_offset) {
  if (!PageAligned(fd_offset)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s offset %#x is not page aligned", what, fd_offset));
  }
  return absl::OkStatus();
}

// CheckFromFd(): MmapRegion::FromFd()'s checks: the size, and a page-aligned
// file offset.
inline absl::Status CheckFromFd(int fd, uint64_t fd_offset, size_t size) {
  RETURN_IF_ERROR(CheckSize("mmap fd", size));
  return CheckFdOffset(absl::StrFormat("mmap fd %d:", fd), fd_offset);
}

// Unmap(): releases a region's `size` bytes at `data` (not null): munmap on
// POSIX, the view or the allocation on Windows. Each platform's
// mmap_region_*.cc has it; mmap_region.cc calls it.
void Unmap(uint8_t* data, size_t size);

}  // namespace internal_mmap
}  // namespace hv

#endif  // HV_HYPERVISOR_OS_MMAP_REGION_CHECKS_H_
