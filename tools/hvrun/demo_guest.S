// hvrun's built-in demo guest: 32-bit protected mode, flat segments, loaded
// and entered at 0x10000 (hvrun sets the mode up; nothing here touches
// segments or control registers).
//
// It prints a greeting on COM1, scans PCI bus 0 through configuration
// mechanism #1 (ports 0xcf8/0xcfc, PCI Local Bus spec 3.0, 3.2.2.3.2) for a
// virtio device (vendor 0x1af4), walks its capability list for the virtio
// shared-memory capability (virtio 1.2 4.1.4: cap_vndr 0x09, cfg_type 8,
// struct virtio_pci_cap64), reads the BAR it names, prints where the shared
// memory is, prints the NUL-terminated text the host mapped at the start of
// that shared memory, and writes its exit code to the debug-exit port 0xf4
// (0: found it all; 1: no virtio device; 2: no shared-memory capability;
// 3: the BAR is above 4 GiB).
//
// Position independent within its load address: every data reference is
// relative to `base`, computed at entry.

        .section .rodata.hv_demo_guest, "a"
        .code32
        .globl  hv_demo_guest_start
        .globl  hv_demo_guest_end

        .set    COM1, 0x3f8
        .set    DEBUG_EXIT, 0xf4
        .set    PCI_ADDRESS, 0xcf8
        .set    PCI_DATA, 0xcfc
        .set    PCI_ENABLE, 0x80000000
        .set    VIRTIO_VENDOR, 0x1af4
        .set    CAP_VENDOR_SPECIFIC, 0x09
        .set    VIRTIO_PCI_CAP_SHARED_MEMORY_CFG, 8

hv_demo_guest_start:
        call    1f
1:      pop     %ebp
        sub     $(1b - hv_demo_guest_start), %ebp      // ebp = load address

        lea     (msg_hello - hv_demo_guest_start)(%ebp), %esi
        call    puts

        // Scan devices 0..31 of bus 0, function 0.
        xor     %ebx, %ebx                  // ebx = device number
scan:
        mov     %ebx, %eax
        shl     $11, %eax
        or      $PCI_ENABLE, %eax
        mov     %eax, %edi                  // edi = config address of reg 0
        mov     $PCI_ADDRESS, %dx
        out     %eax, %dx
        mov     $PCI_DATA, %dx
        in      %dx, %eax
        cmp     $VIRTIO_VENDOR, %ax
        je      found
        inc     %ebx
        cmp     $32, %ebx
        jb      scan
        lea     (msg_no_device - hv_demo_guest_start)(%ebp), %esi
        call    puts
        mov     $1, %eax
        jmp     finish

found:
        push    %eax                        // vendor | device id << 16
        lea     (msg_device - hv_demo_guest_start)(%ebp), %esi
        call    puts
        pop     %eax
        shr     $16, %eax                   // device id
        call    put_hex16
        lea     (msg_slot - hv_demo_guest_start)(%ebp), %esi
        call    puts
        mov     %ebx, %eax
        call    put_hex16
        lea     (msg_newline - hv_demo_guest_start)(%ebp), %esi
        call    puts

        // Capability pointer: config offset 0x34, low byte.
        mov     $0x34, %eax
        call    config_read
        and     $0xfc, %eax
walk:
        test    %eax, %eax
        jz      no_cap
        mov     %eax, %ecx                  // ecx = this capability's offset
        call    config_read                 // vndr | next << 8 | len << 16 | type << 24
        cmp     $CAP_VENDOR_SPECIFIC, %al
        jne     next_cap
        mov     %eax, %edx
        shr     $24, %edx
        cmp     $VIRTIO_PCI_CAP_SHARED_MEMORY_CFG, %dl
        je      shm_cap
next_cap:
        shr     $8, %eax
        and     $0xfc, %eax
        jmp     walk
no_cap:
        lea     (msg_no_cap - hv_demo_guest_start)(%ebp), %esi
        call    puts
        mov     $2, %eax
        jmp     finish

