// A flat real-mode payload for hvrun's exit-status tests: writes
// EXIT_VALUE (given with -DEXIT_VALUE=n when it is assembled) to the
// debug-exit port 0xf4 as a 16-bit word, so values above 255 can be tried.
// Loaded and entered at 0x10000 (cs = 0x1000, ip = 0).
        .code16
        .text
        .globl  _start
_start:
        mov     $EXIT_VALUE, %ax
        mov     $0xf4, %dx
        out     %ax, %dx
        hlt
