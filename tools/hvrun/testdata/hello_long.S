// A flat 64-bit payload for hvrun's tests, entered at 0x10000 in long mode
// on every vCPU with the vCPU's index in rdi: each writes the one character
// '0' + index to COM1 (a single byte, so vCPUs cannot interleave inside it)
// and halts; the run ends when all have halted.
        .code64
        .text
        .globl  _start
_start:
        lea     '0'(%rdi), %eax
        mov     $0x3f8, %dx
        out     %al, %dx
        hlt
