// The Example block of testing/guest/layout.h, pasted as it stands there
// and assembled into //testing:examples_test, which checks its bytes.
#include "testing/guest/layout.h"

HV_GUEST_PROGRAM_BEGIN(tsc_low)
  rdtsc
  REPORT32
  DONE
HV_GUEST_PROGRAM_END(tsc_low)
