// A flat real-mode payload for hvrun's tests: prints a line on COM1 and
// ends the run with exit code 7 through the debug-exit port. Loaded and
// entered at 0x10000 (cs = 0x1000, ip = 0), so offsets are from 0.
        .code16
        .text
        .globl  _start
_start:
        mov     %cs, %ax
        mov     %ax, %ds
        mov     $msg, %si
        mov     $0x3f8, %dx
1:      lodsb
        test    %al, %al
        jz      2f
        out     %al, %dx
        jmp     1b
2:      mov     $7, %al
        mov     $0xf4, %dx
        out     %al, %dx
        hlt
msg:    .asciz  "hello from a real-mode payload\n"
