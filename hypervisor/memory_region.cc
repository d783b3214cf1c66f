#include "hypervisor/memory_region.h"

#include "hypervisor/mmap_prot.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/status_macros.h"

namespace hv {

int ToMmapProt(Protection prot) {
  return (prot.read ? kProtRead : 0) | (prot.write ? kProtWrite : 0);
}

absl::StatusOr<std::unique_ptr<MemoryRegion>> MemoryRegion::CreateShared(
    absl::string_view name, uint64_t size) {
  ASSIGN_OR_RETURN(UniqueFd fd, CreateMemfd(name, size));
  ASSIGN_OR_RETURN(MmapRegion mapping,
                   MmapRegion::FromFd(fd.get(), 0, size, kProtRead | kProtWrite));
  return std::unique_ptr<MemoryRegion>(new MemoryRegion(
      std::move(mapping), std::move(fd), 0, Protection::ReadWrite(), false));
}

absl::StatusOr<std::unique_ptr<MemoryRegion>> MemoryRegion::CreateArena(
    uint64_t size) {
  ASSIGN_OR_RETURN(MmapRegion mapping, MmapRegion::Anonymous(size, kProtRead));
  return std::unique_ptr<MemoryRegion>(new MemoryRegion(
      std::move(mapping), UniqueFd(), 0, Protection::Read(), true));
}

absl::StatusOr<std::unique_ptr<MemoryRegion>> MemoryRegion::FromFd(
    int fd, uint64_t fd_offset, uint64_t size, Protection prot) {
  ASSIGN_OR_RETURN(MmapRegion mapping,
                   MmapRegion::FromFd(fd, fd_offset, size, ToMmapProt(prot)));
  ASSIGN_OR_RETURN(UniqueFd own, DuplicateFd(fd));
  return std::unique_ptr<MemoryRegion>(new MemoryRegion(
      std::move(mapping), std::move(own), fd_offset, prot, false));
}

absl::Status MemoryRegion::MapFd(uint64_t offset, uint64_t size, int fd,
                                 uint64_t fd_offset, Protection prot) {
  return mapping_.MapFdAt(offset, size, fd, fd_offset, ToMmapProt(prot));
}

absl::Status MemoryRegion::Unmap(uint64_t offset, uint64_t size) {
  return mapping_.MapAnonymousAt(offset, size, kProtRead);
}

}  // namespace hv
