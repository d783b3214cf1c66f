// A flat real-mode payload for hvrun's tests: prints a line on COM1 and
// ends the run with exit code 7 through the debug-exit port.
        .include "tools/hvrun/testdata/real_mode.inc"
        REAL_MODE_ENTRY
        PRINT_COM1 msg
        mov     $7, %al
        mov     $0xf4, %dx
        out     %al, %dx
        hlt
msg:    .asciz  "hello from a real-mode payload\n"
