// A real-mode payload that never finishes, for hvrun's --timeout test.
        .include "tools/hvrun/testdata/real_mode.inc"
        REAL_MODE_ENTRY
1:      jmp     1b
