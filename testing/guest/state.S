// Guest programs for the vCPU-state tests: events in flight and XSAVE
// state carried from one vCPU to another. 64-bit code, loaded at
// HV_GUEST_CODE (position independent; see layout.h).

#include "testing/guest/layout.h"

        .code64

// event_handlers (CPL0): installs handlers for the NMI (vector 2) and for
// #GP (vector 13, which pushes an error code), loads the IDT, writes
// HV_GUEST_SIGNAL_PORT (the host may now set events) and halts. A handler
// reports its vector (and #GP its error code) and finishes; with no event
// the hlt exits to the host instead.
HV_GUEST_PROGRAM_BEGIN(event_handlers)
        GATE    $2, nmi_handler
        GATE    $13, gp_handler
        LOAD_IDT
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
        GATE    $HV_GUEST_PIC_VECTOR_BASE, tick_handler
        LOAD_IDT
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

// msr_access (CPL0): %rdi = an MSR the host may take, %rsi = one it leaves
// with the hypervisor. Installs a #GP handler (vector 13) that reports 13
// and resumes after the faulting two-byte rdmsr/wrmsr with %rax = %rdx =
// 0. Then: reads MSR %rdi and reports it; writes 0x1122334455667788 to
// it; writes 0xa5 to MSR %rsi, reads it back and reports it; reads MSR
// %rdi again and reports it (0 after a #GP).
HV_GUEST_PROGRAM_BEGIN(msr_access)
        GATE    $13, gp_skip
        LOAD_IDT
        mov     %edi, %ecx
        call    read_msr
        REPORT64 %rax
        mov     %edi, %ecx
        mov     $0x55667788, %eax
        mov     $0x11223344, %edx
        wrmsr
        mov     %esi, %ecx
        mov     $0xa5, %eax
        xor     %edx, %edx
        wrmsr
        call    read_msr
        REPORT64 %rax
        mov     %edi, %ecx
        call    read_msr
        REPORT64 %rax
        DONE

// read_msr: %rax = MSR %ecx (edx:eax joined), 0 if rdmsr faulted.
read_msr:
        xor     %eax, %eax
        xor     %edx, %edx
        rdmsr
        shl     $32, %rdx
        or      %rdx, %rax
        ret

gp_skip:
        mov     $13, %eax
        REPORT32
        add     $8, %rsp                                // the error code
        addq    $2, (%rsp)                              // past rdmsr/wrmsr
        xor     %eax, %eax
        xor     %edx, %edx
        iretq
HV_GUEST_PROGRAM_END(msr_access)

// snapshot_worker (CPL0): %rdi = rounds per phase (> 0). Phase one mixes a
// hash in %rax over the rounds, storing each round's value in a 256-qword
// table at 0x100000 (slot = round mod 256); it leaves the hash in %r13, 7
// in %r15 and the hash's low half in MSR IA32_SYSENTER_ESP (0x175), then
// writes HV_GUEST_SIGNAL_PORT: a host may snapshot the VM here. It then
// changes 16 table entries (entry i - 1 ^= i) and signals again (a second,
// incremental snapshot). Phase two adds the table up into %rbx, folds %r13,
// %r15 and the MSR in, mixes as many rounds again into %rax, and reports
// %rbx, then %rax (REPORT64 each). A restored VM reports the same two values only if its memory,
// registers and MSRs all came back. (No SSE: kvm_pvm's instruction
// emulator, which runs CPL0 code there, has no movq to %xmm.)
HV_GUEST_PROGRAM_BEGIN(snapshot_worker)
        mov     $0x9e3779b97f4a7c15, %rax
        mov     $0x100000, %rsi
        mov     %rdi, %rcx
1:      imul    $31, %rax, %rax
        add     %rcx, %rax
        mov     %ecx, %edx
        and     $255, %edx
        mov     %rax, (%rsi, %rdx, 8)
        dec     %rcx
        jnz     1b
        mov     %rax, %r13
        mov     $7, %r15
        mov     $0x175, %ecx                            // IA32_SYSENTER_ESP
        xor     %edx, %edx
        wrmsr                                           // %eax, the low half
        out     %al, $HV_GUEST_SIGNAL_PORT
        mov     $16, %ecx
4:      xor     %rcx, -8(%rsi, %rcx, 8)
        dec     %ecx
        jnz     4b
        out     %al, $HV_GUEST_SIGNAL_PORT
        xor     %ebx, %ebx
        xor     %ecx, %ecx
2:      add     (%rsi, %rcx, 8), %rbx
        inc     %ecx
        cmp     $256, %ecx
        jb      2b
        xor     %r13, %rbx
        add     %r15, %rbx
        mov     $0x175, %ecx
        rdmsr
        shl     $32, %rax
        or      %rax, %rbx                              // low half into 63:32
        mov     %r13, %rax
        mov     %rdi, %rcx
3:      imul    $31, %rax, %rax
        add     %rcx, %rax
        dec     %rcx
        jnz     3b
        mov     %rax, %r14
        REPORT64 %rbx
        REPORT64 %r14
        DONE
HV_GUEST_PROGRAM_END(snapshot_worker)
