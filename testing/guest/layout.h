// The guest-physical layout and port numbers shared by the guest programs
// (testing/guest/*.S) and the host side (testing/guest_fixture.h), plus the
// assembler macros the programs use to talk to the host.
//
// Everything here is a plain #define so that both the C++ compiler and the
// GNU assembler (through the C preprocessor, for `.S` files) read it.
//
// Guest RAM is [0, HV_GUEST_RAM_SIZE). Programs are position independent:
// they use only relative jumps, calls and rip-relative (or cs-relative, in
// real mode) references, and take every address and value they work on from
// registers the host sets before the run. The fixture loads them at
// HV_GUEST_CODE.
//
// Example (in a .S file; its bytes lie between hv_guest_tsc_low_start and
// hv_guest_tsc_low_end):
//   HV_GUEST_PROGRAM_BEGIN(tsc_low)
//     rdtsc
//     REPORT32
//     DONE
//   HV_GUEST_PROGRAM_END(tsc_low)
#ifndef HV_TESTING_GUEST_LAYOUT_H_
#define HV_TESTING_GUEST_LAYOUT_H_

// Guest-physical memory.
#define HV_GUEST_RAM_SIZE 0x200000     // 2 MiB of RAM at guest-physical 0
#define HV_GUEST_TABLES 0x1000         // GDT, TSS, page tables: 6 pages
#define HV_GUEST_IDT 0x8000            // programs that take interrupts
#define HV_GUEST_CODE 0x10000          // where programs are loaded
#define HV_GUEST_CODE_MAX 0x8000       // largest program
#define HV_GUEST_REAL_STACK_TOP 0xf000 // real mode (ss = 0)
#define HV_GUEST_STACK_TOP 0x80000     // protected and long mode
// Guest-physical addresses with nothing mapped by the fixture: MMIO tests.
#define HV_GUEST_MMIO_BASE 0xd0000000

// Ports (0xe0-0xef: unused on a PC, not claimed by any in-kernel device).
#define HV_GUEST_REPORT_PORT 0xe0       // a value for the host (low 32 bits)
#define HV_GUEST_REPORT_HIGH_PORT 0xe4  // bits 63:32 of the last report
#define HV_GUEST_DONE_PORT 0xe8         // the program has finished
#define HV_GUEST_DATA_PORT 0xec         // the port a test reads or writes
#define HV_GUEST_SIGNAL_PORT 0xee       // "ready": the host may act now

// The 8259A PIC (in-kernel irqchip tests): command/data ports and the first
// vector the programs map IRQ 0 to.
#define HV_GUEST_PIC_MASTER_CMD 0x20
#define HV_GUEST_PIC_MASTER_DATA 0x21
#define HV_GUEST_PIC_VECTOR_BASE 0x20

#ifdef __ASSEMBLER__
// clang-format off

// HV_GUEST_PROGRAM_BEGIN(name) / HV_GUEST_PROGRAM_END(name): the program's
// bytes lie between hidden symbols hv_guest_<name>_start and _end, in a
// read-only data section of the test binary (they are copied, never run in
// the host). Hidden: only testing/guest_programs.cc, in the same library,
// refers to them.
#define HV_GUEST_PROGRAM_BEGIN(name)          \
        .section .rodata.hv_guest, "a";       \
        .globl hv_guest_##name##_start;       \
        .hidden hv_guest_##name##_start;      \
        .globl hv_guest_##name##_end;         \
        .hidden hv_guest_##name##_end;        \
hv_guest_##name##_start:
#define HV_GUEST_PROGRAM_END(name)            \
hv_guest_##name##_end:                        \
        .section .note.GNU-stack, "", @progbits

// REPORT32: hands %eax to the host (one PIO write of 4 bytes).
.macro REPORT32
        out     %eax, $HV_GUEST_REPORT_PORT
.endm

// REPORT64 reg: hands a 64-bit register to the host as two PIO writes (low
// half, then high half); clobbers %rax.
.macro REPORT64 reg
        mov     \reg, %rax
        out     %eax, $HV_GUEST_REPORT_PORT
        shr     $32, %rax
        out     %eax, $HV_GUEST_REPORT_HIGH_PORT
.endm

// GATE vector, handler: writes a 64-bit interrupt gate (Intel SDM Vol. 3,
// Section 6.14.1, Figure 6-8: offset 15:0, selector, IST, type 0xE with
// P=1 and DPL=0, offset 31:16, offset 63:32) for `vector` (an immediate
// such as $2, or a register) at HV_GUEST_IDT pointing at `handler`.
// Clobbers rax, rcx, rdx.
.macro GATE vector, handler
        mov     \vector, %rcx
        shl     $4, %rcx
        add     $HV_GUEST_IDT, %rcx
        lea     \handler(%rip), %rax
        mov     %ax, (%rcx)
        mov     %cs, %dx
        mov     %dx, 2(%rcx)
        movw    $0x8e00, 4(%rcx)
        shr     $16, %rax
        mov     %ax, 6(%rcx)
        shr     $16, %rax
        mov     %eax, 8(%rcx)
        movl    $0, 12(%rcx)
.endm

// LOAD_IDT: loads the IDT at HV_GUEST_IDT (256 gates) through the 10-byte
// limit:base pseudo-descriptor lidt takes, built on the stack.
.macro LOAD_IDT
        sub     $16, %rsp
        movw    $(256 * 16 - 1), (%rsp)
        movq    $HV_GUEST_IDT, 2(%rsp)
        lidt    (%rsp)
        add     $16, %rsp
.endm

// DONE: tells the host the program finished, then halts (at CPL3 the host
// stops at the PIO exit and never lets the guest reach the hlt).
.macro DONE
        out     %al, $HV_GUEST_DONE_PORT
        hlt
.endm

// clang-format on
#endif  // __ASSEMBLER__

#endif  // HV_TESTING_GUEST_LAYOUT_H_
