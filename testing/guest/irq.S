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
        GATE    %rbx, handler
        LOAD_IDT

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

// The local APIC and IOAPIC at their reset addresses (Intel SDM Vol. 3,
// Section 11.4.1, Table 11-1; 82093AA IOAPIC datasheet, Section 3.0).
#define LAPIC_EOI 0xfee000b0
#define LAPIC_SVR 0xfee000f0
#define IOAPIC_REGSEL 0xfec00000
#define IOAPIC_WIN 0xfec00010

// IDT_GATE vector, handler: GATE (layout.h) for `vector` (a register),
// then LOAD_IDT, as pic_interrupt does. Clobbers rax, rcx, rdx.
.macro IDT_GATE vector, handler
        GATE    \vector, \handler
        LOAD_IDT
.endm

// LAPIC_ENABLE: software-enables the local APIC (SVR bit 8, spurious
// vector 0xff); until then it drops fixed interrupts. The APIC's addresses
// are above 2 GiB, beyond a sign-extended displacement, so they go through
// a register. Clobbers rdx.
.macro LAPIC_ENABLE
        mov     $LAPIC_SVR, %edx
        movl    $0x1ff, (%rdx)
.endm

// LAPIC_EOI_WRITE: ends the interrupt in service. Keeps every register.
.macro LAPIC_EOI_WRITE
        push    %rdx
        mov     $LAPIC_EOI, %edx
        movl    $0, (%rdx)
        pop     %rdx
.endm

// lapic_interrupt: %rdi = vector (0x20-0xfe). Enables the local APIC,
// installs a handler for the vector, writes HV_GUEST_SIGNAL_PORT (the host
// may now send an MSI), then `sti; hlt`. The handler reports its vector and
// writes the APIC's EOI register; the program then reports RFLAGS.IF and
// finishes.
HV_GUEST_PROGRAM_BEGIN(lapic_interrupt)
        mov     %rdi, %rbx
        IDT_GATE %rbx, lapic_handler
        LAPIC_ENABLE
        out     %al, $HV_GUEST_SIGNAL_PORT
        sti
        hlt
        pushfq
        pop     %rax
        and     $0x200, %eax
        REPORT32
        DONE

lapic_handler:
        push    %rax
        mov     %ebx, %eax
        REPORT32
        LAPIC_EOI_WRITE
        pop     %rax
        iretq
HV_GUEST_PROGRAM_END(lapic_interrupt)

// ioapic_level: %rdi = IOAPIC pin, %rsi = vector. Enables the local APIC,
// installs a handler, masks the PICs, and programs the pin's redirection entry (registers
// 0x10 + 2 * pin, low, and 0x11 + 2 * pin, high): fixed delivery of the
// vector to APIC 0, active high, level triggered (bit 15), unmasked. Writes
// HV_GUEST_SIGNAL_PORT, then sleeps with interrupts enabled until the
// handler has run twice (cli / check / sti; hlt, so no interrupt is lost
// between the check and the hlt). Each handler run counts itself in %r12,
// reports the vector and EOIs the local APIC (which, for a level-triggered
// vector, EOIs the IOAPIC too). After the second, the program keeps
// interrupts enabled for a while (a line left asserted would be delivered
// again here), then reports the count and finishes. Clobbers %r13.
HV_GUEST_PROGRAM_BEGIN(ioapic_level)
        mov     %rsi, %rbx
        IDT_GATE %rbx, ioapic_handler
        LAPIC_ENABLE
        xor     %r12d, %r12d
        // Mask both 8259As (OCW1): KVM's default routes send a legacy GSI
        // to the PIC as well, and the BSP's LINT0 takes the PIC's output.
        mov     $0xff, %al
        out     %al, $HV_GUEST_PIC_MASTER_DATA
        out     %al, $0xa1                              // slave PIC data
        mov     $IOAPIC_REGSEL, %edx
        lea     0x11(%rdi, %rdi), %eax                  // high half: APIC 0
        movl    %eax, (%rdx)
        movl    $0, IOAPIC_WIN - IOAPIC_REGSEL(%rdx)
        lea     0x10(%rdi, %rdi), %eax                  // low half
        movl    %eax, (%rdx)
        mov     %ebx, %eax
        or      $0x8000, %eax                           // level triggered
        movl    %eax, IOAPIC_WIN - IOAPIC_REGSEL(%rdx)
        out     %al, $HV_GUEST_SIGNAL_PORT
