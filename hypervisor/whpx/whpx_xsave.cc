#include "hypervisor/whpx/whpx_xsave.h"

#include <cpuid.h>

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"

namespace hv {

namespace {

constexpr uint32_t kXsaveLeaf = 0xd;
// Bits 0 and 1 (x87, SSE) are in the legacy region; 63 is the format bit.
constexpr int kFirstExtended = 2;
constexpr int kLastComponent = 62;

uint64_t Load64(absl::Span<const uint8_t> image, size_t offset) {
  uint64_t value;
  std::memcpy(&value, image.data() + offset, sizeof(value));
  return value;
}

void Store64(std::vector<uint8_t>& image, size_t offset, uint64_t value) {
  std::memcpy(image.data() + offset, &value, sizeof(value));
}

bool Has(uint64_t mask, int i) { return ((mask >> i) & 1) != 0; }

// INVALID_ARGUMENT unless `image` (`what`) holds at least the legacy
// region and the XSAVE header.
absl::Status CheckHoldsHeader(const char* what,
                              absl::Span<const uint8_t> image) {
  if (image.size() >= kXsaveExtendedOffset) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s of %d bytes: shorter than its legacy region and header (576)", what,
      image.size()));
}

// ForEachCompacted(): calls `fn(i, location)` for each extended component
// of `xcomp_bv` in index order with its compacted location (SDM Vol. 1,
// Section 13.4.3: the first at 576, each next right after the previous,
// rounded up to 64 when its ECX[1] is set); stops at the first error, which
// it returns. The location after the last is stored in `*end`.
template <typename Fn>
absl::Status ForEachCompacted(const XsaveLayout& layout, uint64_t xcomp_bv,
                              size_t* end, Fn fn) {
  size_t location = kXsaveExtendedOffset;
  for (int i = kFirstExtended; i <= kLastComponent; ++i) {
    if (!Has(xcomp_bv, i)) continue;
    const XsaveComponent& c = layout.components[i];
    if (c.size == 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "XCOMP_BV 0x%x names state component %d, which this CPU's CPUID "
          "leaf 0xd does not describe",
          xcomp_bv, i));
    }
    if (c.align64) location = (location + 63) & ~size_t{63};
    RETURN_IF_ERROR(fn(i, location));
    location += c.size;
  }
  *end = location;
  return absl::OkStatus();
}

}  // namespace

XsaveLayout HostXsaveLayout() {
  XsaveLayout layout;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_max(0, nullptr) < kXsaveLeaf) return layout;
  __cpuid_count(kXsaveLeaf, 0, eax, ebx, ecx, edx);
  layout.standard_size = ecx;
  const uint64_t user = eax | (uint64_t{edx} << 32);
  __cpuid_count(kXsaveLeaf, 1, eax, ebx, ecx, edx);
  const uint64_t supervisor = ecx | (uint64_t{edx} << 32);
  for (int i = kFirstExtended; i <= kLastComponent; ++i) {
    if (!Has(user | supervisor, i)) continue;
    __cpuid_count(kXsaveLeaf, i, eax, ebx, ecx, edx);
    layout.components[i] = {.size = eax,
                            .offset = ebx,
                            .supervisor = (ecx & 1) != 0,
                            .align64 = (ecx & 2) != 0};
  }
  return layout;
}

absl::StatusOr<size_t> CompactedSize(const XsaveLayout& layout,
                                     uint64_t xcomp_bv) {
  size_t end = 0;
  absl::Status status = ForEachCompacted(
      layout, xcomp_bv, &end, [](int, size_t) { return absl::OkStatus(); });
  if (!status.ok()) return status;
  return end;
}

