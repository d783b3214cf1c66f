#include "testing/aarch64/guest_image.h"

#include <cstddef>

// The symbols guest_image.S defines (hidden, in this library).
extern "C" {
extern const uint8_t hv_a64_image_start[];
extern const uint8_t hv_a64_image_end[];
extern const uint8_t hv_a64_mmio_round_trip[];
extern const uint8_t hv_a64_psci_call[];
extern const uint8_t hv_a64_store_load[];
extern const uint8_t hv_a64_load_report[];
extern const uint8_t hv_a64_touch_pages[];
extern const uint8_t hv_a64_gic_spi[];
extern const uint8_t hv_a64_wait_for_peer[];
extern const uint8_t hv_a64_spin[];
extern const uint8_t hv_a64_registers[];
extern const uint8_t hv_a64_timer_regs[];
extern const uint8_t hv_a64_its_lpi[];
extern const uint8_t hv_a64_snapshot_worker[];
extern const uint8_t hv_a64_snapshot_pair[];
}

namespace hv::testing::a64 {
namespace {

const uint8_t* Symbol(Routine routine) {
  switch (routine) {
    case Routine::kMmioRoundTrip: return hv_a64_mmio_round_trip;
    case Routine::kPsciCall: return hv_a64_psci_call;
    case Routine::kStoreLoad: return hv_a64_store_load;
    case Routine::kLoadReport: return hv_a64_load_report;
    case Routine::kTouchPages: return hv_a64_touch_pages;
    case Routine::kGicSpi: return hv_a64_gic_spi;
    case Routine::kWaitForPeer: return hv_a64_wait_for_peer;
    case Routine::kSpin: return hv_a64_spin;
    case Routine::kRegisters: return hv_a64_registers;
    case Routine::kTimerRegs: return hv_a64_timer_regs;
    case Routine::kItsLpi: return hv_a64_its_lpi;
    case Routine::kSnapshotWorker: return hv_a64_snapshot_worker;
    case Routine::kSnapshotPair: return hv_a64_snapshot_pair;
  }
  return hv_a64_image_start;
}

}  // namespace

absl::Span<const uint8_t> Image() {
  return absl::Span<const uint8_t>(
      hv_a64_image_start,
      static_cast<size_t>(hv_a64_image_end - hv_a64_image_start));
}

uint64_t Offset(Routine routine) {
  return static_cast<uint64_t>(Symbol(routine) - hv_a64_image_start);
}

const char* RoutineName(Routine routine) {
  switch (routine) {
    case Routine::kMmioRoundTrip: return "mmio_round_trip";
    case Routine::kPsciCall: return "psci_call";
    case Routine::kStoreLoad: return "store_load";
    case Routine::kLoadReport: return "load_report";
    case Routine::kTouchPages: return "touch_pages";
    case Routine::kGicSpi: return "gic_spi";
    case Routine::kWaitForPeer: return "wait_for_peer";
    case Routine::kSpin: return "spin";
    case Routine::kRegisters: return "registers";
    case Routine::kTimerRegs: return "timer_regs";
    case Routine::kItsLpi: return "its_lpi";
    case Routine::kSnapshotWorker: return "snapshot_worker";
    case Routine::kSnapshotPair: return "snapshot_pair";
  }
  return "unknown";
}

}  // namespace hv::testing::a64
