#include "virtio/vm_memory_service.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "absl/strings/str_format.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/status_macros.h"

namespace hv::virtio {
namespace {

bool PageAligned(uint64_t value) { return value % HostPageSize() == 0; }

// "[start, end)" of a range, for error messages.
std::string Range(uint64_t start, uint64_t size) {
  return absl::StrFormat("[%#x, %#x)", start, start + size);
}

// Whether [a, a + a_size) and [b, b + b_size) intersect (sizes non-zero and
// ranges known not to wrap).
bool Overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) {
  return a < b + b_size && b < a + a_size;
}

// A status with `status`'s code and `context` in front of its message.
absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  return absl::Status(status.code(),
                      absl::StrCat(context, ": ", status.message()));
}

// Checks that `size` bytes of `fd` from `fd_offset` lie inside the file when
// it is a regular file (a memfd, a file on disk). Past its end a shared
// mapping has no pages: the guest's access faults, and so does the VMM's
// through the host mapping of the arena (SIGBUS). Other files (dma-bufs,
// devices) have sizes of their own that fstat does not report; mmap checks
// them.
absl::Status CheckFileRange(int fd, uint64_t fd_offset, uint64_t size,
                            uint64_t offset) {
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("mapping at offset %#x: fd %d: fstat: %s", offset, fd,
                        std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) return absl::OkStatus();
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (fd_offset > file_size || size > file_size - fd_offset) {
    return absl::OutOfRangeError(absl::StrFormat(
        "mapping %s: file range [%#x, +%#x) of fd %d ends past the file's "
        "size %#x",
        Range(offset, size), fd_offset, size, fd, file_size));
  }
  return absl::OkStatus();
}

// SharedMemoryMapper for one region of a VmMemoryService.
class ServiceMapper : public SharedMemoryMapper {
 public:
  ServiceMapper(VmMemoryService* service, VmMemoryService::RegionId id)
      : service_(service), id_(id) {}
  ServiceMapper(const ServiceMapper&) = delete;
  ServiceMapper& operator=(const ServiceMapper&) = delete;

  absl::Status AddMapping(MappingSource source, uint64_t offset,
                          Protection prot, MemCacheType cache) override {
    return service_->AddMapping(id_, std::move(source), offset, prot, cache);
  }
  absl::Status RemoveMapping(uint64_t offset) override {
    return service_->RemoveMapping(id_, offset);
  }

