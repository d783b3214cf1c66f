// XSAVE images between WHPX's format and hv's.
//
// WHvGetVirtualProcessorXsaveState / WHvSetVirtualProcessorXsaveState move
// the vCPU's XSAVE area in the compacted format (Intel SDM Vol. 1, Section
// 13.4.3: XCOMP_BV bit 63 set, each state component the image holds packed
// after the previous one, 64-byte aligned where CPUID.(EAX=0DH,ECX=i):ECX[1]
// says so); QEMU's WHPX accelerator decompacts the buffer it reads. hv's
// VcpuX86_64::GetXsave promises the standard format (Section 13.4.2: each
// component at CPUID.(EAX=0DH,ECX=i):EBX), so the backend converts at its
// edge with the host's CPUID leaf 0DH layout (WHPX runs the guest on the
// host's XSAVE hardware, so its components have the host's sizes).
//
// Example:
//   const hv::XsaveLayout layout = hv::HostXsaveLayout();
//   ASSIGN_OR_RETURN(std::vector<uint8_t> standard,
//                    hv::CompactedToStandard(layout, compacted, 4096));
#ifndef HV_HYPERVISOR_WHPX_WHPX_XSAVE_H_
#define HV_HYPERVISOR_WHPX_WHPX_XSAVE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace hv {

// The XSAVE area's fixed parts (SDM Vol. 1, Section 13.4.1 and 13.4.2): the
// 512-byte legacy region, then the 64-byte header whose first quadword is
// XSTATE_BV and second XCOMP_BV; the extended region starts after it.
inline constexpr size_t kXsaveLegacySize = 512;
inline constexpr size_t kXsaveXstateBvOffset = 512;
inline constexpr size_t kXsaveXcompBvOffset = 520;
inline constexpr size_t kXsaveHeaderSize = 64;
inline constexpr size_t kXsaveExtendedOffset = 576;
// XCOMP_BV bit 63: the image is in the compacted format (Section 13.4.3).
inline constexpr uint64_t kXcompBvCompacted = 1ull << 63;

// One state component as CPUID.(EAX=0DH,ECX=i) describes it.
struct XsaveComponent {
  uint32_t size = 0;      // EAX: bytes; 0 when the CPU does not know i
  uint32_t offset = 0;    // EBX: standard-format offset (0: supervisor)
  bool supervisor = false;  // ECX[0]: an IA32_XSS component
  bool align64 = false;     // ECX[1]: 64-byte aligned when compacted
};

// XsaveLayout: every state component's CPUID.(EAX=0DH) description.
struct XsaveLayout {
  // By state-component index; 0 and 1 (x87, SSE) live in the legacy region
  // and are not described here.
  std::array<XsaveComponent, 63> components = {};
  // CPUID.(EAX=0DH,ECX=0):ECX: the standard-format size covering every
  // component XCR0 can enable.
  uint32_t standard_size = kXsaveExtendedOffset;
};

// HostXsaveLayout(): the layout this CPU reports (CPUID leaf 0DH, subleaf 0
// and each component the host's XCR0 or IA32_XSS can enable).
XsaveLayout HostXsaveLayout();

// CompactedSize(): bytes of a compacted image holding the components of
// `xcomp_bv` (bit 63 ignored); INVALID_ARGUMENT for a component `layout`
// does not describe.
absl::StatusOr<size_t> CompactedSize(const XsaveLayout& layout,
                                     uint64_t xcomp_bv);

// CompactedToStandard(): `compacted` (WHPX's image) as a standard-format
// image of `standard_size` bytes: the legacy region, XSTATE_BV (XCOMP_BV 0)
// and every component XSTATE_BV marks as not in its initial state, at its
// standard offset; the rest is zero. INVALID_ARGUMENT when `compacted` is
// not a compacted image `layout` describes (too short, bit 63 clear,
// XSTATE_BV outside XCOMP_BV, a component beyond `standard_size`);
// FAILED_PRECONDITION when a supervisor component is in use (the standard
// format has no place for it).
absl::StatusOr<std::vector<uint8_t>> CompactedToStandard(
    const XsaveLayout& layout, absl::Span<const uint8_t> compacted,
    size_t standard_size);

// StandardToCompacted(): `standard` (hv's image) as a compacted image with
// components `xcomp_bv` (the vCPU's own, bit 63 added). INVALID_ARGUMENT
// when `standard` is not a standard image (shorter than its components,
// XCOMP_BV or the header's reserved bytes not zero: XRSTOR's #GP, SDM Vol.
// 1, Section 13.8.1) or XSTATE_BV names a component outside `xcomp_bv`.
absl::StatusOr<std::vector<uint8_t>> StandardToCompacted(
    const XsaveLayout& layout, absl::Span<const uint8_t> standard,
    uint64_t xcomp_bv);

}  // namespace hv

#endif  // HV_HYPERVISOR_WHPX_WHPX_XSAVE_H_
