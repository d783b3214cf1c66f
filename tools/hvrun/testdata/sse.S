// A flat payload for hvrun's guest-state tests, entered at 0x10000 in long
// mode (sse_long, assembled with -m64) or protected mode (sse_protected,
// -m32): copies a 16-byte vector through %xmm0 with movdqu (which raises
// #UD, and so triple-faults, unless CR0.EM = 0 and CR4.OSFXSR = 1), passes
// the result through its stack and exits through port 0xf4 with the
// vector's first element, 42. movdqu is one of the SSE moves KVM's
// instruction emulator knows, so this also runs where guest kernel code is
// emulated (kvm_pvm).
#if defined(__x86_64__)
        .code64
#define ADDRESS_OF(symbol, reg) lea symbol(%rip), reg
#define SI %rsi
#define DI %rdi
#define AX %rax
#else
        .code32
#define ADDRESS_OF(symbol, reg) mov $symbol, reg
#define SI %esi
#define DI %edi
#define AX %eax
#endif
        .text
        .globl  _start
_start:
        ADDRESS_OF(vector, SI)
        movdqu  (SI), %xmm0
        ADDRESS_OF(copy, DI)
        movdqu  %xmm0, (DI)
        mov     (DI), %eax
        push    AX
        pop     AX
        mov     $0xf4, %dx
        out     %eax, %dx
        hlt
vector: .long   42, 1, 2, 3
copy:   .long   0, 0, 0, 0
