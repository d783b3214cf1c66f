// Vm::AddFdMapping and Vm::RemoveMapping for the ioctl backends whose
// hypervisor follows changes to a region's host pages (KVM's and
// Geniezone's MMU notifiers): both replace pages of the region's host
// mapping in place with mmap(MAP_FIXED) through the backend's IoctlSeam and
// make no hypervisor call. Written once here; the backend holds its lock
// and passes its slot table and seam. Linux only. Backend support: not part
// of the hypervisor API.
//
// Example (a backend's Vm):
//   absl::Status KvmVm::AddFdMapping(MemSlot slot, uint64_t offset,
//                                    uint64_t size, int fd,
//                                    uint64_t fd_offset, Protection prot) {
//     std::lock_guard<std::mutex> lock(mutex_);
//     return hv::MapFdIntoSlot(*sys_, slots_, slot, offset, size, fd,
//                              fd_offset, prot);
//   }
#ifndef HV_HYPERVISOR_FD_MAPPING_H_
#define HV_HYPERVISOR_FD_MAPPING_H_

#include <cstdint>

#include "absl/status/status.h"
#include "hypervisor/memory.h"
#include "hypervisor/memory_slot_table.h"
#include "hypervisor/os/ioctl_seam.h"

namespace hv {

// MapFdIntoSlot(): maps `size` bytes of `fd` at `fd_offset` with `prot`
// over [offset, offset + size) of the region in `slot`. A failure leaves the
// range as it was: the kernel resolves the fd and checks its mode before it
// touches the old mapping. NOT_FOUND, INVALID_ARGUMENT or OUT_OF_RANGE for a
// bad slot or range (MemorySlotTable::FindRange), INVALID_ARGUMENT for a bad
// fd or unaligned `fd_offset`, else mmap's errno as a Status.
absl::Status MapFdIntoSlot(IoctlSeam& seam, MemorySlotTable& slots,
                           MemSlot slot, uint64_t offset, uint64_t size,
                           int fd, uint64_t fd_offset, Protection prot);

// RestoreSlotRange(): puts [offset, offset + size) of the region in `slot`
// back to its empty state: an arena's read-only zero pages, or a
// file-backed region's own file as first mapped. FindRange's errors, else
// mmap's errno as a Status.
absl::Status RestoreSlotRange(IoctlSeam& seam, MemorySlotTable& slots,
                              MemSlot slot, uint64_t offset, uint64_t size);

}  // namespace hv

#endif  // HV_HYPERVISOR_FD_MAPPING_H_
