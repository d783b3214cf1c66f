// A flat aarch64 payload for hvrun's snapshot tests: 20 times, it reads the
// virtual counter (CNTVCT_EL0), prints "." on the console (MMIO 0x09000000,
// a VM exit) and reads the counter again. A step of a second (CNTFRQ_EL0
// ticks) or more across one print is a jump in the guest's time: it prints
// "J" and ends with value 1; after 20 prints without one, value 0. Both
// through the debug-exit register (MMIO 0x09010000), then PSCI SYSTEM_OFF.
// A snapshot taken at a print and restored later shows whether the restore
// let the guest see the time in between (hvrun --advance_clock) or not.
        .text
        .globl  _start
_start:
        mov     x1, #0x09000000
        mrs     x5, cntfrq_el0
        mov     x6, #20
        mov     w7, #0                      // the value: no jump
1:      isb
        mrs     x2, cntvct_el0
        mov     w3, #'.'
        strb    w3, [x1]
        isb
        mrs     x4, cntvct_el0
        sub     x4, x4, x2
        cmp     x4, x5
        b.hs    2f
        subs    x6, x6, #1
        b.ne    1b
        b       3f
2:      mov     w3, #'J'
        strb    w3, [x1]
        mov     w7, #1                      // the value: a jump
3:      mov     x1, #0x09010000
        str     w7, [x1]
        mov     x0, #0x0008
        movk    x0, #0x8400, lsl #16        // PSCI_SYSTEM_OFF
        hvc     #0
4:      b       4b