1:      cli
        cmp     $2, %r12
        jae     2f
        sti
        hlt
        jmp     1b
        // The while is 2^24 TSC ticks (5-10 ms at 1.6-3.5 GHz), not a count
        // of instructions: kvm_pvm emulates this CPL0 code at ~1 us per
        // instruction (../shared/notes/kvm-on-these-machines.md).
2:      sti
        rdtsc
        shl     $32, %rdx
        or      %rax, %rdx
        lea     0x1000000(%rdx), %r13                   // deadline
3:      rdtsc
        shl     $32, %rdx
        or      %rax, %rdx
        cmp     %r13, %rdx
        jb      3b
        cli
        mov     %r12d, %eax
        REPORT32
        DONE

ioapic_handler:
        push    %rax
        inc     %r12
        mov     %ebx, %eax
        REPORT32
        LAPIC_EOI_WRITE
        pop     %rax
        iretq
HV_GUEST_PROGRAM_END(ioapic_level)

// window_interrupt: %rdi = vector. Installs a handler for the vector, writes
// HV_GUEST_SIGNAL_PORT with interrupts disabled (the host's injection must
// be refused here), then enables interrupts (`sti`: the interrupt window
// the host asked for opens) and spins until the handler has run. The
// handler (no interrupt controller to EOI: the host injects the vector
// itself) counts itself in %r12 and reports the vector; the program then
// reports the count and finishes.
HV_GUEST_PROGRAM_BEGIN(window_interrupt)
        mov     %rdi, %rbx
        IDT_GATE %rbx, window_handler
        xor     %r12d, %r12d
        out     %al, $HV_GUEST_SIGNAL_PORT
        sti
1:      cmp     $0, %r12
        je      1b
        cli
        mov     %r12d, %eax
        REPORT32
        DONE

window_handler:
        push    %rax
        inc     %r12
        mov     %ebx, %eax
        REPORT32
        pop     %rax
        iretq
HV_GUEST_PROGRAM_END(window_interrupt)

// The local APIC timer (Intel SDM Vol. 3, Section 11.5.4: LVT timer,
// initial count and divide configuration registers).
#define LAPIC_LVT_TIMER 0xfee00320
#define LAPIC_TIMER_INITIAL 0xfee00380
#define LAPIC_TIMER_DIVIDE 0xfee003e0
// snapshot_pair's shared words: interrupts taken by vCPU 0 (timer) and 1
// (the host's MSI), then each vCPU's "computation finished" flag, then vCPU
// 1's "ready for interrupts" flag.
#define PAIR_COUNTS 0x180000
#define PAIR_IRQ_READY (PAIR_COUNTS + 32)
#define PAIR_TIMER_VECTOR 0x30
#define PAIR_IRQ_VECTOR 0x31
#define PAIR_TIMER_COUNT 1000000  // bus cycles: 1 ms on KVM's 1 GHz APIC bus