shm_cap:
        // virtio_pci_cap64: bar at +4, offset at +8, length at +12,
        // offset_hi at +16, length_hi at +20.
        lea     4(%ecx), %eax
        call    config_read
        and     $0xff, %eax
        mov     %eax, %esi                  // esi = BAR index
        lea     8(%ecx), %eax
        call    config_read
        mov     %eax, shm_offset - hv_demo_guest_start(%ebp)
        lea     12(%ecx), %eax
        call    config_read
        mov     %eax, shm_length - hv_demo_guest_start(%ebp)

        // The BAR pair: low dword at 0x10 + 4 * index, high dword after it.
        lea     0x14(,%esi,4), %eax
        call    config_read
        test    %eax, %eax
        jnz     bar_too_high
        lea     0x10(,%esi,4), %eax
        call    config_read
        and     $0xfffffff0, %eax           // drop the BAR's type bits
        add     shm_offset - hv_demo_guest_start(%ebp), %eax
        mov     %eax, %edi                  // edi = shared memory address

        lea     (msg_bar - hv_demo_guest_start)(%ebp), %esi
        call    puts
        mov     %edi, %eax
        call    put_hex32
        lea     (msg_length - hv_demo_guest_start)(%ebp), %esi
        call    puts
        mov     shm_length - hv_demo_guest_start(%ebp), %eax
        call    put_hex32
        lea     (msg_newline - hv_demo_guest_start)(%ebp), %esi
        call    puts

        lea     (msg_blob - hv_demo_guest_start)(%ebp), %esi
        call    puts
        mov     %edi, %esi                  // the host's text, in the BAR
        call    puts
        lea     (msg_newline - hv_demo_guest_start)(%ebp), %esi
        call    puts
        xor     %eax, %eax
        jmp     finish

bar_too_high:
        lea     (msg_high - hv_demo_guest_start)(%ebp), %esi
        call    puts
        mov     $3, %eax

finish:
        mov     $DEBUG_EXIT, %dx
        out     %al, %dx
        hlt
        jmp     finish

// config_read: eax = register offset in the device at edi; returns the
// dword there in eax. Clobbers edx.
config_read:
        and     $0xfc, %eax
        or      %edi, %eax
        mov     $PCI_ADDRESS, %dx
        out     %eax, %dx
        mov     $PCI_DATA, %dx
        in      %dx, %eax
        ret

// puts: writes the NUL-terminated string at esi to COM1. Clobbers eax, edx,
// esi.
puts:
        mov     $COM1, %dx
1:      lodsb
        test    %al, %al
        jz      2f
        out     %al, %dx
        jmp     1b
2:      ret

// put_hex32 / put_hex16: write eax as "0x" and 8 / 4 hex digits. Clobber
// eax, ecx, edx.
put_hex16:
        shl     $16, %eax
        mov     $4, %ecx
        jmp     put_hex
put_hex32:
        mov     $8, %ecx
put_hex:
        push    %eax
        mov     $COM1, %dx
        mov     $'0', %al
        out     %al, %dx
        mov     $'x', %al
        out     %al, %dx
        pop     %eax
1:      rol     $4, %eax
        push    %eax
        and     $0xf, %al
        add     $'0', %al
        cmp     $'9', %al
        jbe     2f
        add     $('a' - '9' - 1), %al
2:      out     %al, %dx
        pop     %eax
        loop    1b
        ret

msg_hello:      .asciz "hv demo: guest running in 32-bit protected mode\n"
msg_high:       .asciz "hv demo: the shared-memory BAR is above 4 GiB\n"
#include "tools/hvrun/demo_guest_messages.inc"
        .balign 4
shm_offset:     .long 0
shm_length:     .long 0
hv_demo_guest_end:

// Code for the guest, not the host: the note keeps hvrun's own stacks
// non-executable (without it the linker marks them executable).
        .section .note.GNU-stack, "", %progbits
