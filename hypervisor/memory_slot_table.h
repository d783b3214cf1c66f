// MemorySlotTable: a VM's memory regions, by slot and by guest address.
//
// The one place that checks a new region (alignment, size, address limit,
// overlap) and picks its slot: the lowest free number below the
// hypervisor's limit. Backends call Check() before they ask the hypervisor
// and Insert() only once it has agreed, so a failure leaves nothing behind.
// Lookups by slot are O(1) (entries are indexed by their dense slot
// numbers); overlap checks and the lowest free slot are O(log n) in B-trees,
// so adding and removing a region stays a small, flat cost beside the
// hypervisor's own with 10 000 regions present. An Entry* stays valid until
// the next Insert() or Remove(). Not thread safe: the owning Vm serialises
// access.
//
// Example:
//   ASSIGN_OR_RETURN(hv::MemSlot slot, table.Check(gpa, region->size()));
//   RETURN_IF_ERROR(SetUserMemoryRegion(slot, ...));
//   table.Insert(slot, gpa, std::move(region), options);
#ifndef HV_HYPERVISOR_MEMORY_SLOT_TABLE_H_
#define HV_HYPERVISOR_MEMORY_SLOT_TABLE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/memory.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/vm.h"

namespace hv {

class MemorySlotTable {
 public:
  struct Entry {
    GuestAddress guest_address = 0;
    std::unique_ptr<MemoryRegion> region;
    MemoryRegionOptions options;
  };

  // `max_slots` slot numbers (0 .. max_slots - 1); regions must end at or
  // below `address_limit`; addresses and sizes are multiples of `alignment`.
  MemorySlotTable(uint32_t max_slots, uint64_t address_limit,
                  uint64_t alignment);
  MemorySlotTable(const MemorySlotTable&) = delete;
  MemorySlotTable& operator=(const MemorySlotTable&) = delete;

  // MemorySlotTable::Check(): the slot a region of `size` bytes at
  // `guest_address` would get, or why it cannot be added.
  absl::StatusOr<MemSlot> Check(GuestAddress guest_address,
                                uint64_t size) const;

  // MemorySlotTable::Insert(): records a region that Check() accepted.
  void Insert(MemSlot slot, GuestAddress guest_address,
              std::unique_ptr<MemoryRegion> region,
              const MemoryRegionOptions& options);

  // MemorySlotTable::Find(): the entry in `slot`, or NOT_FOUND naming it.
  absl::StatusOr<Entry*> Find(MemSlot slot);

  // MemorySlotTable::FindRange(): the entry in `slot` once
  // [offset, offset + size) is checked to lie inside its region at the
  // table's alignment: NOT_FOUND, INVALID_ARGUMENT (unaligned or empty) or
  // OUT_OF_RANGE, each message starting with `operation`.
  absl::StatusOr<Entry*> FindRange(const char* operation, MemSlot slot,
                                   uint64_t offset, uint64_t size);

  // MemorySlotTable::Remove(): takes the entry out; its slot becomes free.
  absl::StatusOr<Entry> Remove(MemSlot slot);

  // MemorySlotTable::FindByAddress(): the slot whose region contains
  // `guest_address`, if any.
  absl::StatusOr<MemSlot> FindByAddress(GuestAddress guest_address) const;

  std::vector<MemoryRegionInfo> List() const;
  size_t size() const { return by_address_.size(); }
  uint32_t max_slots() const { return max_slots_; }
  uint64_t address_limit() const { return address_limit_; }
  uint64_t alignment() const { return alignment_; }

 private:
  MemSlot LowestFreeSlot() const;
  // The entry in `slot`, or null where the slot holds no region.
  const Entry* EntryIn(MemSlot slot) const;

  const uint32_t max_slots_;
  const uint64_t address_limit_;
  const uint64_t alignment_;
  // Indexed by slot, next_unused_ long at most; a free slot's entry has no
  // region.
  std::vector<Entry> by_slot_;
  absl::btree_map<GuestAddress, MemSlot> by_address_;  // region start -> slot
  absl::btree_set<MemSlot> freed_;  // removed slot numbers below next_unused_
  MemSlot next_unused_ = 0;  // every slot >= this has never been used
};

}  // namespace hv

#endif  // HV_HYPERVISOR_MEMORY_SLOT_TABLE_H_
