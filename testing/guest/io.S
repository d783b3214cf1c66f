// Guest programs for port I/O, MMIO and ioeventfds: 64-bit code, loaded at
// HV_GUEST_CODE by the fixture (position independent; see layout.h).
// Arguments come in registers the host sets: %rax (a value), %rdi and %rsi
// (guest-physical addresses), %rcx (a count).

#include "testing/guest/layout.h"

        .code64

// pio_out: writes %rax to HV_GUEST_DATA_PORT as 1, 2 and 4 bytes.
HV_GUEST_PROGRAM_BEGIN(pio_out)
        out     %al, $HV_GUEST_DATA_PORT
        out     %ax, $HV_GUEST_DATA_PORT
        out     %eax, $HV_GUEST_DATA_PORT
        DONE
HV_GUEST_PROGRAM_END(pio_out)

// pio_in_echo: reads HV_GUEST_DATA_PORT as 1, 2 and 4 bytes and reports
// each value read (zero-extended) as it arrives.
HV_GUEST_PROGRAM_BEGIN(pio_in_echo)
        xor     %eax, %eax
        in      $HV_GUEST_DATA_PORT, %al
        REPORT32
        xor     %eax, %eax
        in      $HV_GUEST_DATA_PORT, %ax
        REPORT32
        in      $HV_GUEST_DATA_PORT, %eax
        REPORT32
        DONE
HV_GUEST_PROGRAM_END(pio_in_echo)

// mmio_write: stores %rax at guest-physical %rdi (identity mapped) as 1, 2,
// 4 and 8 bytes.
HV_GUEST_PROGRAM_BEGIN(mmio_write)
        mov     %al, (%rdi)
        mov     %ax, (%rdi)
        mov     %eax, (%rdi)
        mov     %rax, (%rdi)
        DONE
HV_GUEST_PROGRAM_END(mmio_write)

// mmio_echo: loads 1, 2, 4 and 8 bytes from %rsi and stores each value,
// with the same size, to %rdi.
HV_GUEST_PROGRAM_BEGIN(mmio_echo)
        mov     (%rsi), %al
        mov     %al, (%rdi)
        mov     (%rsi), %ax
        mov     %ax, (%rdi)
        mov     (%rsi), %eax
        mov     %eax, (%rdi)
        mov     (%rsi), %rax
        mov     %rax, (%rdi)
        DONE
HV_GUEST_PROGRAM_END(mmio_echo)

// pio_write_loop: writes %al to HV_GUEST_DATA_PORT %rcx times (%rcx > 0).
HV_GUEST_PROGRAM_BEGIN(pio_write_loop)
1:      out     %al, $HV_GUEST_DATA_PORT
        dec     %rcx
        jnz     1b
        DONE
HV_GUEST_PROGRAM_END(pio_write_loop)
