// VmMemoryService: executes virtio shared-memory mapping requests on an
// hv::Vm.
//
// Each device's shared-memory region is registered once, at the
// guest-physical address of its BAR, with the device's PrepareType:
//
//   - SingleMappingOnFirst(cache): the first successful mapping request
//     prepares the whole region as one hypervisor region, an arena
//     (MemoryRegion::CreateArena) added with the *declared* cache type; the
//     cache type of that first mapping never decides it. Every mapping is
//     then Vm::AddFdMapping into the arena (no new slot) and every unmap is
//     Vm::RemoveMapping, which puts the range back to the arena's empty
//     state: read-only zero pages. A kCacheNonCoherent mapping into a region
//     declared kCacheCoherent fails with FAILED_PRECONDITION.
//   - DynamicPerMapping: every mapping is its own hypervisor region
//     (Vm::AddMemoryRegion) with its own cache type; unmap removes the
//     region, so the guest's accesses there become MMIO exits.
//
// A failed request maps nothing and leaves earlier mappings, the service's
// state and the Vm as they were. Lookups, map and unmap cost O(log n) in the
// number of live mappings plus the Vm call. Thread safe: several device
// threads may map at once (the requests are serialised, Vm calls included).
//
// Example:
//   ASSIGN_OR_RETURN(auto service, hv::virtio::VmMemoryService::Create(vm));
//   ASSIGN_OR_RETURN(hv::virtio::VmMemoryService::RegionId id,
//                    service->RegisterRegion(bar_address, bar_size,
//                                            device->SharedMemoryPrepareType()));
//   ASSIGN_OR_RETURN(auto mapper, service->CreateMapper(id));
//   device->SetSharedMemoryMapper(std::move(mapper));
#ifndef HV_VIRTIO_VM_MEMORY_SERVICE_H_
#define HV_VIRTIO_VM_MEMORY_SERVICE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/memory.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/vm.h"
#include "virtio/shared_memory.h"

namespace hv::virtio {

class VmMemoryService {
 public:
  using RegionId = uint32_t;

  // A snapshot of one registered region.
  struct RegionStatus {
    GuestAddress guest_address = 0;
    uint64_t size = 0;
    PrepareType prepare;
    // The arena's slot once a SingleMappingOnFirst region is prepared.
    std::optional<MemSlot> prepared_slot;
    size_t mapping_count = 0;
  };

  // A snapshot of one live mapping.
  struct MappingStatus {
    uint64_t offset = 0;
    uint64_t size = 0;
    Protection prot;
    MemCacheType cache = MemCacheType::kCacheCoherent;
    // DynamicPerMapping: the mapping's own slot; prepared: the arena's.
    MemSlot slot = 0;
  };

  // VmMemoryService::Create(): a service for `vm`, which must outlive it.
  static absl::StatusOr<std::unique_ptr<VmMemoryService>> Create(Vm* vm);

  VmMemoryService(const VmMemoryService&) = delete;
  VmMemoryService& operator=(const VmMemoryService&) = delete;
  ~VmMemoryService();

  // VmMemoryService::RegisterRegion(): a shared-memory region of `size`
  // bytes at `guest_address` (both page multiples), prepared as `prepare`
  // says. Nothing is added to the Vm yet. ALREADY_EXISTS when it overlaps
  // another registered region or a region already in the Vm; OUT_OF_RANGE
  // past Vm::GuestAddressLimit().
  absl::StatusOr<RegionId> RegisterRegion(GuestAddress guest_address,
                                          uint64_t size, PrepareType prepare);

  // VmMemoryService::UnregisterRegion(): removes every mapping (and the
  // prepared arena) from the Vm and forgets the region. On a Vm failure the
  // region stays registered with what could not be removed.
  absl::Status UnregisterRegion(RegionId id);

  // VmMemoryService::CreateMapper(): a SharedMemoryMapper for region `id`,
  // for its device. The service must outlive it.
  absl::StatusOr<std::unique_ptr<SharedMemoryMapper>> CreateMapper(
      RegionId id);

