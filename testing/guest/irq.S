// A guest program that takes an external interrupt through the in-kernel
// 8259A PIC: 64-bit code at CPL0, loaded at HV_GUEST_CODE (position
// independent; see layout.h).

#include "testing/guest/layout.h"

        .code64

// pic_interrupt: %rdi = IRQ line (0-7, not 2) of the master PIC.
//  1. Writes a 64-bit interrupt gate for vector HV_GUEST_PIC_VECTOR_BASE +
//     %rdi at HV_GUEST_IDT and loads the IDT (Intel SDM Vol. 3, Section
//     6.14.1, Figure 6-8: offset 15:0, selector, IST, type 0xE with P=1 and
//     DPL=0, offset 31:16, offset 63:32).
//  2. Initialises the master PIC (8259A datasheet, ICW1-ICW4: edge
//     triggered, cascaded, vectors from HV_GUEST_PIC_VECTOR_BASE, 8086 mode)
//     and unmasks only IRQ %rdi (OCW1).
//  3. Writes HV_GUEST_SIGNAL_PORT (the host may now raise the interrupt),
//     then `sti; hlt` (the sti shadow keeps the interrupt off until the hlt).
//  4. The handler reports its vector, sends a non-specific EOI (OCW2 0x20)
//     and returns; the program then reports the RFLAGS.IF it sees (bit 9)
//     and finishes.
HV_GUEST_PROGRAM_BEGIN(pic_interrupt)
        lea     HV_GUEST_PIC_VECTOR_BASE(%rdi), %rbx    // rbx = vector
        mov     %rbx, %rcx
        shl     $4, %rcx
        add     $HV_GUEST_IDT, %rcx                     // rcx = gate address
        lea     handler(%rip), %rax
        mov     %ax, (%rcx)                             // offset 15:0
        mov     %cs, %dx
        mov     %dx, 2(%rcx)                            // code selector
        movw    $0x8e00, 4(%rcx)                        // P, DPL 0, type 0xE
        shr     $16, %rax
        mov     %ax, 6(%rcx)                            // offset 31:16
        shr     $16, %rax
        mov     %eax, 8(%rcx)                           // offset 63:32
        movl    $0, 12(%rcx)                            // reserved
        // lidt takes a 10-byte limit:base pseudo-descriptor.
        sub     $16, %rsp
        movw    $(256 * 16 - 1), (%rsp)
        movq    $HV_GUEST_IDT, 2(%rsp)
        lidt    (%rsp)
        add     $16, %rsp

        mov     $0x11, %al                              // ICW1: ICW4 needed
        out     %al, $HV_GUEST_PIC_MASTER_CMD
        mov     $HV_GUEST_PIC_VECTOR_BASE, %al          // ICW2: vector base
        out     %al, $HV_GUEST_PIC_MASTER_DATA
        mov     $0x04, %al                              // ICW3: slave on IR2
        out     %al, $HV_GUEST_PIC_MASTER_DATA
        mov     $0x01, %al                              // ICW4: 8086 mode
        out     %al, $HV_GUEST_PIC_MASTER_DATA
        mov     %edi, %ecx
        mov     $1, %eax
        shl     %cl, %eax
        not     %eax
        out     %al, $HV_GUEST_PIC_MASTER_DATA          // OCW1: the mask

        out     %al, $HV_GUEST_SIGNAL_PORT
        sti
        hlt
        pushfq
        pop     %rax
        and     $0x200, %eax                            // RFLAGS.IF
        REPORT32
        DONE

handler:
        push    %rax
        mov     %ebx, %eax
        REPORT32
        mov     $0x20, %al                              // OCW2: EOI
        out     %al, $HV_GUEST_PIC_MASTER_CMD
        pop     %rax
        iretq
HV_GUEST_PROGRAM_END(pic_interrupt)
