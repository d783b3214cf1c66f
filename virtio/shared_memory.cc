#include "virtio/shared_memory.h"

#include "absl/strings/str_cat.h"

namespace hv::virtio {

std::string PrepareType::ToString() const {
  if (kind_ == Kind::kDynamicPerMapping) return "DynamicPerMapping";
  return absl::StrCat("SingleMappingOnFirst(", MemCacheTypeName(cache_), ")");
}

uint64_t MappingSource::size() const {
  if (is_fd()) return fd_range().size;
  const std::unique_ptr<MemoryRegion>& region = host_allocation();
  return region == nullptr ? 0 : region->size();
}

}  // namespace hv::virtio
