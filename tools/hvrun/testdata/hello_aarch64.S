// A flat aarch64 payload for hvrun's tests: prints a line on the console
// (MMIO 0x09000000), sets exit code 7 through the debug-exit register (MMIO
// 0x09010000) and asks PSCI for SYSTEM_OFF. Position independent, so it
// runs at any load address.
        .text
        .globl  _start
_start:
        mov     x1, #0x09000000
        adr     x2, msg
1:      ldrb    w3, [x2], #1
        cbz     w3, 2f
        strb    w3, [x1]
        b       1b
2:      mov     x1, #0x09010000
        mov     w3, #7
        str     w3, [x1]
        mov     x0, #0x0008
        movk    x0, #0x8400, lsl #16        // PSCI_SYSTEM_OFF
        hvc     #0
3:      b       3b
msg:    .asciz  "hello from an aarch64 payload\n"
