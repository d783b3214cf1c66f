// A real-mode payload that prints one line on COM1 and then loops forever,
// for hvrun's SIGTERM test: the test sends the signal once the line has
// arrived, and hvrun must flush it, print --stats and exit 128 + 15.
        .include "tools/hvrun/testdata/real_mode.inc"
        REAL_MODE_ENTRY
        PRINT_COM1 msg
1:      jmp     1b
msg:    .asciz  "spinning until a signal\n"
