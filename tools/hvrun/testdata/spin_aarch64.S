// An aarch64 payload that never finishes, for hvrun's --timeout test.
        .text
        .globl  _start
_start:
1:      b       1b
