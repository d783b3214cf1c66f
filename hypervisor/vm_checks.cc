#include "hypervisor/vm_checks.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace hv {

absl::Status CheckRegionGiven(const MemoryRegion* region) {
  if (region == nullptr) {
    return absl::InvalidArgumentError("add memory region: region is null");
  }
  return absl::OkStatus();
}

absl::StatusOr<MemorySlotTable::Entry*> FindSlot(const char* operation,
                                                 MemorySlotTable& slots,
                                                 MemSlot slot) {
  absl::StatusOr<MemorySlotTable::Entry*> entry = slots.Find(slot);
  if (!entry.ok()) {
    return absl::NotFoundError(
        absl::StrCat(operation, ": ", entry.status().message()));
  }
  return entry;
}

absl::Status CheckDirtyLogging(const MemorySlotTable::Entry& entry,
                               MemSlot slot) {
  if (!entry.options.log_dirty_pages) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "get dirty log: slot %u was added without log_dirty_pages", slot));
  }
  return absl::OkStatus();
}

absl::Status CheckFdMappingArguments(int fd, uint64_t fd_offset,
                                     uint64_t page_size) {
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("add fd mapping: fd %d is not a file descriptor", fd));
  }
  if (fd_offset % page_size != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "add fd mapping: fd offset %#x is not page aligned", fd_offset));
  }
  return absl::OkStatus();
}

absl::Status CheckIoEventLength(const char* operation, uint32_t length) {
  if (length != 0 && length != 1 && length != 2 && length != 4 &&
      length != 8) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: length %u is not 0, 1, 2, 4 or 8", operation, length));
  }
  return absl::OkStatus();
}

absl::Status CheckIoEventAnyLength(const char* operation,
                                   const IoEventAddress& address) {
  if (address.length == 0 && address.datamatch.has_value()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: length 0 (any) cannot have a datamatch", operation));
  }
  return absl::OkStatus();
}

absl::Status CheckGsiRoutes(absl::Span<const IrqRoute> routes,
                            uint32_t max_routes) {
  if (routes.size() > max_routes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "set GSI routing: %u routes, more than the %u this VM takes",
        routes.size(), max_routes));
  }
  // The first route seen for each GSI: its index, and for irqchip routes
  // the index of each chip's.
  std::map<uint32_t, size_t> msi_route;
  std::map<std::pair<uint32_t, uint32_t>, size_t> chip_route;
  std::map<uint32_t, size_t> any_route;
  for (size_t i = 0; i < routes.size(); ++i) {
    const IrqRoute& route = routes[i];
    if (route.gsi >= max_routes) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "set GSI routing: route %u has GSI %u, beyond the last GSI (%u) "
          "this VM takes",
          i, route.gsi, max_routes - 1));
    }
    if (route.kind != IrqRoute::Kind::kIrqChipPin &&
        route.kind != IrqRoute::Kind::kMsi) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "set GSI routing: route %u (GSI %u) has unknown kind %d", i,
          route.gsi, static_cast<int>(route.kind)));
    }
    if (auto msi = msi_route.find(route.gsi); msi != msi_route.end()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "set GSI routing: route %u routes GSI %u again, but route %u made "
          "it an MSI, which must be the GSI's only route",
          i, route.gsi, msi->second));
    }
    if (route.kind == IrqRoute::Kind::kMsi) {
      if (auto other = any_route.find(route.gsi); other != any_route.end()) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "set GSI routing: route %u makes GSI %u an MSI, but route %u "
            "already routes it (an MSI must be the GSI's only route)",
            i, route.gsi, other->second));
      }
      msi_route.emplace(route.gsi, i);
    } else {
      auto [chip, added] =
          chip_route.emplace(std::make_pair(route.gsi, route.chip), i);
      if (!added) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "set GSI routing: routes %u and %u both route GSI %u to irqchip "
            "%u",
            chip->second, i, route.gsi, route.chip));
      }
    }
    any_route.emplace(route.gsi, i);
  }
  return absl::OkStatus();
}

}  // namespace hv
