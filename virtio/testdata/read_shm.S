// A real-mode guest that reads 4 bytes of a virtio shared-memory BAR and
// reports them, for shared_memory_kvm_test.cc.
//
// The host sets ds.base to the BAR's guest-physical address (below 4 GiB)
// and bx to the offset to read; the guest loads the dword at ds:bx, writes
// it to port 0x10 and halts. The bytes between the start and end symbols
// are copied into guest RAM by the test.
        .code16
        .section .rodata.hv_virtio_read_shm, "a"
        .globl hv_virtio_read_shm_start
        .globl hv_virtio_read_shm_end
hv_virtio_read_shm_start:
        movl    (%bx), %eax
        movw    $0x10, %dx
        outl    %eax, %dx
        hlt
hv_virtio_read_shm_end:

        .section .note.GNU-stack, "", @progbits
