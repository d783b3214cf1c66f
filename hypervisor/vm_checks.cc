#include "hypervisor/vm_checks.h"

#include <algorithm>
#include <map>
#include <vector>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hypervisor/x86_64/vm_x86_64.h"

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
                               MemSlot slot, const char* operation) {
  if (!entry.options.log_dirty_pages) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: slot %u was added without log_dirty_pages (or SetDirtyLogging "
        "switched it off)",
        operation, slot));
  }
  return absl::OkStatus();
}

absl::Status CheckDirtyLogRange(MemSlot slot, uint64_t region_pages,
                                uint64_t first_page, uint64_t num_pages,
                                size_t bitmap_words) {
  if (num_pages == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "clear dirty log (slot %u): no pages (num_pages 0)", slot));
  }
  if (first_page % 64 != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "clear dirty log (slot %u): first_page %u is not a multiple of 64",
        slot, first_page));
  }
  if (first_page >= region_pages || num_pages > region_pages - first_page) {
    return absl::OutOfRangeError(absl::StrFormat(
        "clear dirty log (slot %u): pages [%u, %u) reach past the region's "
        "%u pages",
        slot, first_page, first_page + num_pages, region_pages));
  }
  if (num_pages % 64 != 0 && first_page + num_pages != region_pages) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "clear dirty log (slot %u): num_pages %u is not a multiple of 64 and "
        "the range [%u, %u) stops short of the region's end (page %u)",
        slot, num_pages, first_page, first_page + num_pages, region_pages));
  }
  const uint64_t words = (num_pages + 63) / 64;
  if (bitmap_words != words) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "clear dirty log (slot %u): the bitmap has %u words; %u pages need %u",
        slot, bitmap_words, num_pages, words));
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

absl::Status CheckResampleIrqfdEvents(uint32_t gsi, int event_fd,
                                      int resample_fd) {
  if (event_fd == resample_fd) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "register resample irqfd (gsi %u): the trigger and the resample "
        "event are the same eventfd (fd %d)",
        gsi, event_fd));
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

namespace {

// The x2APIC registers' MSRs (Intel SDM Vol. 3, Section 11.12.1.2).
constexpr uint64_t kX2ApicFirstMsr = 0x800;
constexpr uint64_t kX2ApicEndMsr = 0x900;

}  // namespace

absl::Status CheckUserSpaceMsrRanges(absl::Span<const MsrRange> ranges) {
  if (ranges.size() > VmX86_64::kMaxUserSpaceMsrRanges) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "set user-space MSRs: %u ranges, more than the %u a VM takes",
        ranges.size(), VmX86_64::kMaxUserSpaceMsrRanges));
  }
  for (size_t i = 0; i < ranges.size(); ++i) {
    const MsrRange& range = ranges[i];
    const uint64_t end = uint64_t{range.first} + range.count;
    if (range.count == 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "set user-space MSRs: range %u (from MSR %#x) is empty", i,
          range.first));
    }
    if (!range.reads && !range.writes) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "set user-space MSRs: range %u (MSRs %#x-%#x) takes neither reads "
          "nor writes",
          i, range.first, end - 1));
    }
    if (end > (uint64_t{1} << 32)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "set user-space MSRs: range %u (%u MSRs from %#x) runs past MSR "
          "0xffffffff",
          i, range.count, range.first));
    }
    if (range.count > VmX86_64::kMaxUserSpaceMsrsPerRange) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "set user-space MSRs: range %u (MSRs %#x-%#x) has %u MSRs, more "
          "than the %u one range takes",
          i, range.first, end - 1, range.count,
          VmX86_64::kMaxUserSpaceMsrsPerRange));
    }
    if (range.first < kX2ApicEndMsr && end > kX2ApicFirstMsr) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "set user-space MSRs: range %u (MSRs %#x-%#x) touches the x2APIC "
          "MSRs %#x-%#x, which stay with the local APIC",
          i, range.first, end - 1, kX2ApicFirstMsr, kX2ApicEndMsr - 1));
    }
  }
  // Overlaps: neighbours once sorted by first index.
  std::vector<size_t> order(ranges.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return ranges[a].first < ranges[b].first;
  });
  for (size_t k = 1; k < order.size(); ++k) {
    const MsrRange& low = ranges[order[k - 1]];
    const MsrRange& high = ranges[order[k]];
    const uint64_t low_end = uint64_t{low.first} + low.count;
    if (high.first < low_end) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "set user-space MSRs: range %u (MSRs %#x-%#x) overlaps range %u "
          "(MSRs %#x-%#x)",
          order[k], high.first, uint64_t{high.first} + high.count - 1,
          order[k - 1], low.first, low_end - 1));
    }
  }
  return absl::OkStatus();
}

bool RangesOverlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) {
  return a < b + b_size && b < a + a_size;
}

absl::Status CheckFramesClearOfRegions(
    absl::string_view operation, absl::Span<const DeviceFrame> frames,
    const std::vector<MemoryRegionInfo>& regions) {
  for (const DeviceFrame& frame : frames) {
    for (const MemoryRegionInfo& region : regions) {
      if (RangesOverlap(frame.base, frame.size, region.guest_address,
                        region.size)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: %s [%#x, %#x) would overlap memory region [%#x, %#x) "
            "(slot %u)",
            operation, frame.name, frame.base, frame.base + frame.size,
            region.guest_address, region.guest_address + region.size,
            region.slot));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckRegionClearOfFrames(GuestAddress guest_address,
                                      uint64_t region_size,
                                      absl::Span<const DeviceFrame> frames) {
  for (const DeviceFrame& frame : frames) {
    if (RangesOverlap(guest_address, region_size, frame.base, frame.size)) {
      return absl::AlreadyExistsError(absl::StrFormat(
          "add memory region [%#x, %#x): overlaps %s [%#x, %#x)",
          guest_address, guest_address + region_size, frame.name, frame.base,
          frame.base + frame.size));
    }
  }
  return absl::OkStatus();
}

}  // namespace hv