 private:
  VmMemoryService* const service_;
  const VmMemoryService::RegionId id_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<VmMemoryService>> VmMemoryService::Create(
    Vm* vm) {
  if (vm == nullptr) {
    return absl::InvalidArgumentError("VmMemoryService needs a Vm");
  }
  return std::unique_ptr<VmMemoryService>(new VmMemoryService(vm));
}

VmMemoryService::~VmMemoryService() = default;

absl::StatusOr<VmMemoryService::Region*> VmMemoryService::FindRegion(
    RegionId id) {
  auto it = regions_.find(id);
  if (it == regions_.end()) {
    return absl::NotFoundError(
        absl::StrFormat("no shared memory region with id %u", id));
  }
  return &it->second;
}

absl::Status VmMemoryService::CheckPlacement(RegionId id, GuestAddress address,
                                             uint64_t size) const {
  if (size == 0 || !PageAligned(size) || !PageAligned(address)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "shared memory region %s: address and size must be non-zero page "
        "multiples (page size %#x)",
        Range(address, size), HostPageSize()));
  }
  const uint64_t limit = vm_->GuestAddressLimit();
  if (address > limit || size > limit - address) {
    return absl::OutOfRangeError(absl::StrFormat(
        "shared memory region %s ends past the guest address limit %#x",
        Range(address, size), limit));
  }
  for (const auto& [other_id, other] : regions_) {
    if (other_id == id) continue;
    if (Overlaps(address, size, other.guest_address, other.size)) {
      return absl::AlreadyExistsError(absl::StrFormat(
          "shared memory region %s overlaps shared memory region %u at %s",
          Range(address, size), other_id,
          Range(other.guest_address, other.size)));
    }
  }
  // Slots that belong to region `id` itself do not count as overlaps.
  std::set<MemSlot> own_slots;
  if (auto it = regions_.find(id); it != regions_.end()) {
    if (it->second.prepared_slot) own_slots.insert(*it->second.prepared_slot);
    if (it->second.prepare.kind() == PrepareType::Kind::kDynamicPerMapping) {
      for (const auto& [offset, mapping] : it->second.mappings) {
        own_slots.insert(mapping.slot);
      }
    }
  }
  for (const MemoryRegionInfo& info : vm_->MemoryRegions()) {
    if (own_slots.count(info.slot) != 0) continue;
    if (Overlaps(address, size, info.guest_address, info.size)) {
      return absl::AlreadyExistsError(absl::StrFormat(
          "shared memory region %s overlaps the VM's memory region in slot %u "
          "at %s",
          Range(address, size), info.slot,
          Range(info.guest_address, info.size)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<VmMemoryService::RegionId> VmMemoryService::RegisterRegion(
    GuestAddress guest_address, uint64_t size, PrepareType prepare) {
  std::lock_guard<std::mutex> lock(mu_);
  const RegionId id = next_id_;
  RETURN_IF_ERROR(CheckPlacement(id, guest_address, size));
  Region region;
  region.guest_address = guest_address;
  region.size = size;
  region.prepare = prepare;
  regions_.emplace(id, std::move(region));
  ++next_id_;
  return id;
}

absl::Status VmMemoryService::UnregisterRegion(RegionId id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Region * region, FindRegion(id));
  if (region->prepared_slot) {
    // Removing the arena removes every mapping inside it at once.
    RETURN_IF_ERROR(vm_->RemoveMemoryRegion(*region->prepared_slot).status());
    region->prepared_slot.reset();
    region->mappings.clear();
  }
  while (!region->mappings.empty()) {
    auto it = region->mappings.begin();
    RETURN_IF_ERROR(vm_->RemoveMemoryRegion(it->second.slot).status());
    region->mappings.erase(it);
  }
  regions_.erase(id);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SharedMemoryMapper>>
VmMemoryService::CreateMapper(RegionId id) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(FindRegion(id).status());
  return std::unique_ptr<SharedMemoryMapper>(new ServiceMapper(this, id));
}

absl::Status VmMemoryService::CheckNewMapping(RegionId id,
                                              const Region& region,
                                              const MappingSource& source,
                                              uint64_t offset) const {
  if (source.is_fd()) {
    const MappingSource::FdRange& range = source.fd_range();
    if (range.fd < 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("mapping at offset %#x: invalid fd %d", offset,
                          range.fd));
    }
    if (!PageAligned(range.offset)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "mapping at offset %#x: file offset %#x is not page aligned",
          offset, range.offset));
    }
  } else if (source.host_allocation() == nullptr) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "mapping at offset %#x: null host allocation", offset));
  }
  const uint64_t size = source.size();
  if (size == 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("mapping at offset %#x has size zero", offset));
  }
  if (!PageAligned(offset) || !PageAligned(size)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "mapping %s: offset and size must be page multiples (page size %#x)",
        Range(offset, size), HostPageSize()));
  }
  if (offset > region.size || size > region.size - offset) {
    return absl::OutOfRangeError(absl::StrFormat(
        "mapping %s is outside shared memory region %u of size %#x",
        Range(offset, size), id, region.size));
  }
  // The first mapping at or after `offset`, and the one before it, are the
  // only ones that can overlap (live mappings never overlap each other).
  auto next = region.mappings.lower_bound(offset);
  if (next != region.mappings.end() &&
      Overlaps(offset, size, next->first, next->second.size)) {
    return absl::AlreadyExistsError(absl::StrFormat(
        "mapping %s overlaps the mapping at %s in shared memory region %u",
        Range(offset, size), Range(next->first, next->second.size), id));
  }
  if (next != region.mappings.begin()) {
    auto prev = std::prev(next);
    if (Overlaps(offset, size, prev->first, prev->second.size)) {
      return absl::AlreadyExistsError(absl::StrFormat(
          "mapping %s overlaps the mapping at %s in shared memory region %u",
          Range(offset, size), Range(prev->first, prev->second.size), id));
    }
  }
  if (source.is_fd()) {
    return CheckFileRange(source.fd_range().fd, source.fd_range().offset, size,
                          offset);
  }
  if (source.host_allocation()->fd() >= 0) {
    return CheckFileRange(source.host_allocation()->fd(),
                          source.host_allocation()->fd_offset(), size, offset);
  }
  return absl::OkStatus();
}

absl::Status VmMemoryService::AddMapping(RegionId id, MappingSource source,
                                         uint64_t offset, Protection prot,
                                         MemCacheType cache) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Region * region, FindRegion(id));
  RETURN_IF_ERROR(CheckNewMapping(id, *region, source, offset));
  if (region->prepare.kind() == PrepareType::Kind::kDynamicPerMapping) {
    return AddDynamicMapping(*region, std::move(source), offset, prot, cache);
  }
  return AddPreparedMapping(id, *region, std::move(source), offset, prot,
                            cache);
}

