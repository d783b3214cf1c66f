#include "virtio/bar_allocator.h"

#include "absl/strings/str_format.h"
#include "hypervisor/os/mmap_region.h"

namespace hv::virtio {

uint64_t BarSizeFor(uint64_t length) {
  if (length == 0 || length > (uint64_t{1} << 63)) return 0;
  uint64_t size = HostPageSize();
  while (size < length) size <<= 1;
  return size;
}

absl::StatusOr<std::unique_ptr<BarAllocator>> BarAllocator::Create(
    uint64_t base, uint64_t size) {
  const uint64_t page = HostPageSize();
  if (size == 0 || base % page != 0 || size % page != 0 ||
      base + size < base) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "BAR window [%#x, +%#x) must be non-empty, page aligned and not wrap",
        base, size));
  }
  return std::unique_ptr<BarAllocator>(new BarAllocator(base, size));
}

absl::StatusOr<uint64_t> BarAllocator::Allocate(uint64_t size) {
  if (size < 16 || (size & (size - 1)) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "BAR size %#x is not a power of two of at least 16 bytes", size));
  }
  const uint64_t end = base_ + size_;
  auto align_up = [size](uint64_t value) -> uint64_t {
    const uint64_t aligned = (value + size - 1) & ~(size - 1);
    return aligned < value ? 0 : aligned;  // 0: wrapped
  };
  uint64_t candidate = align_up(base_);
  for (const auto& [start, length] : allocated_) {
    if (candidate == 0 && base_ != 0) break;
    if (candidate + size <= start) break;
    if (candidate < start + length) candidate = align_up(start + length);
  }
  if ((candidate == 0 && base_ != 0) || candidate < base_ ||
      candidate > end || size > end - candidate) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "no free %#x-byte BAR range in [%#x, %#x)", size, base_, end));
  }
  allocated_.emplace(candidate, size);
  return candidate;
}

absl::Status BarAllocator::Free(uint64_t address) {
  if (allocated_.erase(address) == 0) {
    return absl::NotFoundError(
        absl::StrFormat("no BAR range is allocated at %#x", address));
  }
  return absl::OkStatus();
}

}  // namespace hv::virtio
