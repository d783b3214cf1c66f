// A flat 64-bit payload for hvrun's tests, entered at 0x10000 in long mode
// on every vCPU with the vCPU's index in rdi: each prints "vcpu N\n" (N is
// one digit) and halts, so the run ends when all have halted.
        .code64
        .text
        .globl  _start
_start:
        lea     msg(%rip), %rsi
        mov     $0x3f8, %dx
        mov     $7, %ecx            // "vcpu N\n" is 7 bytes
        lea     '0'(%rdi), %eax
        // Build the line on the stack: the payload's own bytes are shared
        // by all vCPUs, so they must not be written.
        sub     $16, %rsp
        mov     (%rsi), %r8
        mov     %r8, (%rsp)
        mov     %al, 5(%rsp)
        mov     %rsp, %rsi
        rep outsb
        hlt
msg:    .ascii  "vcpu ?\n"
