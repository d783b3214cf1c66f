// tools/vmtest/kvm_smoke_guest_aarch64.S: the guest of
// kvm_smoke_test_aarch64.cc, copied into guest RAM and entered at EL1 with
// the MMU off (position independent). It writes 0xdeadbeef to MMIO
// 0x10000000, reads MMIO 0x10000008, writes that value plus one to MMIO
// 0x10000004 and to RAM at its own offset 0x800, then asks PSCI for
// SYSTEM_OFF (SMC Calling Convention through HVC; PSCI 1.1, DEN0022D 5.1.9).
        .section .rodata.hv_smoke_guest, "a"
        .globl  hv_smoke_guest_aarch64_start
        .globl  hv_smoke_guest_aarch64_end
        .balign 4
hv_smoke_guest_aarch64_start:
        mov     x1, #0x10000000
        mov     w2, #0xbeef
        movk    w2, #0xdead, lsl #16
        str     w2, [x1]
        ldr     w3, [x1, #8]
        add     w3, w3, #1
        str     w3, [x1, #4]
        adr     x4, hv_smoke_guest_aarch64_start
        str     w3, [x4, #0x800]
        mov     x0, #0x0008
        movk    x0, #0x8400, lsl #16        // PSCI_SYSTEM_OFF
        hvc     #0
1:      b       1b
hv_smoke_guest_aarch64_end:
