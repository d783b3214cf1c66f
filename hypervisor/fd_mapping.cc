#include "hypervisor/fd_mapping.h"

#include <sys/mman.h>

#include <cerrno>

#include "absl/strings/str_format.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vm_checks.h"

namespace hv {

absl::Status MapFdIntoSlot(IoctlSeam& seam, MemorySlotTable& slots,
                           MemSlot slot, uint64_t offset, uint64_t size,
                           int fd, uint64_t fd_offset, Protection prot) {
  ASSIGN_OR_RETURN(MemorySlotTable::Entry * entry,
                   slots.FindRange("add fd mapping", slot, offset, size));
  RETURN_IF_ERROR(CheckFdMappingArguments(fd, fd_offset, HostPageSize()));
  // MAP_FIXED swaps the pages in one step.
  void* host = entry->region->data() + offset;
  if (seam.Mmap(host, size, ToMmapProt(prot), MAP_SHARED | MAP_FIXED, fd,
                static_cast<off_t>(fd_offset)) == MAP_FAILED) {
    const int error = errno;
    absl::Status status = ErrnoStatus(
        absl::StrFormat("mmap fd %d into slot %u at offset %#x size %#x", fd,
                        slot, offset, size),
        error);
    if (error == EBADF) return absl::InvalidArgumentError(status.message());
    return status;
  }
  return absl::OkStatus();
}

absl::Status RestoreSlotRange(IoctlSeam& seam, MemorySlotTable& slots,
                              MemSlot slot, uint64_t offset, uint64_t size) {
  ASSIGN_OR_RETURN(MemorySlotTable::Entry * entry,
                   slots.FindRange("remove mapping", slot, offset, size));
  const MemoryRegion& region = *entry->region;
  void* host = region.data() + offset;
  void* result;
  if (region.fd() < 0) {
    // An arena's empty state: private read-only zero pages.
    result = seam.Mmap(host, size, PROT_READ,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
                       -1, 0);
  } else {
    // A file-backed region's empty state: its own file, as first mapped.
    result = seam.Mmap(host, size, ToMmapProt(region.protection()),
                       MAP_SHARED | MAP_FIXED, region.fd(),
                       static_cast<off_t>(region.fd_offset() + offset));
  }
  if (result == MAP_FAILED) {
    return ErrnoStatus(absl::StrFormat(
        "mmap (remove mapping) slot %u offset %#x size %#x", slot, offset,
        size));
  }
  return absl::OkStatus();
}

}  // namespace hv
