#include "testing/guest_programs.h"

#include <cstdint>

// Defines guest::Function() returning the bytes between the hidden symbols
// hv_guest_<symbol>_start and hv_guest_<symbol>_end of a .S file.
#define HV_GUEST_PROGRAM(Function, symbol)                                  \
  extern "C" const uint8_t hv_guest_##symbol##_start[];                     \
  extern "C" const uint8_t hv_guest_##symbol##_end[];                       \
  namespace hv::testing::guest {                                            \
  GuestProgram Function() {                                                 \
    return {#symbol,                                                        \
            absl::Span<const uint8_t>(                                      \
                hv_guest_##symbol##_start,                                  \
                static_cast<size_t>(hv_guest_##symbol##_end -               \
                                    hv_guest_##symbol##_start))};           \
  }                                                                         \
  }

HV_GUEST_PROGRAM(PioOut, pio_out)
HV_GUEST_PROGRAM(PioInEcho, pio_in_echo)
HV_GUEST_PROGRAM(MmioWrite, mmio_write)
HV_GUEST_PROGRAM(MmioEcho, mmio_echo)
HV_GUEST_PROGRAM(PioWriteLoop, pio_write_loop)
HV_GUEST_PROGRAM(ReadReport, read_report)
HV_GUEST_PROGRAM(WriteCheck, write_check)
HV_GUEST_PROGRAM(TouchPages, touch_pages)
HV_GUEST_PROGRAM(Halt, halt)
HV_GUEST_PROGRAM(LongModeState, long_mode_state)
HV_GUEST_PROGRAM(UserSum, user_sum)
HV_GUEST_PROGRAM(Spin, spin)
HV_GUEST_PROGRAM(Rdtsc, rdtsc)
HV_GUEST_PROGRAM(Xgetbv, xgetbv)
HV_GUEST_PROGRAM(DebugSteps, debug_steps)
HV_GUEST_PROGRAM(PicInterrupt, pic_interrupt)
HV_GUEST_PROGRAM(LapicInterrupt, lapic_interrupt)
HV_GUEST_PROGRAM(IoapicLevel, ioapic_level)
HV_GUEST_PROGRAM(WindowInterrupt, window_interrupt)
HV_GUEST_PROGRAM(RealModeState, real_mode_state)
HV_GUEST_PROGRAM(EventHandlers, event_handlers)
HV_GUEST_PROGRAM(AvxLoad, avx_load)
HV_GUEST_PROGRAM(AvxStore, avx_store)
HV_GUEST_PROGRAM(PitProgram, pit_program)
HV_GUEST_PROGRAM(PitTicks, pit_ticks)
HV_GUEST_PROGRAM(MsrAccess, msr_access)
HV_GUEST_PROGRAM(SnapshotWorker, snapshot_worker)
HV_GUEST_PROGRAM(SnapshotPair, snapshot_pair)
