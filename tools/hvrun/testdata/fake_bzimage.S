// Not a kernel: a file with a Linux boot-protocol header magic ("HdrS" at
// offset 0x202, as in every bzImage), for hvrun's test that such a file
// given as a flat payload is recognised and refused with a hint.
        .code16
        .text
        .globl  _start
_start:
        hlt
        .org    0x1fe
        .word   0xaa55                      // boot_flag
        .byte   0xeb, 0x66                  // the jump at 0x200
        .ascii  "HdrS"                      // header magic at 0x202
        .word   0x020f                      // boot protocol version
