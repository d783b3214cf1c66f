// A flat 32-bit payload for hvrun's guest-fault tests, entered at 0x10000
// in protected mode: jumps to 0xd0000000, where hvrun has neither RAM nor a
// device. The hypervisor cannot fetch an instruction from there and reports
// an emulation failure (KVM: KVM_EXIT_INTERNAL_ERROR, suberror 1).
        .code32
        .text
        .globl  _start
_start:
        mov     $0xd0000000, %eax
        jmp     *%eax
