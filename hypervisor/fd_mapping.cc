#include "hypervisor/fd_mapping.h"

#include <sys/mman.h>

#include <cerrno>

#include "absl/strings/str_format.h"
#include "hypervisor/mmap_prot.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/mmap_region.h"

namespace hv {
namespace {

// The mmap that maps `change.fd` over the range; MAP_FIXED swaps the pages
// in one step.
absl::Status MapFd(IoctlSeam& seam, MemSlot slot, void* host,
                   const HostPageChange& change) {
  if (seam.Mmap(host, change.size, ToMmapProt(change.prot),
                MAP_SHARED | MAP_FIXED, change.fd,
                static_cast<off_t>(change.fd_offset)) != MAP_FAILED) {
    return absl::OkStatus();
  }
  const int error = errno;
  absl::Status status = ErrnoStatus(
      absl::StrFormat("mmap fd %d into slot %u at offset %#x size %#x",
                      change.fd, slot, change.offset, change.size),
      error);
  if (error == EBADF) return absl::InvalidArgumentError(status.message());
  return status;
}

}  // namespace

absl::Status ReplaceHostPages(IoctlSeam& seam, MemSlot slot,
                              const MemoryRegion& region,
                              const HostPageChange& change) {
  void* host = region.data() + change.offset;
  if (change.maps_fd()) return MapFd(seam, slot, host, change);
  void* result;
  if (region.fd() < 0) {
    // An arena's empty state: private read-only zero pages.
    result = seam.Mmap(host, change.size, PROT_READ,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
                       -1, 0);
  } else {
    // A file-backed region's empty state: its own file, as first mapped.
    result = seam.Mmap(host, change.size, ToMmapProt(region.protection()),
                       MAP_SHARED | MAP_FIXED, region.fd(),
                       static_cast<off_t>(region.fd_offset() + change.offset));
  }
  if (result == MAP_FAILED) {
    return ErrnoStatus(
        absl::StrFormat("mmap (remove mapping) slot %u offset %#x size %#x",
                        slot, change.offset, change.size));
  }
  return absl::OkStatus();
}

}  // namespace hv
