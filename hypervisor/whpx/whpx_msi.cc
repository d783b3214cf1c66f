#include "hypervisor/whpx/whpx_msi.h"

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace hv {

using namespace whpx_abi;  // NOLINT: the SDK's names

namespace {

// Intel SDM Vol. 3A, Section 11.11.1: the message address.
constexpr uint64_t kMsiAddressBaseMask = 0xfff00000;
constexpr uint64_t kMsiAddressBase = 0xfee00000;
constexpr int kMsiDestinationIdShift = 12;  // bits 19:12
constexpr uint64_t kMsiRedirectionHint = 1u << 3;
constexpr uint64_t kMsiDestinationModeLogical = 1u << 2;
// Intel SDM Vol. 3A, Section 11.11.2: the message data.
constexpr uint32_t kMsiVectorMask = 0xff;           // bits 7:0
constexpr int kMsiDeliveryModeShift = 8;            // bits 10:8
constexpr uint32_t kMsiLevelAssert = 1u << 14;
constexpr uint32_t kMsiTriggerLevel = 1u << 15;
constexpr uint32_t kMsiDataDefined = kMsiVectorMask | (7u << 8) |
                                     kMsiLevelAssert | kMsiTriggerLevel;

const char* DeliveryModeName(uint32_t mode) {
  switch (mode) {
    case 0: return "fixed";
    case 1: return "lowest priority";
    case 2: return "SMI";
    case 4: return "NMI";
    case 5: return "INIT";
    case 7: return "ExtINT";
    default: return "reserved";
  }
}

}  // namespace

absl::StatusOr<WHV_INTERRUPT_CONTROL> WhpxMsiInterrupt(uint64_t address,
                                                       uint32_t data) {
  if ((address & ~uint64_t{0xffffffff}) != 0 ||
      (address & kMsiAddressBaseMask) != kMsiAddressBase) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "signal MSI (address %#x, data %#x): not a message to the local "
        "APICs (address bits 31:20 must be 0xfee and bits 63:32 clear: WHPX's "
        "xAPIC emulation has 8-bit destinations)",
        address, data));
  }
  if ((data & ~kMsiDataDefined) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "signal MSI (address %#x, data %#x): reserved data bits %#x set",
        address, data, data & ~kMsiDataDefined));
  }
  const uint32_t mode = (data >> kMsiDeliveryModeShift) & 7;
  uint64_t type;
  switch (mode) {
    case 0:
      type = (address & kMsiRedirectionHint) != 0
                 ? WHvX64InterruptTypeLowestPriority
                 : WHvX64InterruptTypeFixed;
      break;
    case 1: type = WHvX64InterruptTypeLowestPriority; break;
    case 4: type = WHvX64InterruptTypeNmi; break;
    case 5: type = WHvX64InterruptTypeInit; break;
    default:
      return absl::InvalidArgumentError(absl::StrFormat(
          "signal MSI (address %#x, data %#x): delivery mode %u (%s) has no "
          "WHPX interrupt type (WHvRequestInterrupt takes fixed, lowest "
          "priority, NMI and INIT messages)",
          address, data, mode, DeliveryModeName(mode)));
  }
  const bool level = (data & kMsiTriggerLevel) != 0;
  if (level && (data & kMsiLevelAssert) == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "signal MSI (address %#x, data %#x): a level-triggered deassert "
        "message; WHvRequestInterrupt only asserts",
        address, data));
  }
  WHV_INTERRUPT_CONTROL control = {};
  control.TypeModes =
      (type << kInterruptControlTypeShift) |
      (((address & kMsiDestinationModeLogical) != 0
            ? WHvX64InterruptDestinationModeLogical
            : WHvX64InterruptDestinationModePhysical)
       << kInterruptControlDestinationModeShift) |
      ((level ? WHvX64InterruptTriggerModeLevel : WHvX64InterruptTriggerModeEdge)
       << kInterruptControlTriggerModeShift);
  control.Destination =
      static_cast<uint32_t>((address >> kMsiDestinationIdShift) & 0xff);
  control.Vector = data & kMsiVectorMask;
  return control;
}

}  // namespace hv
