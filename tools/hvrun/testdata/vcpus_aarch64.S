// A flat aarch64 payload for hvrun's tests, entered on every vCPU with the
// vCPU's index in x0 and the number of vCPUs in x1: each writes the one
// character '0' + index to the console (a single byte, so vCPUs cannot
// interleave inside it) and marks its byte in `done`; vCPU 0 then waits
// until every vCPU has marked its byte and asks PSCI for SYSTEM_OFF, the
// others spin. (aarch64 has no HLT exit to end the run on.) Position
// independent. The MMU is off, so every access is Device memory: uncached,
// seen by the other vCPUs at once. Up to 64 vCPUs.
        .text
        .globl  _start
_start:
        mov     x19, x0                     // x19 = this vCPU's index
        mov     x21, x1                     // x21 = the number of vCPUs
        mov     x1, #0x09000000
        add     w2, w19, #'0'
        strb    w2, [x1]
        adr     x20, done
        mov     w2, #1
        strb    w2, [x20, x19]
        cbnz    x19, spin

        mov     x22, #1                     // x22 = the vCPU to wait for
wait:
        cmp     x22, x21
        b.hs    off
        ldrb    w2, [x20, x22]
        cbz     w2, wait
        add     x22, x22, #1
        b       wait
off:
        mov     x0, #0x0008
        movk    x0, #0x8400, lsl #16        // PSCI_SYSTEM_OFF
        hvc     #0
spin:
        b       spin

done:   .fill   64, 1, 0
