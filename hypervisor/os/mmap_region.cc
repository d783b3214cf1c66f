#include "hypervisor/os/mmap_region.h"

#include <sys/mman.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hypervisor/os/errno_status.h"

namespace hv {

size_t HostPageSize() {
  static const size_t page_size = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  return page_size;
}

namespace {

bool PageAligned(uint64_t value) { return value % HostPageSize() == 0; }

absl::Status CheckSize(const char* operation, size_t size) {
  if (size == 0 || !PageAligned(size)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: size %#x is not a non-zero multiple of the page size %#x",
        operation, size, HostPageSize()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<MmapRegion> MmapRegion::Anonymous(size_t size, int prot) {
  if (absl::Status s = CheckSize("mmap anonymous", size); !s.ok()) return s;
  void* p = ::mmap(nullptr, size, prot,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    return ErrnoStatus(absl::StrFormat("mmap anonymous %#x bytes", size));
  }
  return MmapRegion(static_cast<uint8_t*>(p), size, prot);
}

absl::StatusOr<MmapRegion> MmapRegion::FromFd(int fd, uint64_t fd_offset,
                                              size_t size, int prot) {
  if (absl::Status s = CheckSize("mmap fd", size); !s.ok()) return s;
  if (!PageAligned(fd_offset)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "mmap fd %d: offset %#x is not page aligned", fd, fd_offset));
  }
  void* p = ::mmap(nullptr, size, prot, MAP_SHARED, fd,
                   static_cast<off_t>(fd_offset));
  if (p == MAP_FAILED) {
    return ErrnoStatus(absl::StrFormat("mmap fd %d offset %#x size %#x", fd,
                                       fd_offset, size));
  }
  return MmapRegion(static_cast<uint8_t*>(p), size, prot);
}

MmapRegion::MmapRegion(MmapRegion&& other) noexcept
    : data_(other.data_), size_(other.size_), prot_(other.prot_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

MmapRegion& MmapRegion::operator=(MmapRegion&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = other.data_;
    size_ = other.size_;
    prot_ = other.prot_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

MmapRegion::~MmapRegion() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

absl::Status MmapRegion::CheckRange(const char* operation, size_t offset,
                                    size_t size) const {
  if (absl::Status s = CheckSize(operation, size); !s.ok()) return s;
  if (!PageAligned(offset)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: offset %#x is not page aligned", operation, offset));
  }
  if (offset > size_ || size > size_ - offset) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: range [%#x, %#x) is outside the region of size %#x", operation,
        offset, offset + size, size_));
  }
  return absl::OkStatus();
}

absl::Status MmapRegion::MapFdAt(size_t offset, size_t size, int fd,
                                 uint64_t fd_offset, int prot) {
  if (absl::Status s = CheckRange("mmap fd into region", offset, size);
      !s.ok()) {
    return s;
  }
  if (!PageAligned(fd_offset)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "mmap fd into region: fd offset %#x is not page aligned", fd_offset));
  }
  // MAP_FIXED replaces the old pages atomically; when mmap fails it leaves
  // the old mapping in place (the kernel validates fd and flags first).
  void* p = ::mmap(data_ + offset, size, prot, MAP_SHARED | MAP_FIXED, fd,
                   static_cast<off_t>(fd_offset));
  if (p == MAP_FAILED) {
    return ErrnoStatus(absl::StrFormat(
        "mmap fd %d at region offset %#x size %#x", fd, offset, size));
  }
  return absl::OkStatus();
}

absl::Status MmapRegion::MapAnonymousAt(size_t offset, size_t size, int prot) {
  if (absl::Status s = CheckRange("mmap anonymous into region", offset, size);
      !s.ok()) {
    return s;
  }
  void* p = ::mmap(data_ + offset, size, prot,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
                   -1, 0);
  if (p == MAP_FAILED) {
    return ErrnoStatus(absl::StrFormat(
        "mmap anonymous at region offset %#x size %#x", offset, size));
  }
  return absl::OkStatus();
}

}  // namespace hv
