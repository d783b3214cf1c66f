// The guest-physical layout shared by the aarch64 guest image
// (testing/aarch64/guest_image.S) and the host side
// (testing/aarch64/guest_fixture.h), plus the assembler macros the image's
// routines use to talk to the host.
//
// Plain #defines, so that both the C++ compiler and the GNU assembler
// (through the C preprocessor, for `.S` files) read them.
//
// The guest runs at EL1 with the MMU off: every data access is Device-nGnRnE
// and goes straight to guest-physical memory, so an address with no memory
// behind it is an MMIO exit. Routines talk to the host by 64-bit stores to
// the MMIO addresses below and take every argument in registers.
//
// Example (in a .S file):
//   HV_A64_ROUTINE(report_mpidr)
//     mrs     x0, mpidr_el1
//     REPORT  x0
//     DONE
#ifndef HV_TESTING_AARCH64_GUEST_LAYOUT_H_
#define HV_TESTING_AARCH64_GUEST_LAYOUT_H_

// Guest RAM: 2 MiB at 1 GiB (where QEMU's `virt` machine puts RAM).
#define HV_A64_RAM_BASE 0x40000000
#define HV_A64_RAM_SIZE 0x200000
// The guest image is loaded here (2 KiB aligned: its vector table is first).
#define HV_A64_CODE (HV_A64_RAM_BASE + 0x10000)
#define HV_A64_CODE_MAX 0x10000
// Scratch RAM the routines and the host share (flags of the 2-vCPU test).
#define HV_A64_SCRATCH (HV_A64_RAM_BASE + 0x100000)
// The page VmAArch64::InitArch is told holds the devicetree (the guest
// image reads none; it only has to lie in RAM).
#define HV_A64_DTB (HV_A64_RAM_BASE + 0x1f0000)
#define HV_A64_DTB_SIZE 0x1000

// A second region tests add at this address (read-only, dirty log, arena,
// removal).
#define HV_A64_EXTRA_BASE 0x50000000

// The in-kernel GICv3: distributor (64 KiB) and redistributors (128 KiB per
// vCPU).
#define HV_A64_GICD_BASE 0x08000000
#define HV_A64_GICR_BASE 0x080a0000
// A GICv3 ITS (two 64 KiB frames, as on QEMU's virt board) and its MSI
// doorbell, GITS_TRANSLATER.
#define HV_A64_GITS_BASE 0x08080000
#define HV_A64_GITS_TRANSLATER (HV_A64_GITS_BASE + 0x10040)

// The ITS tables of the its_lpi routine, in RAM: the device and collection
// tables (one 64 KiB page each: KVM's ITS pages are 64 KiB), the LPI
// pending table (64 KiB aligned), the command queue (4 KiB), the device's
// interrupt translation table and the LPI configuration table (8 KiB:
// LPIs 8192-16383).
#define HV_A64_ITS_TABLES (HV_A64_RAM_BASE + 0x120000)
#define HV_A64_ITS_DEVICE_TABLE (HV_A64_ITS_TABLES + 0x00000)
#define HV_A64_ITS_COLLECTION_TABLE (HV_A64_ITS_TABLES + 0x10000)
#define HV_A64_LPI_PENDING_TABLE (HV_A64_ITS_TABLES + 0x20000)
#define HV_A64_ITS_COMMAND_QUEUE (HV_A64_ITS_TABLES + 0x30000)
#define HV_A64_ITS_ITT (HV_A64_ITS_TABLES + 0x31000)
#define HV_A64_LPI_CONFIG_TABLE (HV_A64_ITS_TABLES + 0x32000)

// MMIO addresses with nothing behind them (QEMU virt's UART area).
#define HV_A64_MMIO_BASE 0x09000000
#define HV_A64_REPORT (HV_A64_MMIO_BASE + 0x00)     // a value for the host
#define HV_A64_DONE (HV_A64_MMIO_BASE + 0x08)       // the routine finished
#define HV_A64_EXCEPTION (HV_A64_MMIO_BASE + 0x10)  // ESR_EL1 of a fault
#define HV_A64_EXCEPTION_ELR (HV_A64_MMIO_BASE + 0x18)
#define HV_A64_SIGNAL (HV_A64_MMIO_BASE + 0x20)     // "ready": host may act
#define HV_A64_DATA (HV_A64_MMIO_BASE + 0x28)       // a test's own MMIO

// PSCI 0.2 function ids (SMC32 calling convention, Arm DEN0022).
#define HV_A64_PSCI_SYSTEM_OFF 0x84000008
#define HV_A64_PSCI_SYSTEM_RESET 0x84000009

// The reset PSTATE a routine starts with: EL1h, D, A, I and F masked.
#define HV_A64_PSTATE_EL1H_MASKED 0x3c5

#ifdef __ASSEMBLER__
// clang-format off

// HV_A64_ROUTINE(name): an entry point of the image, as the hidden symbol
// hv_a64_<name>; the host starts a vCPU at HV_A64_CODE plus its offset
// from hv_a64_image_start (guest_image.h). Every routine first points
// VBAR_EL1 at the image's vector table and enables FP/SIMD at EL1.
#define HV_A64_ROUTINE(name)                  \
        .globl hv_a64_##name;                 \
        .hidden hv_a64_##name;                \
        .balign 4;                            \
hv_a64_##name:                                \
        PROLOGUE

// Loads a 64-bit constant (position independent: a literal pool entry).
.macro LOAD_CONST reg, value
        ldr     \reg, =\value
.endm

.macro PROLOGUE
        adr     x9, hv_a64_vectors
        msr     vbar_el1, x9
        mov     x9, #(3 << 20)          // CPACR_EL1.FPEN: no FP/SIMD traps
        msr     cpacr_el1, x9
        isb
.endm

// REPORT reg: hands a 64-bit register to the host (one MMIO store);
// clobbers x9.
.macro REPORT reg
        LOAD_CONST x9, HV_A64_REPORT
        str     \reg, [x9]
.endm

// SIGNAL: tells the host the routine is ready for it; clobbers x9.
.macro SIGNAL
        LOAD_CONST x9, HV_A64_SIGNAL
        str     xzr, [x9]
.endm

// DONE: tells the host the routine finished, then spins (the host stops at
// the MMIO exit).
.macro DONE
        LOAD_CONST x9, HV_A64_DONE
        str     xzr, [x9]
1:      b       1b
.endm

// clang-format on
#endif  // __ASSEMBLER__

#endif  // HV_TESTING_AARCH64_GUEST_LAYOUT_H_