// snapshot_pair: two vCPUs run it at once, each on its own stack; %rsi =
// the vCPU (0 or 1), %rdi = rounds of work, %rdx = interrupts to take; if
// %r8 is not 0 (the host enabled AVX), %ymm1 holds the 32 bytes at %r9
// through the computation and its upper half is folded into the checksum.
// Both install the same two gates, enable their local APICs and set
// interrupts on. vCPU 0 starts its APIC timer (one-shot, vector 0x30,
// PAIR_TIMER_COUNT; its handler re-arms it until the last tick); vCPU 1
// sets PAIR_IRQ_READY: from then on the host may send it MSIs at vector
// 0x31. Each vCPU then mixes a hash in %rax over its rounds, storing each
// round's value in its own 512-qword table (0x100000 + 0x10000 * vCPU),
// adds the table up into %rbx, folds the hash in, sets its "finished" flag
// and sleeps until it has taken its interrupts (cli / check / sti; hlt). It
// reports the checksum (REPORT64) and its interrupt count, and finishes.
// The handlers only count (the timer's up to vCPU 0's %rdx), so the
// checksums are the same however the interrupts fall. (One-shot, re-armed:
// on kvm_pvm a periodic APIC timer was seen to tick only once.)
HV_GUEST_PROGRAM_BEGIN(snapshot_pair)
        mov     %rdx, %r12
        mov     %rsi, %rbp
        GATE    $PAIR_TIMER_VECTOR, pair_timer_handler
        GATE    $PAIR_IRQ_VECTOR, pair_irq_handler
        LOAD_IDT
        LAPIC_ENABLE
        test    %ebp, %ebp
        jnz     1f
        mov     $LAPIC_TIMER_DIVIDE, %edx
        movl    $0xb, (%rdx)                            // divide by 1
        mov     $LAPIC_LVT_TIMER, %edx
        movl    $PAIR_TIMER_VECTOR, (%rdx)              // one-shot
        mov     $LAPIC_TIMER_INITIAL, %edx
        movl    $PAIR_TIMER_COUNT, (%rdx)
        jmp     2f
1:      movq    $1, PAIR_IRQ_READY
2:      sti
        test    %r8, %r8
        jz      7f
        vmovdqu (%r9), %ymm1                            // live to the end
7:      mov     %rbp, %rsi
        shl     $16, %rsi
        add     $0x100000, %rsi                         // this vCPU's table
        mov     $0x9e3779b97f4a7c15, %rax
        xor     %rbp, %rax
        mov     %rdi, %rcx
3:      imul    $31, %rax, %rax
        add     %rcx, %rax
        mov     %ecx, %edx
        and     $511, %edx
        mov     %rax, (%rsi, %rdx, 8)
        dec     %rcx
        jnz     3b
        xor     %ebx, %ebx
        xor     %ecx, %ecx
4:      add     (%rsi, %rcx, 8), %rbx
        inc     %ecx
        cmp     $512, %ecx
        jb      4b
        xor     %rax, %rbx
        test    %r8, %r8
        jz      8f
        vextractf128 $1, %ymm1, %xmm2                   // the upper half
        vmovq   %xmm2, %rdx
        xor     %rdx, %rbx
        vpextrq $1, %xmm2, %rdx
        add     %rdx, %rbx
8:      lea     PAIR_COUNTS(, %rbp, 8), %r13            // this vCPU's count
        movq    $1, 16(%r13)                            // finished
5:      cli
        cmp     %r12, (%r13)
        jae     6f
        sti
        hlt
        jmp     5b
6:      REPORT64 %rbx
        mov     (%r13), %rax
        REPORT32
        DONE

pair_timer_handler:
        push    %rax
        push    %rdx
        mov     $PAIR_COUNTS, %eax
        cmp     %r12, (%rax)
        jae     1f
        incq    (%rax)
        cmp     %r12, (%rax)
        jae     1f
        mov     $LAPIC_TIMER_INITIAL, %edx              // the next tick
        movl    $PAIR_TIMER_COUNT, (%rdx)
1:      LAPIC_EOI_WRITE
        pop     %rdx
        pop     %rax
        iretq

pair_irq_handler:
        push    %rax
        mov     $(PAIR_COUNTS + 8), %eax
        incq    (%rax)
        LAPIC_EOI_WRITE
        pop     %rax
        iretq
HV_GUEST_PROGRAM_END(snapshot_pair)
