// Guest programs about the CPU itself: execution mode, halting, spinning,
// the TSC. 64-bit code unless marked, loaded at HV_GUEST_CODE (position
// independent; see layout.h).

#include "testing/guest/layout.h"

        .code64

// halt: one hlt; with no in-kernel irqchip the vCPU exits to the host.
HV_GUEST_PROGRAM_BEGIN(halt)
        hlt
HV_GUEST_PROGRAM_END(halt)

// long_mode_state: reports CR0, EFER (MSR 0xc0000080, Intel SDM Vol. 4,
// Table 2-2), CS (its low two bits are the CPL) and the 128-bit product
// %rdi * %rsi (low, then high 64 bits). CPL0 only: CR0 and rdmsr are
// privileged.
HV_GUEST_PROGRAM_BEGIN(long_mode_state)
        mov     %cr0, %rbx
        REPORT64 %rbx
        mov     $0xc0000080, %ecx
        rdmsr
        shl     $32, %rdx
        or      %rdx, %rax
        REPORT64 %rax
        mov     %cs, %eax
        REPORT32
        mov     %rdi, %rax
        mul     %rsi                    // rdx:rax = rdi * rsi
        mov     %rdx, %rbx
        REPORT64 %rax
        REPORT64 %rbx
        DONE
HV_GUEST_PROGRAM_END(long_mode_state)

// user_sum: reports CS (CPL in bits 1:0), then the sum %rcx + (%rcx - 1) +
// ... + 1 computed by a loop of %rcx iterations (%rcx > 0). Runs at any CPL.
HV_GUEST_PROGRAM_BEGIN(user_sum)
        mov     %cs, %eax
        REPORT32
        xor     %ebx, %ebx
1:      add     %rcx, %rbx
        dec     %rcx
        jnz     1b
        REPORT64 %rbx
        DONE
HV_GUEST_PROGRAM_END(user_sum)

// spin: loops forever; only a kick gets the vCPU back.
HV_GUEST_PROGRAM_BEGIN(spin)
1:      jmp     1b
HV_GUEST_PROGRAM_END(spin)

// rdtsc: reports the time-stamp counter (Intel SDM Vol. 3, Section 18.17).
HV_GUEST_PROGRAM_BEGIN(rdtsc)
        rdtsc
        shl     $32, %rdx
        or      %rax, %rdx
        REPORT64 %rdx
        DONE
HV_GUEST_PROGRAM_END(rdtsc)

// xgetbv: reports XCR0 (Intel SDM Vol. 1, Section 13.3). XGETBV needs
// CR4.OSXSAVE (Vol. 3, Section 2.5), which the host sets; it runs at any
// privilege level, so this program also runs at CPL3.
HV_GUEST_PROGRAM_BEGIN(xgetbv)
        xor     %ecx, %ecx
        xgetbv
        shl     $32, %rdx
        or      %rax, %rdx
        REPORT64 %rdx
        DONE
HV_GUEST_PROGRAM_END(xgetbv)

// debug_steps: three one-byte nops, then a five-byte mov, so a debugger
// knows each instruction's address: HV_GUEST_CODE + 0, 1, 2, 3 (the mov),
// 8 (the report); then reports 0x1234.
HV_GUEST_PROGRAM_BEGIN(debug_steps)
        nop
        nop
        nop
        mov     $0x1234, %eax
        REPORT32
        DONE
HV_GUEST_PROGRAM_END(debug_steps)
