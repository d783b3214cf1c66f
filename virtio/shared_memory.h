// Vocabulary of a virtio device's shared-memory region: its id and length,
// how the VMM prepares it (PrepareType), what the host maps into it
// (MappingSource) and the interface a device maps through
// (SharedMemoryMapper).
//
// A virtio device may own shared memory that the guest sees through a PCI
// BAR described by a shared-memory capability (virtio 1.2 §2.10 "Shared
// Memory Regions", §4.1.4.7). The host maps blobs into it at offsets, each
// with a protection and an hv::MemCacheType.
//
// Example:
//   ASSIGN_OR_RETURN(hv::UniqueFd blob, hv::CreateMemfd("blob", 0x10000));
//   RETURN_IF_ERROR(mapper->AddMapping(
//       hv::virtio::MappingSource::Fd(blob.get(), 0, 0x10000), 0x200000,
//       hv::Protection::ReadWrite(), hv::MemCacheType::kCacheCoherent));
//   ...
//   RETURN_IF_ERROR(mapper->RemoveMapping(0x200000));
#ifndef HV_VIRTIO_SHARED_MEMORY_H_
#define HV_VIRTIO_SHARED_MEMORY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "absl/status/status.h"
#include "hypervisor/memory.h"
#include "hypervisor/memory_region.h"

namespace hv::virtio {

// SharedMemoryInfo: a device's shared-memory region as the device declares
// it: the shmid of its capability (virtio 1.2 §4.1.4.7, `id`) and its length
// in bytes.
struct SharedMemoryInfo {
  uint8_t id = 0;
  uint64_t length = 0;
};

// PrepareType: how the VMM turns a device's shared-memory region into
// hypervisor mappings.
class PrepareType {
 public:
  enum class Kind {
    // The first mapping request makes the whole region one hypervisor
    // region (an arena) with the declared cache type; every mapping is then
    // an fd mapped into it, with no new slot.
    kSingleMappingOnFirst,
    // No preparation: every mapping is its own hypervisor region with its
    // own cache type.
    kDynamicPerMapping,
  };

  // PrepareType::SingleMappingOnFirst(): prepare on first use with `cache`.
  static constexpr PrepareType SingleMappingOnFirst(MemCacheType cache) {
    return PrepareType(Kind::kSingleMappingOnFirst, cache);
  }
  // PrepareType::DynamicPerMapping(): one hypervisor region per mapping.
  static constexpr PrepareType DynamicPerMapping() {
    return PrepareType(Kind::kDynamicPerMapping, MemCacheType::kCacheCoherent);
  }
  // The default: SingleMappingOnFirst(kCacheCoherent).
  constexpr PrepareType() : PrepareType(Kind::kSingleMappingOnFirst,
                                        MemCacheType::kCacheCoherent) {}

  Kind kind() const { return kind_; }
  // The declared cache type of a kSingleMappingOnFirst region (meaningless
  // for kDynamicPerMapping, where each mapping carries its own).
  MemCacheType cache() const { return cache_; }

  std::string ToString() const;

  friend bool operator==(PrepareType a, PrepareType b) {
    return a.kind_ == b.kind_ &&
           (a.kind_ == Kind::kDynamicPerMapping || a.cache_ == b.cache_);
  }
  friend bool operator!=(PrepareType a, PrepareType b) { return !(a == b); }

 private:
  constexpr PrepareType(Kind kind, MemCacheType cache)
      : kind_(kind), cache_(cache) {}
  Kind kind_;
  MemCacheType cache_;
};

// MappingSource: what the host maps into a shared-memory region: `size`
// bytes of a file (borrowed: the descriptor need only stay open for the
// call; the mapping keeps its own reference to the file), or an existing
// host allocation (an hv::MemoryRegion, owned by the mapping from then on).
class MappingSource {
 public:
  struct FdRange {
    int fd = -1;
    uint64_t offset = 0;
    uint64_t size = 0;
  };

  // MappingSource::Fd(): `size` bytes of `fd` from `offset`.
  static MappingSource Fd(int fd, uint64_t offset, uint64_t size) {
    return MappingSource(FdRange{fd, offset, size});
  }
  // MappingSource::HostAllocation(): all of `region`. A region with a
  // backing file (MemoryRegion::CreateShared, FromFd) can be mapped into a
  // prepared region; an anonymous one only as its own hypervisor region.
  static MappingSource HostAllocation(std::unique_ptr<MemoryRegion> region) {
    return MappingSource(std::move(region));
  }

  MappingSource(MappingSource&&) = default;
  MappingSource& operator=(MappingSource&&) = default;
  MappingSource(const MappingSource&) = delete;
  MappingSource& operator=(const MappingSource&) = delete;

  bool is_fd() const { return std::holds_alternative<FdRange>(source_); }
  // Valid only when is_fd().
  const FdRange& fd_range() const { return std::get<FdRange>(source_); }
  // Valid only when !is_fd(); may be null if the caller passed null.
  const std::unique_ptr<MemoryRegion>& host_allocation() const {
    return std::get<std::unique_ptr<MemoryRegion>>(source_);
  }
  std::unique_ptr<MemoryRegion> TakeHostAllocation() {
    return std::move(std::get<std::unique_ptr<MemoryRegion>>(source_));
  }
  // The mapping's size in bytes (0 for a null host allocation).
  uint64_t size() const;

 private:
  explicit MappingSource(FdRange range) : source_(range) {}
  explicit MappingSource(std::unique_ptr<MemoryRegion> region)
      : source_(std::move(region)) {}

  std::variant<FdRange, std::unique_ptr<MemoryRegion>> source_;
};

// SharedMemoryMapper: what a device maps its shared memory through. Offsets
// are relative to the start of the device's region. Implementations are
// thread safe.
class SharedMemoryMapper {
 public:
  virtual ~SharedMemoryMapper() = default;

  // SharedMemoryMapper::AddMapping(): maps `source` at `offset` with `prot`
  // and memory type `cache`. Offsets and sizes are page multiples; the range
  // lies inside the region and overlaps no live mapping. On error nothing
  // is mapped and earlier mappings are untouched.
  virtual absl::Status AddMapping(MappingSource source, uint64_t offset,
                                  Protection prot, MemCacheType cache) = 0;

  // SharedMemoryMapper::RemoveMapping(): removes the mapping that starts at
  // `offset`; the guest then sees the region's empty state there.
  // NOT_FOUND when no mapping starts there.
  virtual absl::Status RemoveMapping(uint64_t offset) = 0;
};

}  // namespace hv::virtio

#endif  // HV_VIRTIO_SHARED_MEMORY_H_
