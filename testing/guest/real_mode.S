// A real-mode guest program (.code16), loaded at HV_GUEST_CODE: the fixture
// sets cs = HV_GUEST_CODE >> 4 and ip = 0, ds = es = ss = 0 (Intel SDM
// Vol. 3, Section 20.1.1: linear address = segment * 16 + offset).

#include "testing/guest/layout.h"

        .code16

// real_mode_state: reports the machine status word (CR0 bits 15:0; PE, bit
// 0, is clear in real mode), CS, and the 4 bytes at %bx:%si, reached through
// es = %bx (segment arithmetic), then the 16-bit sum %si + %di, which wraps
// at 64 KiB.
HV_GUEST_PROGRAM_BEGIN(real_mode_state)
        xor     %eax, %eax
        smsw    %ax
        REPORT32
        xor     %eax, %eax
        mov     %cs, %ax
        REPORT32
        mov     %bx, %es
        mov     %es:(%si), %eax
        REPORT32
        xor     %eax, %eax
        mov     %si, %ax
        add     %di, %ax                // 16-bit add: carries out of bit 15
        REPORT32
        DONE
HV_GUEST_PROGRAM_END(real_mode_state)
