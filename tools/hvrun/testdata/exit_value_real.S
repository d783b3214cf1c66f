// A flat real-mode payload for hvrun's exit-status tests: writes
// EXIT_VALUE (given with -DEXIT_VALUE=n when it is assembled) to the
// debug-exit port 0xf4 as a 16-bit word, so values above 255 can be tried.
        .include "tools/hvrun/testdata/real_mode.inc"
        REAL_MODE_ENTRY
        mov     $EXIT_VALUE, %ax
        mov     $0xf4, %dx
        out     %ax, %dx
        hlt
