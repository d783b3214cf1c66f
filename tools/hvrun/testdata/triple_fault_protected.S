// A flat 32-bit payload for hvrun's guest-fault tests, entered at 0x10000
// in protected mode: marks eax and ebx so the report's registers can be
// recognised, then executes an undefined instruction. hvrun installs no
// IDT, so the #UD cannot be delivered and the vCPU triple-faults.
        .code32
        .text
        .globl  _start
_start:
        mov     $0x7a11fa11, %eax
        mov     $0x0b0b0b0b, %ebx
        ud2
1:      jmp     1b