  // VmMemoryService::AddMapping() / RemoveMapping(): SharedMemoryMapper's
  // contract, for region `id`. Errors: NOT_FOUND (unknown region; no mapping
  // starts at `offset`), INVALID_ARGUMENT (zero size, unaligned offset, size
  // or file offset, bad fd or null allocation), OUT_OF_RANGE (past the
  // region's end, or past the end of the source's file when that is a
  // regular file: the guest and the VMM would fault there), ALREADY_EXISTS
  // (overlap, naming both ranges),
  // FAILED_PRECONDITION (kCacheNonCoherent into a coherent region; an
  // anonymous host allocation into a prepared region), or the Vm's error.
  absl::Status AddMapping(RegionId id, MappingSource source, uint64_t offset,
                          Protection prot, MemCacheType cache);
  absl::Status RemoveMapping(RegionId id, uint64_t offset);

  // VmMemoryService::MoveRegion(): the guest moved the BAR: the region and
  // every live mapping move to `new_address` (a prepared arena is removed
  // and re-added with its mappings in place; a dynamic mapping's region is
  // removed and re-added at its new address). Checked first against the
  // address limit, the other registered regions and the Vm's regions, so a
  // rejected move changes nothing. Should the Vm still fail to re-add a
  // region, the mappings it held are gone: the error says so and the
  // service's state matches the Vm's.
  absl::Status MoveRegion(RegionId id, GuestAddress new_address);

  // Introspection, for tests and diagnostics.
  absl::StatusOr<RegionStatus> GetRegionStatus(RegionId id) const;
  absl::StatusOr<std::vector<MappingStatus>> GetMappings(RegionId id) const;

 private:
  struct Mapping {
    uint64_t size = 0;
    Protection prot;
    MemCacheType cache = MemCacheType::kCacheCoherent;
    MemSlot slot = 0;
    // A host allocation mapped into a prepared arena, kept alive with it.
    std::unique_ptr<MemoryRegion> host_allocation;
  };
  struct Region {
    GuestAddress guest_address = 0;
    uint64_t size = 0;
    PrepareType prepare;
    std::optional<MemSlot> prepared_slot;
    // By offset. A B-tree: with thousands of live mappings its lookups touch
    // a few cache lines where a red-black tree touches one per level, and an
    // insert rarely allocates. Iterators are not kept across changes.
    absl::btree_map<uint64_t, Mapping> mappings;
  };

  explicit VmMemoryService(Vm* vm) : vm_(vm) {}

  absl::StatusOr<Region*> FindRegion(RegionId id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckNewMapping(RegionId id, const Region& region,
                               const MappingSource& source,
                               uint64_t offset) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckPlacement(RegionId id, GuestAddress address,
                              uint64_t size) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status AddPreparedMapping(RegionId id, Region& region,
                                  MappingSource source, uint64_t offset,
                                  Protection prot, MemCacheType cache)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status AddDynamicMapping(Region& region, MappingSource source,
                                 uint64_t offset, Protection prot,
                                 MemCacheType cache)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status MovePrepared(RegionId id, Region& region,
                            GuestAddress new_address)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status MoveDynamic(RegionId id, Region& region,
                           GuestAddress new_address)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves one dynamic mapping's hypervisor region from `from` to `to`. When
  // the re-add fails the mapping's memory is gone; `*lost` says so.
  absl::Status MoveDynamicMapping(Mapping& mapping, GuestAddress to,
                                  bool* lost) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Vm* const vm_;
  // std::mutex rather than absl::Mutex: Debian's Abseil is not built with
  // TSan, which then cannot see absl::Mutex's synchronisation.
  mutable std::mutex mu_;
  std::map<RegionId, Region> regions_ ABSL_GUARDED_BY(mu_);
  RegionId next_id_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace hv::virtio

#endif  // HV_VIRTIO_VM_MEMORY_SERVICE_H_
