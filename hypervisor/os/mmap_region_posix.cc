// MmapRegion on POSIX: mmap(2) / munmap(2), ranges replaced with MAP_FIXED.
#include <sys/mman.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/mmap_region_checks.h"
#include "hypervisor/os/status_macros.h"

namespace hv {

static_assert(kProtRead == PROT_READ && kProtWrite == PROT_WRITE &&
                  kProtExec == PROT_EXEC,
              "hv's kProt* bits are the PROT_* values");

size_t HostPageSize() {
  static const size_t page_size = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  return page_size;
}

using internal_mmap::CheckSize;

absl::StatusOr<MmapRegion> MmapRegion::Anonymous(size_t size, int prot) {
  RETURN_IF_ERROR(CheckSize("mmap anonymous", size));
  void* p = ::mmap(nullptr, size, prot,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    return ErrnoStatus(absl::StrFormat("mmap anonymous %#x bytes", size));
  }
  return MmapRegion(static_cast<uint8_t*>(p), size, prot);
}

absl::StatusOr<MmapRegion> MmapRegion::FromFd(int fd, uint64_t fd_offset,
                                              size_t size, int prot) {
  RETURN_IF_ERROR(internal_mmap::CheckFromFd(fd, fd_offset, size));
  void* p = ::mmap(nullptr, size, prot, MAP_SHARED, fd,
                   static_cast<off_t>(fd_offset));
  if (p == MAP_FAILED) {
    return ErrnoStatus(absl::StrFormat("mmap fd %d offset %#x size %#x", fd,
                                       fd_offset, size));
  }
  return MmapRegion(static_cast<uint8_t*>(p), size, prot);
}

namespace internal_mmap {
void Unmap(uint8_t* data, size_t size) { ::munmap(data, size); }
}  // namespace internal_mmap

bool MmapRegion::CanRemapInPlace() { return true; }

absl::Status MmapRegion::MapFdAt(size_t offset, size_t size, int fd,
                                 uint64_t fd_offset, int prot) {
  RETURN_IF_ERROR(CheckFdMapping(offset, size, fd_offset));
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
  RETURN_IF_ERROR(CheckRange("mmap anonymous into region", offset, size));
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
