// hvrun's built-in demo guest for aarch64: entered at EL1h with the MMU off
// (every data access is Device memory, so only naturally aligned ones) at
// its load address, with a stack in sp (hvrun's Machine sets that up).
//
// It prints a greeting on the console (the data register at MMIO
// 0x09000000), scans PCI bus 0 through the ECAM window at 0x30000000 (PCI
// Express Base 4.0, 7.2.2: function configuration space at
// base + (device << 15 | function << 12)) for a virtio device (vendor
// 0x1af4), walks its capability list to the virtio shared-memory capability
// (virtio 1.2 4.1.4: cap_vndr 0x09, cfg_type 8, struct virtio_pci_cap64),
// reads the 64-bit BAR it names, prints where the shared memory is, prints
// the NUL-terminated text the host mapped at the start of that shared
// memory, writes its exit code to the debug-exit register (MMIO 0x09010000;
// 0: found it all; 1: no virtio device; 2: no shared-memory capability) and
// asks PSCI for SYSTEM_OFF (function 0x84000008 through hvc #0, SMC Calling
// Convention; PSCI 1.1, DEN0022D 5.1.9).
//
// Position independent: strings are addressed relative to the pc (adr).

        .section .rodata.hv_demo_guest_aarch64, "a"
        .globl  hv_demo_guest_start
        .globl  hv_demo_guest_end

        .set    CONSOLE, 0x09000000
        .set    DEBUG_EXIT, 0x09010000
        .set    ECAM, 0x30000000
        .set    VIRTIO_VENDOR, 0x1af4
        .set    CAP_VENDOR_SPECIFIC, 0x09
        .set    VIRTIO_PCI_CAP_SHARED_MEMORY_CFG, 8
        .set    PSCI_SYSTEM_OFF, 0x84000008

        .balign 4
hv_demo_guest_start:
        mov     x19, #CONSOLE
        adr     x0, msg_hello
        bl      puts

        // Scan devices 0..31 of bus 0, function 0.
        mov     x20, #ECAM                  // x20 = ECAM base
        mov     x21, #0                     // x21 = device number
scan:
        add     x22, x20, x21, lsl #15      // x22 = the function's config space
        ldr     w0, [x22]                   // vendor | device id << 16
        and     w1, w0, #0xffff
        mov     w2, #VIRTIO_VENDOR
        cmp     w1, w2
        b.eq    found
        add     x21, x21, #1
        cmp     x21, #32
        b.lo    scan
        adr     x0, msg_no_device
        bl      puts
        mov     x0, #1
        b       finish

found:
        lsr     w23, w0, #16                // device id
        adr     x0, msg_device
        bl      puts
        mov     x0, x23
        mov     x1, #4
        bl      put_hex
        adr     x0, msg_slot
        bl      puts
        mov     x0, x21
        mov     x1, #4
        bl      put_hex
        adr     x0, msg_newline
        bl      puts

        // Capability pointer: config offset 0x34, low byte.
        ldr     w24, [x22, #0x34]
        and     w24, w24, #0xfc
walk:
        cbz     w24, no_cap
        ldr     w0, [x22, x24]              // vndr | next << 8 | len << 16 | type << 24
        and     w1, w0, #0xff
        cmp     w1, #CAP_VENDOR_SPECIFIC
        b.ne    next_cap
        lsr     w1, w0, #24
        cmp     w1, #VIRTIO_PCI_CAP_SHARED_MEMORY_CFG
        b.eq    shm_cap
next_cap:
        ubfx    w24, w0, #8, #8
        and     w24, w24, #0xfc
        b       walk
no_cap:
        adr     x0, msg_no_cap
        bl      puts
        mov     x0, #2
        b       finish

shm_cap:
        // virtio_pci_cap64: bar at +4, offset at +8, length at +12,
        // offset_hi at +16, length_hi at +20.
        add     x25, x22, x24               // x25 = the capability
        ldr     w0, [x25, #4]
        and     w26, w0, #0xff              // w26 = BAR index
        ldr     w0, [x25, #8]
        ldr     w1, [x25, #16]
        orr     x27, x0, x1, lsl #32        // x27 = offset in the BAR
        ldr     w0, [x25, #12]
        ldr     w1, [x25, #20]
        orr     x28, x0, x1, lsl #32        // x28 = length

        // The BAR pair: low dword at 0x10 + 4 * index, high dword after it.
        add     x2, x22, #0x10
        add     x2, x2, x26, lsl #2
        ldr     w0, [x2]
        and     w0, w0, #0xfffffff0         // drop the BAR's type bits
        ldr     w1, [x2, #4]
        orr     x0, x0, x1, lsl #32
        add     x26, x0, x27                // x26 = shared memory address

        adr     x0, msg_bar
        bl      puts
        mov     x0, x26
        mov     x1, #16
        bl      put_hex
        adr     x0, msg_length
        bl      puts
        mov     x0, x28
        mov     x1, #8
        bl      put_hex
        adr     x0, msg_newline
        bl      puts

        adr     x0, msg_blob
        bl      puts
        mov     x0, x26                     // the host's text, in the BAR
        bl      puts
        adr     x0, msg_newline
        bl      puts
        mov     x0, #0

finish:
        mov     x1, #DEBUG_EXIT
        str     w0, [x1]
        mov     x0, #(PSCI_SYSTEM_OFF & 0xffff)
        movk    x0, #(PSCI_SYSTEM_OFF >> 16), lsl #16
        hvc     #0
1:      wfi                                 // not reached when SYSTEM_OFF works
        b       1b

// puts: writes the NUL-terminated string at x0 to the console (x19).
// Clobbers x0, w1.
puts:
        ldrb    w1, [x0], #1
        cbz     w1, 1f
        strb    w1, [x19]
        b       puts
1:      ret

// put_hex: writes x0 as "0x" and its low x1 hex digits (x1 = 1..16).
// Clobbers x0-x3.
put_hex:
        mov     w2, #'0'
        strb    w2, [x19]
        mov     w2, #'x'
        strb    w2, [x19]
        lsl     x3, x1, #2                  // bits to print
        neg     x3, x3
        add     x3, x3, #64
        lsl     x0, x0, x3                  // top digit to bits 63:60 (x1 = 16: no shift)
1:      ror     x0, x0, #60                 // next digit to bits 3:0
        and     w2, w0, #0xf
        add     w2, w2, #'0'
        cmp     w2, #'9'
        b.ls    2f
        add     w2, w2, #('a' - '9' - 1)
2:      strb    w2, [x19]
        subs    x1, x1, #1
        b.ne    1b
        ret

msg_hello:      .asciz "hv demo: guest running at EL1 on aarch64\n"
#include "tools/hvrun/demo_guest_messages.inc"
        .balign 4
hv_demo_guest_end:

// Code for the guest, not the host: the note keeps hvrun's own stacks
// non-executable (without it the linker marks them executable).
        .section .note.GNU-stack, "", %progbits
