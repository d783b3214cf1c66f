// A real-mode payload that prints one line on COM1 and then loops forever,
// for hvrun's SIGTERM test: the test sends the signal once the line has
// arrived, and hvrun must flush it, print --stats and exit 128 + 15.
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
2:      jmp     2b
msg:    .asciz  "spinning until a signal\n"
