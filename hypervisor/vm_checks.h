// Argument checks every backend's Vm makes (most through BackendVm), written
// once so that each backend refuses the same bad argument with the same
// message. Each returns OK or the Status the Vm method returns as is; the
// messages start with the operation (the Vm method's words: "add memory
// region", "get dirty log").
// Backend support: not part of the hypervisor API.
//
// Example (BackendVm, backend_vm.cc):
//   RETURN_IF_ERROR(hv::CheckRegionGiven(region.get()));
//   ...
//   std::lock_guard<std::mutex> lock(mutex_);
//   ASSIGN_OR_RETURN(hv::MemorySlotTable::Entry * entry,
//                    hv::FindSlot("get dirty log", slots_, slot));
//   return ReadDirtyLog(slot, *entry);  // the backend's hook
#ifndef HV_HYPERVISOR_VM_CHECKS_H_
#define HV_HYPERVISOR_VM_CHECKS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "hypervisor/memory.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/memory_slot_table.h"
#include "hypervisor/vm.h"
#include "hypervisor/x86_64/regs.h"

namespace hv {

// CheckRegionGiven(): INVALID_ARGUMENT "add memory region: region is null"
// when `region` is null (Vm::AddMemoryRegion).
absl::Status CheckRegionGiven(const MemoryRegion* region);

// FindSlot(): the entry in `slot`, or NOT_FOUND "<operation>: <why>".
absl::StatusOr<MemorySlotTable::Entry*> FindSlot(const char* operation,
                                                 MemorySlotTable& slots,
                                                 MemSlot slot);

// CheckDirtyLogging(): FAILED_PRECONDITION "<operation>: ..." when the
// region in `slot` does not log dirty pages: added without
// MemoryRegionOptions::log_dirty_pages, or switched off since
// (Vm::GetDirtyLog, Vm::ClearDirtyLog).
absl::Status CheckDirtyLogging(const MemorySlotTable::Entry& entry,
                               MemSlot slot,
                               const char* operation = "get dirty log");

// CheckDirtyLogRange(): INVALID_ARGUMENT or OUT_OF_RANGE "clear dirty log
// (slot N): ..." unless pages [first_page, first_page + num_pages) of a
// region of `region_pages` pages are a range Vm::ClearDirtyLog takes
// (first_page a multiple of 64, num_pages non-zero and a multiple of 64
// unless the range ends at the region's end) and `bitmap_words` is
// (num_pages + 63) / 64. Overflow-safe.
absl::Status CheckDirtyLogRange(MemSlot slot, uint64_t region_pages,
                                uint64_t first_page, uint64_t num_pages,
                                size_t bitmap_words);

// CheckFdMappingArguments(): INVALID_ARGUMENT "add fd mapping: ..." when
// `fd` is negative or `fd_offset` is not a multiple of `page_size`
// (Vm::AddFdMapping).
absl::Status CheckFdMappingArguments(int fd, uint64_t fd_offset,
                                     uint64_t page_size);

// CheckIoEventLength(): INVALID_ARGUMENT "<operation>: length N is not 0, 1,
// 2, 4 or 8" unless the ioevent's length is one of those.
absl::Status CheckIoEventLength(const char* operation, uint32_t length);

// CheckIoEventAnyLength(): INVALID_ARGUMENT "<operation>: length 0 (any)
// cannot have a datamatch" for a length-0 ioevent with a datamatch.
absl::Status CheckIoEventAnyLength(const char* operation,
                                   const IoEventAddress& address);

// CheckResampleIrqfdEvents(): INVALID_ARGUMENT "register resample irqfd
// (gsi N): ..." when the trigger and the resample eventfd are one (the
// kernel would signal the line's own trigger on every EOI).
absl::Status CheckResampleIrqfdEvents(uint32_t gsi, int event_fd,
                                      int resample_fd);

// CheckGsiRoutes(): INVALID_ARGUMENT "set GSI routing: ..." (the route's
// index and GSI named) for more than `max_routes` routes, a GSI at or beyond
// `max_routes`, a kind that is neither, a GSI routed twice to the same
// irqchip, or a GSI with an MSI route and any other route (the rules of
// KVM_SET_GSI_ROUTING, checked before the kernel is asked).
absl::Status CheckGsiRoutes(absl::Span<const IrqRoute> routes,
                            uint32_t max_routes);

// CheckUserSpaceMsrRanges(): INVALID_ARGUMENT "set user-space MSRs: ..."
// (the range's index and MSRs named; for an overlap both ranges) for the
// bad sets VmX86_64::SetUserSpaceMsrs documents.
absl::Status CheckUserSpaceMsrRanges(absl::Span<const MsrRange> ranges);

// RangesOverlap(): whether [a, a + a_size) and [b, b + b_size) share a
// byte.
bool RangesOverlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size);

// A guest-physical range an in-kernel device claims (a GIC frame, the ITS).
struct DeviceFrame {
  std::string name;  // "the GICv3 distributor", for messages
  GuestAddress base = 0;
  uint64_t size = 0;
};

// An in-kernel device's guest-physical frames under a memory slot are
// hidden from the guest, so a backend refuses the overlap whichever comes
// first. CheckFramesClearOfRegions(), for the device: INVALID_ARGUMENT
// "<operation>: <frame> [base, end) would overlap memory region [...)
// (slot N)" for the first of `frames` that overlaps one of `regions`.
// CheckRegionClearOfFrames(), for the region (BackendVm::CheckDeviceFrames):
// ALREADY_EXISTS "add memory region [...): overlaps <frame> [base, end)" for
// the first of `frames` it overlaps.
absl::Status CheckFramesClearOfRegions(
    absl::string_view operation, absl::Span<const DeviceFrame> frames,
    const std::vector<MemoryRegionInfo>& regions);
absl::Status CheckRegionClearOfFrames(GuestAddress guest_address,
                                      uint64_t region_size,
                                      absl::Span<const DeviceFrame> frames);

}  // namespace hv

#endif  // HV_HYPERVISOR_VM_CHECKS_H_