absl::StatusOr<std::vector<uint8_t>> CompactedToStandard(
    const XsaveLayout& layout, absl::Span<const uint8_t> compacted,
    size_t standard_size) {
  RETURN_IF_ERROR(CheckHoldsHeader("compacted XSAVE image", compacted));
  const uint64_t xstate_bv = Load64(compacted, kXsaveXstateBvOffset);
  const uint64_t xcomp_bv = Load64(compacted, kXsaveXcompBvOffset);
  if ((xcomp_bv & kXcompBvCompacted) == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "XSAVE image with XCOMP_BV 0x%x is not compacted (bit 63 clear)",
        xcomp_bv));
  }
  const uint64_t held = xcomp_bv & ~kXcompBvCompacted;
  // Bits 0 and 1 are always representable (the legacy region).
  if ((xstate_bv & ~(held | 3)) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "compacted XSAVE image: XSTATE_BV 0x%x names components outside "
        "XCOMP_BV 0x%x",
        xstate_bv, xcomp_bv));
  }
  if (standard_size < kXsaveExtendedOffset) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "standard XSAVE size %d is below 576", standard_size));
  }
  std::vector<uint8_t> standard(standard_size, 0);
  std::memcpy(standard.data(), compacted.data(), kXsaveLegacySize);
  Store64(standard, kXsaveXstateBvOffset, xstate_bv);
  size_t end = 0;
  absl::Status status = ForEachCompacted(
      layout, held, &end, [&](int i, size_t location) -> absl::Status {
        const XsaveComponent& c = layout.components[i];
        if (location + c.size > compacted.size()) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "compacted XSAVE image of %d bytes ends before state component "
              "%d ([%d, %d))",
              compacted.size(), i, location, location + c.size));
        }
        if (!Has(xstate_bv, i)) return absl::OkStatus();  // initial state
        if (c.supervisor) {
          return absl::FailedPreconditionError(absl::StrFormat(
              "XSAVE state component %d is a supervisor (IA32_XSS) component "
              "in use, which the standard format cannot hold",
              i));
        }
        if (c.offset < kXsaveExtendedOffset ||
            c.offset + c.size > standard_size) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "XSAVE state component %d ([%d, %d) in the standard format) "
              "does not fit a %d-byte image",
              i, c.offset, c.offset + c.size, standard_size));
        }
        std::memcpy(standard.data() + c.offset, compacted.data() + location,
                    c.size);
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return standard;
}

absl::StatusOr<std::vector<uint8_t>> StandardToCompacted(
    const XsaveLayout& layout, absl::Span<const uint8_t> standard,
    uint64_t xcomp_bv) {
  RETURN_IF_ERROR(CheckHoldsHeader("XSAVE image", standard));
  const uint64_t xstate_bv = Load64(standard, kXsaveXstateBvOffset);
  // A standard image's XCOMP_BV and the header's last 48 bytes are zero
  // (XRSTOR raises #GP otherwise, SDM Vol. 1, Section 13.8.1).
  for (size_t i = kXsaveXcompBvOffset; i < kXsaveExtendedOffset; ++i) {
    if (standard[i] != 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "XSAVE image header byte %d is 0x%02x: a standard-format image has "
          "XCOMP_BV and the reserved header bytes zero",
          i - kXsaveXstateBvOffset, standard[i]));
    }
  }
  const uint64_t held = xcomp_bv & ~kXcompBvCompacted;
  if ((xstate_bv & ~(held | 3)) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "XSAVE image's XSTATE_BV 0x%x names components this vCPU does not "
        "hold (it holds 0x%x)",
        xstate_bv, held | 3));
  }
  absl::StatusOr<size_t> size = CompactedSize(layout, held);
  if (!size.ok()) return size.status();
  std::vector<uint8_t> compacted(*size, 0);
  std::memcpy(compacted.data(), standard.data(), kXsaveLegacySize);
  Store64(compacted, kXsaveXstateBvOffset, xstate_bv);
  Store64(compacted, kXsaveXcompBvOffset, held | kXcompBvCompacted);
  size_t end = 0;
  absl::Status status = ForEachCompacted(
      layout, held, &end, [&](int i, size_t location) -> absl::Status {
        if (!Has(xstate_bv, i)) return absl::OkStatus();
        const XsaveComponent& c = layout.components[i];
        if (c.supervisor || c.offset < kXsaveExtendedOffset ||
            c.offset + c.size > standard.size()) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "XSAVE image of %d bytes has no standard-format place for "
              "state component %d (offset %d, %d bytes)",
              standard.size(), i, c.offset, c.size));
        }
        std::memcpy(compacted.data() + location, standard.data() + c.offset,
                    c.size);
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return compacted;
}

}  // namespace hv
