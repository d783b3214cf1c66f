// Guest loops for the KVM benchmarks (kvm_run_benchmark.cc): 64-bit code,
// position independent, loaded at kBenchGuestCode by kvm_benchmark_support.
// Each program makes one exit per iteration of an endless loop, so every
// KVM_RUN of the benchmark is exactly one exit round trip. Arguments come in
// registers the host sets: %rax (the value written), %rdi (the MMIO address).
//
// The bytes lie between the hidden symbols hv_bench_guest_<name>_start and
// _end in a read-only data section; the host copies them, never runs them.

#define HV_BENCH_PORT 0xec

#define HV_BENCH_GUEST_BEGIN(name)                \
        .section .rodata.hv_bench_guest, "a";     \
        .globl hv_bench_guest_##name##_start;     \
        .hidden hv_bench_guest_##name##_start;    \
        .globl hv_bench_guest_##name##_end;       \
        .hidden hv_bench_guest_##name##_end;      \
hv_bench_guest_##name##_start:
#define HV_BENCH_GUEST_END(name)                  \
hv_bench_guest_##name##_end:

        .code64

// pio_out_loop: one byte-sized `out` of %al per exit (CPL3, IOPL 3).
HV_BENCH_GUEST_BEGIN(pio_out_loop)
1:      out     %al, $HV_BENCH_PORT
        jmp     1b
HV_BENCH_GUEST_END(pio_out_loop)

// pio_in_loop: one byte-sized `in` per exit; the host answers it.
HV_BENCH_GUEST_BEGIN(pio_in_loop)
1:      in      $HV_BENCH_PORT, %al
        jmp     1b
HV_BENCH_GUEST_END(pio_in_loop)

// mmio_write_loop: stores %al at %rdi (no memory there: an MMIO exit).
HV_BENCH_GUEST_BEGIN(mmio_write_loop)
1:      movb    %al, (%rdi)
        jmp     1b
HV_BENCH_GUEST_END(mmio_write_loop)

// mmio_read_loop: loads one byte from %rdi; the host answers it.
HV_BENCH_GUEST_BEGIN(mmio_read_loop)
1:      movb    (%rdi), %al
        jmp     1b
HV_BENCH_GUEST_END(mmio_read_loop)

// hlt_loop: halts (CPL0: hlt is privileged); with no in-kernel irqchip each
// hlt is a KVM_EXIT_HLT, and the next KVM_RUN resumes after it.
HV_BENCH_GUEST_BEGIN(hlt_loop)
1:      hlt
        jmp     1b
HV_BENCH_GUEST_END(hlt_loop)

        .section .note.GNU-stack, "", @progbits
