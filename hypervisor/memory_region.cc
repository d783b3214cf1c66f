#include "hypervisor/memory_region.h"

#include <fcntl.h>
#include <sys/mman.h>

#include "absl/strings/str_format.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/status_macros.h"

namespace hv {

int ToMmapProt(Protection prot) {
  return (prot.read ? PROT_READ : 0) | (prot.write ? PROT_WRITE : 0);
}

absl::StatusOr<std::unique_ptr<MemoryRegion>> MemoryRegion::CreateShared(
    absl::string_view name, uint64_t size) {
  ASSIGN_OR_RETURN(UniqueFd fd, CreateMemfd(name, size));
  ASSIGN_OR_RETURN(MmapRegion mapping,
                   MmapRegion::FromFd(fd.get(), 0, size, PROT_READ | PROT_WRITE));
  return std::unique_ptr<MemoryRegion>(new MemoryRegion(
      std::move(mapping), std::move(fd), 0, Protection::ReadWrite(), false));
}

absl::StatusOr<std::unique_ptr<MemoryRegion>> MemoryRegion::CreateArena(
    uint64_t size) {
  ASSIGN_OR_RETURN(MmapRegion mapping, MmapRegion::Anonymous(size, PROT_READ));
  return std::unique_ptr<MemoryRegion>(new MemoryRegion(
      std::move(mapping), UniqueFd(), 0, Protection::Read(), true));
}

absl::StatusOr<std::unique_ptr<MemoryRegion>> MemoryRegion::FromFd(
    int fd, uint64_t fd_offset, uint64_t size, Protection prot) {
  ASSIGN_OR_RETURN(MmapRegion mapping,
                   MmapRegion::FromFd(fd, fd_offset, size, ToMmapProt(prot)));
  UniqueFd own(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!own) return ErrnoStatus(absl::StrFormat("fcntl(%d, F_DUPFD_CLOEXEC)", fd));
  return std::unique_ptr<MemoryRegion>(new MemoryRegion(
      std::move(mapping), std::move(own), fd_offset, prot, false));
}

absl::Status MemoryRegion::MapFd(uint64_t offset, uint64_t size, int fd,
                                 uint64_t fd_offset, Protection prot) {
  return mapping_.MapFdAt(offset, size, fd, fd_offset, ToMmapProt(prot));
}

absl::Status MemoryRegion::Unmap(uint64_t offset, uint64_t size) {
  return mapping_.MapAnonymousAt(offset, size, PROT_READ);
}

}  // namespace hv
