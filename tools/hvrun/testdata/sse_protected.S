// A flat 32-bit payload for hvrun's guest-state tests, entered at 0x10000
// in protected mode: copies a 16-byte vector through %xmm0 with movdqu (which
// raises #UD, and so triple-faults, unless CR0.EM = 0 and CR4.OSFXSR = 1),
// passes the result through its stack and exits through port 0xf4 with the
// vector's first element, 42. movdqu is one of the SSE moves KVM's
// instruction emulator knows, so this also runs where guest kernel code is
// emulated (kvm_pvm).
        .code32
        .text
        .globl  _start
_start:
        mov     $vector, %esi
        movdqu  (%esi), %xmm0
        mov     $copy, %edi
        movdqu  %xmm0, (%edi)
        mov     (%edi), %eax
        push    %eax
        pop     %eax
        mov     $0xf4, %dx
        out     %eax, %dx
        hlt
vector: .long   42, 1, 2, 3
copy:   .long   0, 0, 0, 0
