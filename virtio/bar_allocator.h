// BarAllocator: places memory BARs in a window of guest-physical address
// space. A memory BAR is a power of two in size and naturally aligned
// (PCI Local Bus Specification 3.0 §6.2.5.1), so every allocation is
// aligned to its own size; the lowest fitting address wins. Not thread safe
// (BARs are placed while a VM is being built).
//
// Example:
//   ASSIGN_OR_RETURN(auto bars, hv::virtio::BarAllocator::Create(
//                                   uint64_t{1} << 32, uint64_t{1} << 34));
//   ASSIGN_OR_RETURN(uint64_t address,
//                    bars->Allocate(hv::virtio::BarSizeFor(shm.length)));
#ifndef HV_VIRTIO_BAR_ALLOCATOR_H_
#define HV_VIRTIO_BAR_ALLOCATOR_H_

#include <cstdint>
#include <map>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hv::virtio {

// BarSizeFor(): the BAR size that holds `length` bytes: the next power of
// two, at least one host page (so the BAR can be mapped); 0 when `length`
// is 0 or above 2^63.
uint64_t BarSizeFor(uint64_t length);

class BarAllocator {
 public:
  // BarAllocator::Create(): allocates from [base, base + size); both page
  // multiples, size non-zero, no wrap-around.
  static absl::StatusOr<std::unique_ptr<BarAllocator>> Create(uint64_t base,
                                                              uint64_t size);

  BarAllocator(const BarAllocator&) = delete;
  BarAllocator& operator=(const BarAllocator&) = delete;

  // BarAllocator::Allocate(): the lowest `size`-aligned free range of
  // `size` bytes (a power of two, at least 16). RESOURCE_EXHAUSTED when
  // none is left.
  absl::StatusOr<uint64_t> Allocate(uint64_t size);

  // BarAllocator::Free(): gives back the range that starts at `address`.
  absl::Status Free(uint64_t address);

  uint64_t base() const { return base_; }
  uint64_t size() const { return size_; }

 private:
  BarAllocator(uint64_t base, uint64_t size) : base_(base), size_(size) {}

  const uint64_t base_;
  const uint64_t size_;
  std::map<uint64_t, uint64_t> allocated_;  // start -> size
};

}  // namespace hv::virtio

#endif  // HV_VIRTIO_BAR_ALLOCATOR_H_
