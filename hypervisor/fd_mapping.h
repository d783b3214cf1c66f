// BackendVm::ReplacePages for the ioctl backends whose hypervisor follows
// changes to a region's host pages (KVM's and Geniezone's MMU notifiers):
// Vm::AddFdMapping and Vm::RemoveMapping replace pages of the region's host
// mapping in place with mmap(MAP_FIXED) through the backend's IoctlSeam
// (so a test can fail the call) and make no hypervisor call. Linux only.
// Backend support: not part of the hypervisor API.
//
// Example (a backend's VM):
//   absl::Status KvmVmCore::ReplacePages(MemSlot slot,
//                                        MemorySlotTable::Entry& entry,
//                                        const HostPageChange& change) {
//     return hv::ReplaceHostPages(*sys_, slot, *entry.region, change);
//   }
#ifndef HV_HYPERVISOR_FD_MAPPING_H_
#define HV_HYPERVISOR_FD_MAPPING_H_

#include "absl/status/status.h"
#include "hypervisor/backend_vm.h"
#include "hypervisor/memory.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/ioctl_seam.h"

namespace hv {

// ReplaceHostPages(): makes `change` to `region` (in `slot`, for messages)
// with one mmap(MAP_FIXED) through `seam`: `change.fd` mapped with its
// protection, or the region's empty state put back (an arena's read-only
// zero pages, or a file-backed region's own file as first mapped). The
// range and fd arguments must be checked already (BackendVm does). A
// failure leaves the range as it was: the kernel resolves the fd and checks
// its mode before it touches the old mapping. INVALID_ARGUMENT for an fd
// that is not open, else mmap's errno as a Status.
absl::Status ReplaceHostPages(IoctlSeam& seam, MemSlot slot,
                              const MemoryRegion& region,
                              const HostPageChange& change);

}  // namespace hv

#endif  // HV_HYPERVISOR_FD_MAPPING_H_
