// The Example block of testing/aarch64/guest_layout.h, pasted as it stands
// there and assembled into //testing/aarch64:examples_test, which links it
// against the image's vector table.
#include "testing/aarch64/guest_layout.h"

        .section .rodata.hv_a64_example, "a"
HV_A64_ROUTINE(report_mpidr)
  mrs     x0, mpidr_el1
  REPORT  x0
  DONE
        .section .note.GNU-stack, "", @progbits
