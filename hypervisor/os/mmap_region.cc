// What MmapRegion does the same on every platform: ownership (moves and the
// release, through the platform's internal_mmap::Unmap) and the argument
// checks of MapFdAt. The mapping calls are in mmap_region_posix.cc and
// mmap_region_windows.cc.
#include "hypervisor/os/mmap_region.h"

#include "absl/strings/str_format.h"
#include "hypervisor/os/mmap_region_checks.h"
#include "hypervisor/os/status_macros.h"

namespace hv {

MmapRegion::MmapRegion(MmapRegion&& other) noexcept
    : data_(other.data_), size_(other.size_), prot_(other.prot_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

MmapRegion& MmapRegion::operator=(MmapRegion&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) internal_mmap::Unmap(data_, size_);
    data_ = other.data_;
    size_ = other.size_;
    prot_ = other.prot_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

MmapRegion::~MmapRegion() {
  if (data_ != nullptr) internal_mmap::Unmap(data_, size_);
}

absl::Status MmapRegion::CheckRange(const char* operation, size_t offset,
                                    size_t size) const {
  return internal_mmap::CheckRange(operation, offset, size, size_);
}

absl::Status MmapRegion::CheckFdMapping(size_t offset, size_t size,
                                        uint64_t fd_offset) const {
  RETURN_IF_ERROR(CheckRange("mmap fd into region", offset, size));
  return internal_mmap::CheckFdOffset("mmap fd into region: fd", fd_offset);
}

}  // namespace hv
