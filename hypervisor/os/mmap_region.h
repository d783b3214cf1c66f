// MmapRegion: an owned mmap(2) mapping, unmapped on destruction.
//
// Guest memory and shared-memory arenas are MmapRegions. A range inside one
// can be replaced in place (MAP_FIXED) by a file mapping or by anonymous
// zero pages, which is how fd mappings go into an arena without a new
// hypervisor memory slot.
//
// On Windows, anonymous regions are VirtualAlloc'd (committed) memory and
// fd regions are views (MapViewOfFile) of a section handle (see UniqueFd;
// CreateMemfd makes pagefile-backed sections). Replacing part of a region in
// place has no Windows equivalent here: MapFdAt and MapAnonymousAt return
// UNIMPLEMENTED there (after checking their arguments as on Linux).
//
// Example:
//   ASSIGN_OR_RETURN(hv::MmapRegion arena,
//                    hv::MmapRegion::Anonymous(64 << 20, PROT_READ));
//   RETURN_IF_ERROR(arena.MapFdAt(0x10000, 0x10000, blob.get(), 0,
//                                 PROT_READ | PROT_WRITE));
#ifndef HV_HYPERVISOR_OS_MMAP_REGION_H_
#define HV_HYPERVISOR_OS_MMAP_REGION_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hv {

// Protection bits for MmapRegion's `prot` arguments: the values of Linux's
// PROT_READ, PROT_WRITE and PROT_EXEC (mmap_region_posix.cc asserts that),
// named here for platforms without <sys/mman.h>; 0 is no access.
inline constexpr int kProtRead = 0x1;
inline constexpr int kProtWrite = 0x2;
inline constexpr int kProtExec = 0x4;

// The host page size (sysconf(_SC_PAGESIZE); GetSystemInfo on Windows),
// read once.
size_t HostPageSize();

class MmapRegion {
 public:
  // MmapRegion::Anonymous(): private anonymous memory (MAP_NORESERVE), reads
  // as zeros. `size` must be a non-zero multiple of the page size.
  static absl::StatusOr<MmapRegion> Anonymous(size_t size, int prot);

  // MmapRegion::FromFd(): a MAP_SHARED mapping of `size` bytes of `fd` at
  // `fd_offset` (page aligned; on Windows a multiple of the allocation
  // granularity, 64 KiB).
  static absl::StatusOr<MmapRegion> FromFd(int fd, uint64_t fd_offset,
                                           size_t size, int prot);

  MmapRegion(MmapRegion&& other) noexcept;
  MmapRegion& operator=(MmapRegion&& other) noexcept;
  MmapRegion(const MmapRegion&) = delete;
  MmapRegion& operator=(const MmapRegion&) = delete;
  ~MmapRegion();

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  int prot() const { return prot_; }

  // MmapRegion::CanRemapInPlace(): whether MapFdAt / MapAnonymousAt work on
  // this OS (POSIX: yes; Windows: no, they return UNIMPLEMENTED).
  static bool CanRemapInPlace();

  // MmapRegion::MapFdAt(): replaces [offset, offset + size) with a MAP_SHARED
  // mapping of `fd` at `fd_offset`. On failure the range is unchanged.
  absl::Status MapFdAt(size_t offset, size_t size, int fd, uint64_t fd_offset,
                       int prot);

  // MmapRegion::MapAnonymousAt(): replaces [offset, offset + size) with
  // private anonymous zero pages of protection `prot`.
  absl::Status MapAnonymousAt(size_t offset, size_t size, int prot);

 private:
  MmapRegion(uint8_t* data, size_t size, int prot)
      : data_(data), size_(size), prot_(prot) {}
  absl::Status CheckRange(const char* operation, size_t offset,
                          size_t size) const;
  // MapFdAt()'s checks: the range, and a page-aligned `fd_offset`.
  absl::Status CheckFdMapping(size_t offset, size_t size,
                              uint64_t fd_offset) const;

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  int prot_ = 0;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_OS_MMAP_REGION_H_