absl::Status VmMemoryService::AddPreparedMapping(RegionId id, Region& region,
                                                 MappingSource source,
                                                 uint64_t offset,
                                                 Protection prot,
                                                 MemCacheType cache) {
  const MemCacheType declared = region.prepare.cache();
  if (cache == MemCacheType::kCacheNonCoherent &&
      declared == MemCacheType::kCacheCoherent) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "mapping %s asks for %s memory, but shared memory region %u is "
        "declared %s",
        Range(offset, source.size()), MemCacheTypeName(cache), id,
        MemCacheTypeName(declared)));
  }
  int fd = -1;
  uint64_t fd_offset = 0;
  if (source.is_fd()) {
    fd = source.fd_range().fd;
    fd_offset = source.fd_range().offset;
  } else {
    fd = source.host_allocation()->fd();
    fd_offset = source.host_allocation()->fd_offset();
    if (fd < 0) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "mapping %s: an anonymous host allocation has no file to map into "
          "prepared shared memory region %u",
          Range(offset, source.size()), id));
    }
  }
  const uint64_t size = source.size();

  bool prepared_now = false;
  if (!region.prepared_slot) {
    // Prepare: the whole region as one arena with the declared cache type.
    ASSIGN_OR_RETURN(std::unique_ptr<MemoryRegion> arena,
                     MemoryRegion::CreateArena(region.size));
    MemoryRegionOptions options;
    options.cache = declared;
    absl::StatusOr<MemSlot> slot =
        vm_->AddMemoryRegion(region.guest_address, std::move(arena), options);
    if (!slot.ok()) {
      return Annotate(slot.status(),
                      absl::StrFormat("preparing shared memory region %u at %s",
                                      id, Range(region.guest_address,
                                                region.size)));
    }
    region.prepared_slot = *slot;
    prepared_now = true;
  }
  absl::Status mapped =
      vm_->AddFdMapping(*region.prepared_slot, offset, size, fd, fd_offset,
                        prot);
  if (!mapped.ok()) {
    // Undo a preparation made for this request, so a failure changes
    // nothing. Should even that fail, the arena stays (and is recorded).
    if (prepared_now && vm_->RemoveMemoryRegion(*region.prepared_slot).ok()) {
      region.prepared_slot.reset();
    }
    return mapped;
  }
  Mapping mapping;
  mapping.size = size;
  mapping.prot = prot;
  mapping.cache = cache;
  mapping.slot = *region.prepared_slot;
  if (!source.is_fd()) mapping.host_allocation = source.TakeHostAllocation();
  region.mappings.emplace(offset, std::move(mapping));
  return absl::OkStatus();
}

absl::Status VmMemoryService::AddDynamicMapping(Region& region,
                                                MappingSource source,
                                                uint64_t offset,
                                                Protection prot,
                                                MemCacheType cache) {
  const uint64_t size = source.size();
  std::unique_ptr<MemoryRegion> memory;
  if (source.is_fd()) {
    const MappingSource::FdRange& range = source.fd_range();
    ASSIGN_OR_RETURN(memory,
                     MemoryRegion::FromFd(range.fd, range.offset, size, prot));
  } else {
    memory = source.TakeHostAllocation();
  }
  MemoryRegionOptions options;
  options.read_only = !prot.write;
  options.cache = cache;
  ASSIGN_OR_RETURN(MemSlot slot,
                   vm_->AddMemoryRegion(region.guest_address + offset,
                                        std::move(memory), options));
  Mapping mapping;
  mapping.size = size;
  mapping.prot = prot;
  mapping.cache = cache;
  mapping.slot = slot;
  region.mappings.emplace(offset, std::move(mapping));
  return absl::OkStatus();
}

absl::Status VmMemoryService::RemoveMapping(RegionId id, uint64_t offset) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Region * region, FindRegion(id));
  auto it = region->mappings.find(offset);
  if (it == region->mappings.end()) {
    return absl::NotFoundError(absl::StrFormat(
        "no mapping starts at offset %#x of shared memory region %u", offset,
        id));
  }
  if (region->prepared_slot) {
    RETURN_IF_ERROR(
        vm_->RemoveMapping(*region->prepared_slot, offset, it->second.size));
  } else {
    RETURN_IF_ERROR(vm_->RemoveMemoryRegion(it->second.slot).status());
  }
  region->mappings.erase(it);
  return absl::OkStatus();
}

absl::Status VmMemoryService::MoveRegion(RegionId id,
                                         GuestAddress new_address) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Region * region, FindRegion(id));
  if (new_address == region->guest_address) return absl::OkStatus();
  RETURN_IF_ERROR(CheckPlacement(id, new_address, region->size));
  if (region->prepared_slot) return MovePrepared(id, *region, new_address);
  if (region->prepare.kind() == PrepareType::Kind::kDynamicPerMapping) {
    return MoveDynamic(id, *region, new_address);
  }
  // Not prepared yet: nothing is in the Vm, only the address changes.
  region->guest_address = new_address;
  return absl::OkStatus();
}

