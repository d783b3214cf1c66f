// The assembled guest programs of testing/guest/*.S, as byte spans.
//
// Each program is assembled into the test binary between two symbols; the
// functions here return those bytes, for GuestFixture::Load to copy into
// guest RAM at HV_GUEST_CODE. What each program does, and which registers it
// takes its arguments in, is documented next to its code in the .S file.
//
// Example:
//   hv::testing::GuestProgram program = hv::testing::guest::PioOut();
//   std::memcpy(ram + HV_GUEST_CODE, program.bytes.data(), program.bytes.size());
#ifndef HV_TESTING_GUEST_PROGRAMS_H_
#define HV_TESTING_GUEST_PROGRAMS_H_

#include <cstdint>

#include "absl/types/span.h"

namespace hv::testing {

// GuestProgram: a program's name (for messages) and its bytes.
struct GuestProgram {
  const char* name;
  absl::Span<const uint8_t> bytes;
};

namespace guest {

// io.S (64-bit)
GuestProgram PioOut();
GuestProgram PioInEcho();
GuestProgram MmioWrite();
GuestProgram MmioEcho();
GuestProgram PioWriteLoop();
// memory.S (64-bit)
GuestProgram ReadReport();
GuestProgram WriteCheck();
GuestProgram TouchPages();
// cpu.S (64-bit)
GuestProgram Halt();
GuestProgram LongModeState();
GuestProgram UserSum();
GuestProgram Spin();
GuestProgram Rdtsc();
GuestProgram Xgetbv();
GuestProgram DebugSteps();
// irq.S (64-bit, CPL0)
GuestProgram PicInterrupt();
GuestProgram LapicInterrupt();
GuestProgram IoapicLevel();
GuestProgram WindowInterrupt();
GuestProgram SnapshotPair();  // two vCPUs at once
// real_mode.S (16-bit)
GuestProgram RealModeState();
// state.S (64-bit)
GuestProgram EventHandlers();  // CPL0
GuestProgram AvxLoad();
GuestProgram AvxStore();
GuestProgram PitProgram();  // CPL0
GuestProgram PitTicks();    // CPL0
GuestProgram MsrAccess();   // CPL0
GuestProgram SnapshotWorker();  // CPL0

}  // namespace guest
}  // namespace hv::testing

#endif  // HV_TESTING_GUEST_PROGRAMS_H_
