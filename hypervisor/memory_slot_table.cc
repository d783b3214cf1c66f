#include "hypervisor/memory_slot_table.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace hv {
namespace {

std::string Range(GuestAddress start, uint64_t size) {
  return absl::StrFormat("[%#x, %#x)", start, start + size);
}

}  // namespace

MemorySlotTable::MemorySlotTable(uint32_t max_slots, uint64_t address_limit,
                                 uint64_t alignment)
    : max_slots_(max_slots),
      address_limit_(address_limit),
      alignment_(alignment) {}

const MemorySlotTable::Entry* MemorySlotTable::EntryIn(MemSlot slot) const {
  if (slot >= by_slot_.size() || by_slot_[slot].region == nullptr) {
    return nullptr;
  }
  return &by_slot_[slot];
}

MemSlot MemorySlotTable::LowestFreeSlot() const {
  return freed_.empty() ? next_unused_ : *freed_.begin();
}

absl::StatusOr<MemSlot> MemorySlotTable::Check(GuestAddress guest_address,
                                               uint64_t size) const {
  if (size == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "add memory region at %#x: size is 0", guest_address));
  }
  if (guest_address % alignment_ != 0 || size % alignment_ != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "add memory region %s: address and size must be multiples of %#x",
        Range(guest_address, size), alignment_));
  }
  if (guest_address >= address_limit_ ||
      size > address_limit_ - guest_address) {
    return absl::OutOfRangeError(absl::StrFormat(
        "add memory region %s: ends past the guest address limit %#x",
        Range(guest_address, size), address_limit_));
  }
  // The only candidates for overlap are the region starting at or before
  // the new one's end and the one before it.
  auto next = by_address_.lower_bound(guest_address + size);
  if (next != by_address_.begin()) {
    auto prev = std::prev(next);
    const Entry& other = by_slot_[prev->second];
    if (other.guest_address + other.region->size() > guest_address) {
      return absl::AlreadyExistsError(absl::StrFormat(
          "add memory region %s: overlaps region %s in slot %u",
          Range(guest_address, size),
          Range(other.guest_address, other.region->size()), prev->second));
    }
  }
  MemSlot slot = LowestFreeSlot();
  if (slot >= max_slots_) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "add memory region %s: all %u memory slots are in use",
        Range(guest_address, size), max_slots_));
  }
  return slot;
}

void MemorySlotTable::Insert(MemSlot slot, GuestAddress guest_address,
                             std::unique_ptr<MemoryRegion> region,
                             const MemoryRegionOptions& options) {
  if (slot == next_unused_) {
    ++next_unused_;
  } else {
    freed_.erase(slot);
  }
  by_address_[guest_address] = slot;
  if (slot >= by_slot_.size()) by_slot_.resize(slot + 1);
  by_slot_[slot] = Entry{guest_address, std::move(region), options};
}

absl::StatusOr<MemorySlotTable::Entry*> MemorySlotTable::Find(MemSlot slot) {
  if (EntryIn(slot) == nullptr) {
    return absl::NotFoundError(
        absl::StrFormat("memory slot %u holds no region", slot));
  }
  return &by_slot_[slot];
}

absl::StatusOr<MemorySlotTable::Entry*> MemorySlotTable::FindRange(
    const char* operation, MemSlot slot, uint64_t offset, uint64_t size) {
  absl::StatusOr<Entry*> entry = Find(slot);
  if (!entry.ok()) {
    return absl::NotFoundError(
        absl::StrCat(operation, ": ", entry.status().message()));
  }
  if (size == 0 || size % alignment_ != 0 || offset % alignment_ != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: offset %#x and size %#x must be page aligned (%#x) and the size "
        "non-zero",
        operation, offset, size, alignment_));
  }
  const uint64_t region_size = (*entry)->region->size();
  if (offset > region_size || size > region_size - offset) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: range [%#x, %#x) is outside slot %u's region of %#x bytes",
        operation, offset, offset + size, slot, region_size));
  }
  return *entry;
}

absl::StatusOr<MemorySlotTable::Entry> MemorySlotTable::Remove(MemSlot slot) {
  if (EntryIn(slot) == nullptr) {
    return absl::NotFoundError(
        absl::StrFormat("remove memory slot %u: it holds no region", slot));
  }
  Entry entry = std::move(by_slot_[slot]);
  by_slot_[slot] = Entry{};
  by_address_.erase(entry.guest_address);
  if (slot + 1 == next_unused_) {
    --next_unused_;
    // Keep the invariant that freed_ holds only numbers below next_unused_.
    while (!freed_.empty() && *freed_.rbegin() + 1 == next_unused_) {
      freed_.erase(std::prev(freed_.end()));
      --next_unused_;
    }
    // by_slot_ stays next_unused_ long at most; its capacity is kept.
    by_slot_.resize(next_unused_);
  } else {
    freed_.insert(slot);
  }
  return entry;
}

absl::StatusOr<MemSlot> MemorySlotTable::FindByAddress(
    GuestAddress guest_address) const {
  auto next = by_address_.upper_bound(guest_address);
  if (next != by_address_.begin()) {
    auto prev = std::prev(next);
    const Entry& entry = by_slot_[prev->second];
    if (guest_address < entry.guest_address + entry.region->size()) {
      return prev->second;
    }
  }
  return absl::NotFoundError(absl::StrFormat(
      "no memory region contains guest address %#x", guest_address));
}

std::vector<MemoryRegionInfo> MemorySlotTable::List() const {
  std::vector<MemoryRegionInfo> result;
  result.reserve(by_address_.size());
  for (const auto& [address, slot] : by_address_) {
    const Entry& entry = by_slot_[slot];
    result.push_back(MemoryRegionInfo{slot, address, entry.region->size(),
                                      entry.options});
  }
  return result;
}

}  // namespace hv
