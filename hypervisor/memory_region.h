// MemoryRegion: host memory that a Vm maps into guest-physical space.
//
// A region is one host mapping. Shared regions are backed by a memfd, so the
// same pages can be mapped elsewhere (another process, a device). An arena is
// a region whose empty state is read-only zero pages, into which files are
// mapped at page-aligned offsets (Vm::AddFdMapping) without touching the
// hypervisor's slot table; removing a mapping puts that range back to the
// empty state, so the guest reads zeros there and its writes fault.
//
// Example:
//   ASSIGN_OR_RETURN(auto ram, hv::MemoryRegion::CreateShared("ram", 2 << 20));
//   std::memcpy(ram->data(), code, code_size);
//   ASSIGN_OR_RETURN(hv::MemSlot slot, vm->AddMemoryRegion(0, std::move(ram), {}));
#ifndef HV_HYPERVISOR_MEMORY_REGION_H_
#define HV_HYPERVISOR_MEMORY_REGION_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hypervisor/memory.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/unique_fd.h"

namespace hv {

class MemoryRegion {
 public:
  // MemoryRegion::CreateShared(): `size` bytes of zeroed, read-write memory
  // backed by a new memfd named `name`.
  static absl::StatusOr<std::unique_ptr<MemoryRegion>> CreateShared(
      absl::string_view name, uint64_t size);

  // MemoryRegion::CreateArena(): `size` bytes whose empty state is read-only
  // zero pages; fill it with MapFd().
  static absl::StatusOr<std::unique_ptr<MemoryRegion>> CreateArena(
      uint64_t size);

  // MemoryRegion::FromFd(): maps `size` bytes of `fd` at `fd_offset` with
  // `prot`; the region keeps its own duplicate of `fd`.
  static absl::StatusOr<std::unique_ptr<MemoryRegion>> FromFd(
      int fd, uint64_t fd_offset, uint64_t size, Protection prot);

  MemoryRegion(const MemoryRegion&) = delete;
  MemoryRegion& operator=(const MemoryRegion&) = delete;

  uint8_t* data() const { return mapping_.data(); }
  uint64_t size() const { return mapping_.size(); }
  // The backing file, or -1 for anonymous memory (an arena).
  int fd() const { return fd_.get(); }
  uint64_t fd_offset() const { return fd_offset_; }
  Protection protection() const { return protection_; }
  bool is_arena() const { return is_arena_; }

  // MemoryRegion::MapFd(): maps `size` bytes of `fd` at `fd_offset` over
  // [offset, offset + size). Offsets and size must be page aligned and the
  // range inside the region. On failure nothing changes.
  absl::Status MapFd(uint64_t offset, uint64_t size, int fd,
                     uint64_t fd_offset, Protection prot);

  // MemoryRegion::Unmap(): returns [offset, offset + size) to the empty
  // state (read-only zero pages).
  absl::Status Unmap(uint64_t offset, uint64_t size);

 private:
  MemoryRegion(MmapRegion mapping, UniqueFd fd, uint64_t fd_offset,
               Protection protection, bool is_arena)
      : mapping_(std::move(mapping)),
        fd_(std::move(fd)),
        fd_offset_(fd_offset),
        protection_(protection),
        is_arena_(is_arena) {}

  MmapRegion mapping_;
  const UniqueFd fd_;
  const uint64_t fd_offset_;
  const Protection protection_;
  const bool is_arena_;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_MEMORY_REGION_H_
