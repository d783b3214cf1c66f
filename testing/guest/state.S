// Guest programs for the vCPU-state tests: events in flight and XSAVE
// state carried from one vCPU to another. 64-bit code, loaded at
// HV_GUEST_CODE (position independent; see layout.h).

#include "testing/guest/layout.h"

        .code64

// GATE vector, handler: writes a 64-bit interrupt gate (Intel SDM Vol. 3,
// Section 6.14.1, Figure 6-8: P=1, DPL=0, type 0xE) for `vector` at
// HV_GUEST_IDT pointing at `handler`. Clobbers rax, rcx, rdx.
.macro GATE vector, handler
        mov     $(HV_GUEST_IDT + \vector * 16), %rcx
        lea     \handler(%rip), %rax
        mov     %ax, (%rcx)                             // offset 15:0
        mov     %cs, %dx
        mov     %dx, 2(%rcx)                            // code selector
        movw    $0x8e00, 4(%rcx)
        shr     $16, %rax
        mov     %ax, 6(%rcx)                            // offset 31:16
        shr     $16, %rax
        mov     %eax, 8(%rcx)                           // offset 63:32
        movl    $0, 12(%rcx)
.endm

// event_handlers (CPL0): installs handlers for the NMI (vector 2) and for
// #GP (vector 13, which pushes an error code), loads the IDT, writes
// HV_GUEST_SIGNAL_PORT (the host may now set events) and halts. A handler
// reports its vector (and #GP its error code) and finishes; with no event
// the hlt exits to the host instead.
HV_GUEST_PROGRAM_BEGIN(event_handlers)
        GATE    2, nmi_handler
        GATE    13, gp_handler
        sub     $16, %rsp
        movw    $(256 * 16 - 1), (%rsp)
        movq    $HV_GUEST_IDT, 2(%rsp)
        lidt    (%rsp)
        add     $16, %rsp
        out     %al, $HV_GUEST_SIGNAL_PORT
        hlt
        DONE

nmi_handler:
        mov     $2, %eax
        REPORT32
        DONE

gp_handler:
        mov     $13, %eax
        REPORT32
        pop     %rax                                    // the error code
        REPORT32
        DONE
HV_GUEST_PROGRAM_END(event_handlers)

// avx_load (any CPL; needs CR4.OSXSAVE and XCR0 with AVX): loads %ymm0
// from the 32 bytes at %rdi and %ymm15 from the 32 bytes after them, so the
// state lives only in the vCPU's registers.
HV_GUEST_PROGRAM_BEGIN(avx_load)
        vmovdqu (%rdi), %ymm0
        vmovdqu 32(%rdi), %ymm15
        DONE
HV_GUEST_PROGRAM_END(avx_load)

// avx_store (likewise): stores %ymm0 and %ymm15 to the 64 bytes at %rdi.
HV_GUEST_PROGRAM_BEGIN(avx_store)
        vmovdqu %ymm0, (%rdi)
        vmovdqu %ymm15, 32(%rdi)
        DONE
HV_GUEST_PROGRAM_END(avx_store)

// pit_program (CPL0): initialises the primary 8259A (ICW1-ICW4: edge
// triggered, vectors from HV_GUEST_PIC_VECTOR_BASE, 8086 mode) with only
// IRQ 0 unmasked, and starts 8254 counter 0 as a rate generator (control
// word 0x34: counter 0, low then high byte, mode 2, binary) with count
// 1193 (about 1 kHz). Interrupts stay disabled (RFLAGS.IF = 0).
HV_GUEST_PROGRAM_BEGIN(pit_program)
        mov     $0x11, %al
        out     %al, $HV_GUEST_PIC_MASTER_CMD
        mov     $HV_GUEST_PIC_VECTOR_BASE, %al
        out     %al, $HV_GUEST_PIC_MASTER_DATA
        mov     $0x04, %al
        out     %al, $HV_GUEST_PIC_MASTER_DATA
        mov     $0x01, %al
        out     %al, $HV_GUEST_PIC_MASTER_DATA
        mov     $0xfe, %al                              // OCW1: IRQ 0 only
        out     %al, $HV_GUEST_PIC_MASTER_DATA
        mov     $0x34, %al
        out     %al, $0x43
        mov     $(1193 & 0xff), %al
        out     %al, $0x40
        mov     $(1193 >> 8), %al
        out     %al, $0x40
        DONE
HV_GUEST_PROGRAM_END(pit_program)

// pit_ticks (CPL0): programs neither the PIC nor the PIT; installs a
// handler for vector HV_GUEST_PIC_VECTOR_BASE (IRQ 0) that counts in %rbx
// and sends a non-specific EOI, enables interrupts and halts until three
// ticks arrived, then reports the count. Whatever programmed the timer
// (here: state set by the host) makes it tick.
HV_GUEST_PROGRAM_BEGIN(pit_ticks)
        GATE    HV_GUEST_PIC_VECTOR_BASE, tick_handler
        sub     $16, %rsp
        movw    $(256 * 16 - 1), (%rsp)
        movq    $HV_GUEST_IDT, 2(%rsp)
        lidt    (%rsp)
        add     $16, %rsp
        xor     %ebx, %ebx
        sti
1:      hlt
        cmp     $3, %rbx
        jb      1b
        cli
        mov     %ebx, %eax
        REPORT32
        DONE

tick_handler:
        push    %rax
        inc     %rbx
        mov     $0x20, %al
        out     %al, $HV_GUEST_PIC_MASTER_CMD
        pop     %rax
        iretq
HV_GUEST_PROGRAM_END(pit_ticks)
