// The assembled aarch64 guest image of testing/aarch64/guest_image.S: its
// bytes (for guest RAM at HV_A64_CODE) and the offsets of its routines.
//
// Each routine's arguments, in registers, are documented next to its code
// in the .S file; AArch64Guest (guest_fixture.h) starts vCPUs at them.
//
// Example:
//   absl::Span<const uint8_t> image = hv::testing::a64::Image();
//   std::memcpy(ram + (HV_A64_CODE - HV_A64_RAM_BASE), image.data(), image.size());
//   uint64_t pc = HV_A64_CODE + hv::testing::a64::Offset(hv::testing::a64::Routine::kSpin);
#ifndef HV_TESTING_AARCH64_GUEST_IMAGE_H_
#define HV_TESTING_AARCH64_GUEST_IMAGE_H_

#include <cstdint>

#include "absl/types/span.h"

namespace hv::testing::a64 {

enum class Routine {
  kMmioRoundTrip,
  kPsciCall,
  kStoreLoad,
  kLoadReport,
  kTouchPages,
  kGicSpi,
  kWaitForPeer,
  kSpin,
  kRegisters,
  kTimerRegs,
  kItsLpi,
  kSnapshotWorker,
  kSnapshotPair,
};

// Image(): the whole image, vector table first.
absl::Span<const uint8_t> Image();
// Offset(): where `routine` starts, from the start of the image.
uint64_t Offset(Routine routine);
// RoutineName(): "mmio_round_trip", ... for messages.
const char* RoutineName(Routine routine);

}  // namespace hv::testing::a64

#endif  // HV_TESTING_AARCH64_GUEST_IMAGE_H_
