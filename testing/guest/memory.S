// Guest programs that read and write guest memory: 64-bit code, loaded at
// HV_GUEST_CODE (position independent; see layout.h). Addresses are
// guest-physical, reached through the fixture's identity map.

#include "testing/guest/layout.h"

        .code64

// read_report: reports the 8 bytes at %rdi.
HV_GUEST_PROGRAM_BEGIN(read_report)
        mov     (%rdi), %rbx
        REPORT64 %rbx
        DONE
HV_GUEST_PROGRAM_END(read_report)

// write_check: reports the 8 bytes at %rdi, stores %rsi there, and reports
// the 8 bytes at %rdi again (a read-only region keeps its old value).
HV_GUEST_PROGRAM_BEGIN(write_check)
        mov     (%rdi), %rbx
        REPORT64 %rbx
        mov     %rsi, (%rdi)
        mov     (%rdi), %rbx
        REPORT64 %rbx
        DONE
HV_GUEST_PROGRAM_END(write_check)

// touch_pages: for each page i in [0, %rcx) whose bit i is set in %rsi,
// stores the byte i + 1 at the start of page i of the area at %rdi.
HV_GUEST_PROGRAM_BEGIN(touch_pages)
        xor     %r8d, %r8d              // r8 = page index
1:      bt      %r8, %rsi
        jnc     2f
        lea     1(%r8), %eax
        mov     %al, (%rdi)
2:      add     $0x1000, %rdi
        inc     %r8
        cmp     %rcx, %r8
        jb      1b
        DONE
HV_GUEST_PROGRAM_END(touch_pages)