absl::Status VmMemoryService::MovePrepared(RegionId id, Region& region,
                                           GuestAddress new_address) {
  const MemSlot old_slot = *region.prepared_slot;
  ASSIGN_OR_RETURN(std::unique_ptr<MemoryRegion> arena,
                   vm_->RemoveMemoryRegion(old_slot));
  MemoryRegionOptions options;
  options.cache = region.prepare.cache();
  // The arena keeps its fd mappings across remove and re-add: they live in
  // the host mapping, not in the hypervisor's slot.
  absl::StatusOr<MemSlot> slot =
      vm_->AddMemoryRegion(new_address, std::move(arena), options);
  if (!slot.ok()) {
    const size_t lost = region.mappings.size();
    region.prepared_slot.reset();
    region.mappings.clear();
    return Annotate(slot.status(),
                    absl::StrFormat("moving prepared shared memory region %u "
                                    "to %#x failed after its removal; its %u "
                                    "mappings are gone and it is unprepared",
                                    id, new_address, lost));
  }
  region.prepared_slot = *slot;
  for (auto& [offset, mapping] : region.mappings) mapping.slot = *slot;
  region.guest_address = new_address;
  return absl::OkStatus();
}

absl::Status VmMemoryService::MoveDynamicMapping(Mapping& mapping,
                                                 GuestAddress to, bool* lost) {
  *lost = false;
  ASSIGN_OR_RETURN(std::unique_ptr<MemoryRegion> memory,
                   vm_->RemoveMemoryRegion(mapping.slot));
  MemoryRegionOptions options;
  options.read_only = !mapping.prot.write;
  options.cache = mapping.cache;
  absl::StatusOr<MemSlot> slot =
      vm_->AddMemoryRegion(to, std::move(memory), options);
  if (!slot.ok()) {
    *lost = true;
    return slot.status();
  }
  mapping.slot = *slot;
  return absl::OkStatus();
}

absl::Status VmMemoryService::MoveDynamic(RegionId id, Region& region,
                                          GuestAddress new_address) {
  const GuestAddress old_address = region.guest_address;
  // The order the mappings move in. The new range may overlap the old one;
  // a mapping's new range must then only cover addresses that the mappings
  // moved before it have left, or the Vm refuses it as an overlap (and the
  // mapping is lost). Moving down, lowest offset first does that; moving up
  // by less than the region's size, highest offset first. Moving back in the
  // reverse order has the same property.
  std::vector<uint64_t> order;
  order.reserve(region.mappings.size());
  for (const auto& [offset, mapping] : region.mappings) order.push_back(offset);
  if (new_address > old_address && new_address - old_address < region.size) {
    std::reverse(order.begin(), order.end());
  }
  for (size_t i = 0; i < order.size(); ++i) {
    const uint64_t failed_offset = order[i];
    auto it = region.mappings.find(failed_offset);
    bool lost = false;
    absl::Status moved =
        MoveDynamicMapping(it->second, new_address + failed_offset, &lost);
    if (moved.ok()) continue;
    size_t lost_count = 0;
    if (lost) {
      region.mappings.erase(it);
      ++lost_count;
    }
    // Put the mappings already moved back where they were, last moved
    // first.
    for (size_t j = i; j-- > 0;) {
      auto back = region.mappings.find(order[j]);
      bool back_lost = false;
      if (!MoveDynamicMapping(back->second, old_address + order[j],
                              &back_lost)
               .ok() &&
          back_lost) {
        region.mappings.erase(back);
        ++lost_count;
      }
    }
    return Annotate(
        moved, absl::StrFormat("moving the mapping at offset %#x of shared "
                               "memory region %u to %#x (%u mappings lost)",
                               failed_offset, id, new_address + failed_offset,
                               lost_count));
  }
  region.guest_address = new_address;
  return absl::OkStatus();
}

absl::StatusOr<VmMemoryService::RegionStatus> VmMemoryService::GetRegionStatus(
    RegionId id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = regions_.find(id);
  if (it == regions_.end()) {
    return absl::NotFoundError(
        absl::StrFormat("no shared memory region with id %u", id));
  }
  RegionStatus status;
  status.guest_address = it->second.guest_address;
  status.size = it->second.size;
  status.prepare = it->second.prepare;
  status.prepared_slot = it->second.prepared_slot;
  status.mapping_count = it->second.mappings.size();
  return status;
}

absl::StatusOr<std::vector<VmMemoryService::MappingStatus>>
VmMemoryService::GetMappings(RegionId id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = regions_.find(id);
  if (it == regions_.end()) {
    return absl::NotFoundError(
        absl::StrFormat("no shared memory region with id %u", id));
  }
  std::vector<MappingStatus> result;
  result.reserve(it->second.mappings.size());
  for (const auto& [offset, mapping] : it->second.mappings) {
    result.push_back(MappingStatus{offset, mapping.size, mapping.prot,
                                   mapping.cache, mapping.slot});
  }
  return result;
}

}  // namespace hv::virtio
