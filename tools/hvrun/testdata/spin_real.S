// A real-mode payload that never finishes, for hvrun's --timeout test.
        .code16
        .text
        .globl  _start
_start:
1:      jmp     1b
