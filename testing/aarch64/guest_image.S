// The aarch64 guest image: one position-independent blob, loaded at
// HV_A64_CODE, with a vector table first and the routines the tests start
// vCPUs at (guest_image.h lists them with their arguments). Runs at EL1h
// with the MMU off; talks to the host through the MMIO stores of
// guest_layout.h.

#include "testing/aarch64/guest_layout.h"

// GIC CPU interface registers by their encodings (GICv3, Arm IHI 0069).
#define ICC_PMR_EL1 S3_0_C4_C6_0
#define ICC_IAR1_EL1 S3_0_C12_C12_0
#define ICC_EOIR1_EL1 S3_0_C12_C12_1
#define ICC_SRE_EL1 S3_0_C12_C12_5
#define ICC_IGRPEN1_EL1 S3_0_C12_C12_7

// GIC_CPU_INTERFACE_ON: the CPU interface's system registers enabled
// (ICC_SRE_EL1.SRE), every priority let through (ICC_PMR_EL1 = 0xff) and
// group 1 interrupts on (ICC_IGRPEN1_EL1). Clobbers x4.
.macro GIC_CPU_INTERFACE_ON
        mrs     x4, ICC_SRE_EL1
        orr     x4, x4, #1
        msr     ICC_SRE_EL1, x4
        isb
        mov     x4, #0xff
        msr     ICC_PMR_EL1, x4
        mov     x4, #1
        msr     ICC_IGRPEN1_EL1, x4
        isb
.endm

// GIC_DISTRIBUTOR_ON: GICD_CTLR (x3 the GICD base) = ARE, EnableGrp1,
// EnableGrp0. A vCPU turns it on before its timer's first tick: on KVM,
// a tick that came while the distributor was still off was seen never to
// be taken (snapshot_pair's vCPU 0, before it did). Clobbers x4.
.macro GIC_DISTRIBUTOR_ON
        mov     w4, #0x13
        str     w4, [x3]
.endm

// GIC_SPI_ON_TO affinity: the distributor on (GICD_CTLR: ARE, EnableGrp1,
// EnableGrp0) and SPI x1 (group 1, priority 0xa0, routed to the PE whose
// affinity fields are in register `affinity` as GICD_IROUTER<n> holds them
// -- Aff3 in bits 39:32, Aff2-Aff0 in bits 23:0, IRM (bit 31) 0; Arm IHI
// 0069, GICD_IROUTER<n> -- edge-triggered when x2 is not 0, else level)
// enabled; x3 is the GICD base. Clobbers x4-x8 and x10-x13 (so `affinity`
// must be none of them).
.macro GIC_SPI_ON_TO affinity
        GIC_DISTRIBUTOR_ON
        // x5 = 4 * (INTID / 32), x7 = 1 << (INTID % 32).
        lsr     x5, x1, #5
        lsl     x5, x5, #2
        and     x6, x1, #31
        mov     x7, #1
        lsl     x7, x7, x6
        // GICD_IGROUPR<n>: group 1.
        add     x8, x3, #0x80
        add     x8, x8, x5
        ldr     w10, [x8]
        orr     w10, w10, w7
        str     w10, [x8]
        // GICD_ICFGR<n>: bit 2 * (INTID % 16) + 1 set = edge-triggered.
        lsr     x11, x1, #4
        lsl     x11, x11, #2
        and     x12, x1, #15
        lsl     x12, x12, #1
        add     x12, x12, #1
        mov     x13, #1
        lsl     x13, x13, x12
        add     x8, x3, #0xc00
        add     x8, x8, x11
        ldr     w10, [x8]
        bic     w10, w10, w13
        cbz     x2, 3f
        orr     w10, w10, w13
3:      str     w10, [x8]
        // GICD_IPRIORITYR: one byte per INTID.
        add     x8, x3, #0x400
        add     x8, x8, x1
        mov     w10, #0xa0
        strb    w10, [x8]
        // GICD_IROUTER<n> (64-bit).
        mov     x8, #0x6000
        add     x8, x3, x8
        add     x8, x8, x1, lsl #3
        str     \affinity, [x8]
        // GICD_ISENABLER<n>: enable (write-1-to-set).
        add     x8, x3, #0x100
        add     x8, x8, x5
        str     w7, [x8]
        dsb     sy
.endm

// GIC_SPI_ON: GIC_SPI_ON_TO affinity 0.0.0.0 (vCPU 0).
.macro GIC_SPI_ON
        GIC_SPI_ON_TO xzr
.endm

// TIMER_PPI_ON: the EL1 virtual timer's PPI (INTID 27: Arm Base System
// Architecture, DEN0094, PPI assignments) on vCPU 0's redistributor, in its
// SGI frame (RD_base + 0x10000; IHI 0069, Section 12.10): GICR_IGROUPR0
// group 1, priority 0xa0, GICR_ISENABLER0. Clobbers x4, x8 and x10.
.macro TIMER_PPI_ON
        LOAD_CONST x8, (HV_A64_GICR_BASE + 0x10000)
        mov     w4, #(1 << 27)
        ldr     w10, [x8, #0x80]
        orr     w10, w10, w4
        str     w10, [x8, #0x80]
        mov     w10, #0xa0
        strb    w10, [x8, #(0x400 + 27)]
        str     w4, [x8, #0x100]
        dsb     sy
.endm

// COUNT_VECTORS_ON: count_irq_handler's vector table in VBAR_EL1, its
// counters (x24 ticks, x25 other INTIDs, x30 largest counter step) at 0.
// Clobbers x9.
.macro COUNT_VECTORS_ON
        adr     x9, hv_a64_count_vectors
        msr     vbar_el1, x9
        mov     x24, #0
        mov     x25, #0
        mov     x30, #0
.endm

// VIRTUAL_TIMER_START: the EL1 virtual timer ticking every millisecond as
// count_irq_handler re-arms it: x23 = CNTFRQ_EL0 / 1000 (its TVAL), x29 =
// CNTVCT_EL0 now, CNTV_TVAL_EL0 = x23 and CNTV_CTL_EL0.ENABLE with IMASK 0
// (Arm ARM, CNTV_CTL_EL0). Clobbers x4.
.macro VIRTUAL_TIMER_START
        mrs     x23, cntfrq_el0
        mov     x4, #1000
        udiv    x23, x23, x4
        isb
        mrs     x29, cntvct_el0
        msr     cntv_tval_el0, x23
        mov     x4, #1                  // CNTV_CTL_EL0.ENABLE, IMASK 0
        msr     cntv_ctl_el0, x4
        isb
.endm

// LCG_ROUND: round x0 of an LCG over the 512 words at x19 (x4 the
// multiplier): word x0 % 512 = (word * x4 + x0) ^ its >> 29; then x0 + 1.
// Clobbers x2 and x3.
.macro LCG_ROUND
        and     x2, x0, #511
        ldr     x3, [x19, x2, lsl #3]
        madd    x3, x3, x4, x0
        eor     x3, x3, x3, lsr #29
        str     x3, [x19, x2, lsl #3]
        add     x0, x0, #1
.endm

// TABLE_CHECKSUM: x3 = the 512 words at x19, each rotated in (ror 7) and
// XORed. Clobbers x0 and x2.
.macro TABLE_CHECKSUM
        mov     x0, #0
        mov     x3, #0
5:      ldr     x2, [x19, x0, lsl #3]
        ror     x3, x3, #7
        eor     x3, x3, x2
        add     x0, x0, #1
        cmp     x0, #512
        b.ne    5b
.endm

// WFI_WINDOW: waits for an interrupt with IRQs masked (WFI still wakes on a
// pending one), then opens them for one instruction to take it: between
// a routine's check and the WFI no IRQ can slip in and leave the WFI
// waiting forever.
.macro WFI_WINDOW
        wfi
        msr     daifclr, #2
        isb
        msr     daifset, #2
.endm

        .section .rodata.hv_a64_image, "a"
        .balign 2048
        .globl hv_a64_image_start
        .hidden hv_a64_image_start
hv_a64_image_start:

// A vector table (VBAR_EL1): 16 entries of 0x80 bytes, 2 KiB aligned.
// Routines run at EL1h, so only "current EL with SP_ELx" IRQs (0x280) are
// expected, taken to `irq`; every other entry reports an unexpected
// exception.
.macro VECTOR_TABLE name, irq
        .balign 2048
        .globl \name
        .hidden \name
\name:
        .rept 5
        b       unexpected_exception
        .balign 0x80
        .endr
        b       \irq                   // 0x280: IRQ, current EL, SP_ELx
        .balign 0x80
        .rept 10
        b       unexpected_exception
        .balign 0x80
        .endr
.endm

// The table every routine starts with.
        VECTOR_TABLE hv_a64_vectors, irq_handler
// snapshot_worker's, which counts interrupts without exits.
        VECTOR_TABLE hv_a64_count_vectors, count_irq_handler

// Hands ESR_EL1 and ELR_EL1 to the host, which ends the run there.
unexpected_exception:
        mrs     x0, esr_el1
        LOAD_CONST x9, HV_A64_EXCEPTION
        str     x0, [x9]
        mrs     x0, elr_el1
        LOAD_CONST x9, HV_A64_EXCEPTION_ELR
        str     x0, [x9]
1:      b       1b

// IRQ: acknowledge (ICC_IAR1_EL1) and report the INTID, end it
// (ICC_EOIR1_EL1), then report what a second acknowledge sees (1023 when
// nothing else is pending), and set x21 for the routine that waits.
irq_handler:
        mrs     x0, ICC_IAR1_EL1
        REPORT  x0
        msr     ICC_EOIR1_EL1, x0
        isb
        mrs     x1, ICC_IAR1_EL1
        REPORT  x1
        mov     x21, #1
        eret

// snapshot_worker's IRQ: acknowledge; for the virtual timer (INTID 27)
// count it in x24, keep in x30 the largest CNTVCT_EL0 step between two
// ticks (x29 the last tick's count) and re-arm it x23 ticks on, or stop it
// once x24 reaches x28; count any other INTID in x25 (the SPI). Then end
// it. Touches no register but x24-x27, x29, x30: the routine's loop runs
// on undisturbed.
count_irq_handler:
        mrs     x26, ICC_IAR1_EL1
        cmp     x26, #1020              // 1020-1023: special, nothing to end
        b.hs    3f
        cmp     x26, #27
        b.ne    1f
        add     x24, x24, #1
        mrs     x27, cntvct_el0
        sub     x29, x27, x29
        cmp     x29, x30
        csel    x30, x29, x30, hi
        mov     x29, x27
        cmp     x24, x28
        b.hs    2f
        msr     cntv_tval_el0, x23
        b       4f
2:      msr     cntv_ctl_el0, xzr
        b       4f
1:      add     x25, x25, #1
4:      msr     ICC_EOIR1_EL1, x26
        isb
3:      eret

// mmio_round_trip(x0 value, x1 address): stores x0 at x1, loads x1, and
// stores what it read plus 1 back at x1.
HV_A64_ROUTINE(mmio_round_trip)
        str     x0, [x1]
        ldr     x2, [x1]
        add     x2, x2, #1
        str     x2, [x1]
        DONE

// psci_call(x0 function id): calls PSCI through HVC; if the call returns,
// reports its result.
HV_A64_ROUTINE(psci_call)
        hvc     #0
        REPORT  x0
        DONE

// store_load(x1 address, x2 value): stores x2 at x1, then loads x1 and
// reports what it read.
HV_A64_ROUTINE(store_load)
        str     x2, [x1]
        ldr     x3, [x1]
        REPORT  x3
        DONE

// load_report(x1 address): loads 8 bytes at x1 and reports them.
HV_A64_ROUTINE(load_report)
        ldr     x3, [x1]
        REPORT  x3
        DONE

// touch_pages(x1 base, x2 mask): for each set bit i of x2, stores i + 1 at
// x1 + i * 4096.
HV_A64_ROUTINE(touch_pages)
        mov     x3, #0
1:      lsr     x4, x2, x3
        tbz     x4, #0, 2f
        add     x5, x1, x3, lsl #12
        add     x6, x3, #1
        str     x6, [x5]
2:      add     x3, x3, #1
        cmp     x3, #64
        b.ne    1b
        DONE

// gic_spi(x1 INTID, x2 edge-triggered?, x3 GICD base): enables the GICv3
// CPU interface and SPI x1 (group 1, priority 0xa0, routed to affinity
// 0.0.0.0, edge- or level-triggered), signals the host and waits until the
// IRQ handler has run.
HV_A64_ROUTINE(gic_spi)
        mov     x21, #0
        GIC_CPU_INTERFACE_ON
        GIC_SPI_ON
        SIGNAL
        // Wait as WFI_WINDOW describes.
4:      cbnz    x21, 5f
        WFI_WINDOW
        b       4b
5:      DONE

// wait_for_peer(x1 own flag, x2 peer flag): sets its flag, waits for the
// peer's, then reports MPIDR_EL1: both vCPUs must run at the same time to
// finish.
HV_A64_ROUTINE(wait_for_peer)
        mov     x3, #1
        str     x3, [x1]
1:      ldr     x4, [x2]
        cbz     x4, 1b
        mrs     x0, mpidr_el1
        REPORT  x0
        DONE

// spin: loops forever (the host kicks it out).
HV_A64_ROUTINE(spin)
1:      b       1b

// registers(x6 value): reports TPIDR_EL1, V0 (low, then high 64 bits),
// FPCR and FPSR as the host set them; then x7 = x6 * 2 and V1 = (x6, ~x6)
// for the host to read.
HV_A64_ROUTINE(registers)
        mrs     x0, tpidr_el1
        REPORT  x0
        fmov    x0, d0
        REPORT  x0
        mov     x0, v0.d[1]
        REPORT  x0
        mrs     x0, fpcr
        REPORT  x0
        mrs     x0, fpsr
        REPORT  x0
        lsl     x7, x6, #1
        fmov    d1, x6
        mvn     x0, x6
        mov     v1.d[1], x0
        DONE

// timer_regs: reports CNTV_CVAL_EL0, then CNTVCT_EL0.
HV_A64_ROUTINE(timer_regs)
        mrs     x0, cntv_cval_el0
        REPORT  x0
        isb
        mrs     x0, cntvct_el0
        REPORT  x0
        DONE

// its_lpi(x1 device id, x2 event id, x3 LPI INTID): sets up the GICv3
// CPU interface, LPIs on this vCPU's redistributor (configuration table
// with LPI x3 enabled at priority 0xa0, pending table) and the ITS (device
// and collection tables in GITS_BASER0/1, the command queue in
// GITS_CBASER, then GITS_CTLR.Enabled), all at guest_layout.h's
// addresses; queues MAPD (device x1, 8 event-id bits, its ITT), MAPC
// (collection 0 to vCPU 0), MAPTI (device x1 event x2 to LPI x3 in
// collection 0) and SYNC, waits until the ITS has read them
// (GITS_CREADR), signals the host and waits until the IRQ handler has run.
// KVM's ITS: GITS_BASER0 is the device table and GITS_BASER1 the
// collection table, and GITS_TYPER.PTA is 0, so a command's target is the
// vCPU number.
HV_A64_ROUTINE(its_lpi)
        mov     x21, #0
        GIC_CPU_INTERFACE_ON
        // GICD_CTLR: ARE, EnableGrp1, EnableGrp0.
        LOAD_CONST x5, HV_A64_GICD_BASE
        mov     w4, #0x13
        str     w4, [x5]
        // The LPI's configuration byte (LPIs start at INTID 8192).
        LOAD_CONST x5, HV_A64_LPI_CONFIG_TABLE
        sub     x6, x3, #2, lsl #12
        mov     w4, #0xa1
        strb    w4, [x5, x6]
        dsb     sy
        // GICR_PROPBASER: the configuration table, IDbits 13 (14 bits of
        // INTID); GICR_PENDBASER: the pending table; GICR_CTLR.EnableLPIs.
        LOAD_CONST x7, HV_A64_GICR_BASE
        mov     x4, #13
        orr     x4, x4, x5
        str     x4, [x7, #0x70]
        LOAD_CONST x4, HV_A64_LPI_PENDING_TABLE
        str     x4, [x7, #0x78]
        mov     w4, #1
        str     w4, [x7]
        // GITS_BASER0/1: Valid, one page each; GITS_CBASER: Valid, one
        // 4 KiB page; then GITS_CTLR.Enabled.
        LOAD_CONST x8, HV_A64_GITS_BASE
        LOAD_CONST x4, HV_A64_ITS_DEVICE_TABLE
        orr     x4, x4, #(1 << 63)
        str     x4, [x8, #0x100]
        LOAD_CONST x4, HV_A64_ITS_COLLECTION_TABLE
        orr     x4, x4, #(1 << 63)
        str     x4, [x8, #0x108]
        LOAD_CONST x4, HV_A64_ITS_COMMAND_QUEUE
        orr     x4, x4, #(1 << 63)
        str     x4, [x8, #0x80]
        mov     w4, #1
        str     w4, [x8]
        // The commands, 32 bytes each (Arm IHI 0069, Section 5.3).
        LOAD_CONST x10, HV_A64_ITS_COMMAND_QUEUE
        // MAPD: DW0 0x08 | device << 32, DW1 event-id bits - 1, DW2 V | ITT.
        mov     x4, #0x08
        orr     x4, x4, x1, lsl #32
        mov     x5, #7
        stp     x4, x5, [x10]
        LOAD_CONST x4, HV_A64_ITS_ITT
        orr     x4, x4, #(1 << 63)
        stp     x4, xzr, [x10, #16]
        // MAPC: DW0 0x09, DW2 V | target (vCPU 0) << 16 | collection 0.
        mov     x4, #0x09
        stp     x4, xzr, [x10, #32]
        mov     x4, #(1 << 63)
        stp     x4, xzr, [x10, #48]
        // MAPTI: DW0 0x0a | device << 32, DW1 event | LPI << 32, DW2
        // collection 0.
        mov     x4, #0x0a
        orr     x4, x4, x1, lsl #32
        mov     w5, w2
        orr     x5, x5, x3, lsl #32
        stp     x4, x5, [x10, #64]
        stp     xzr, xzr, [x10, #80]
        // SYNC: DW0 0x05, DW2 target vCPU 0.
        mov     x4, #0x05
        stp     x4, xzr, [x10, #96]
        stp     xzr, xzr, [x10, #112]
        dsb     sy
        // GITS_CWRITER past the four commands; wait for GITS_CREADR.
        mov     x4, #128
        str     x4, [x8, #0x88]
1:      ldr     x5, [x8, #0x90]
        cmp     x5, x4
        b.ne    1b
        dsb     sy
        SIGNAL
4:      cbnz    x21, 5f
        WFI_WINDOW
        b       4b
5:      DONE

// snapshot_worker(x1 SPI INTID, x2 edge-triggered?, x3 GICD base, x19
// buffer, x20 rounds N (a multiple of 4), x28 timer ticks T): a guest
// busy with interrupts, for snapshots taken at the stages it announces by
// storing 1, 2, 3 at HV_A64_DATA. Sets up SPI x1 and the EL1 virtual
// timer's PPI (INTID 27: Arm Base System Architecture, DEN0094, PPI
// assignments) on this vCPU's redistributor, the timer to tick every
// millisecond (CNTFRQ_EL0 / 1000) until T ticks (count_irq_handler), and
// runs N rounds of an LCG over the 512 words at x19 with IRQs on, except
// from round N/2 to 3N/4. Stage 1 is round N/4; stage 2 round N/2, IRQs
// just masked (the host raises the SPI then: it stays pending until round
// 3N/4); stage 3 after the rounds, then waits (WFI) for the T-th tick and
// the SPI. Reports the checksum of the 512 words, the ticks (T), the SPIs
// (1), the largest counter step between two ticks and CNTFRQ_EL0.
HV_A64_ROUTINE(snapshot_worker)
        GIC_CPU_INTERFACE_ON
        GIC_SPI_ON
        TIMER_PPI_ON
        COUNT_VECTORS_ON
        VIRTUAL_TIMER_START
        msr     daifclr, #2
        LOAD_CONST x4, 6364136223846793005  // Knuth's MMIX LCG multiplier
        LOAD_CONST x10, HV_A64_DATA
        lsr     x6, x20, #2             // N/4
        add     x7, x6, x6, lsl #1      // 3N/4
        mov     x0, #0
1:      LCG_ROUND
        cmp     x0, x6
        b.ne    2f
        mov     x5, #1
        str     x5, [x10]
2:      cmp     x0, x6, lsl #1
        b.ne    3f
        msr     daifset, #2
        mov     x5, #2
        str     x5, [x10]
3:      cmp     x0, x7
        b.ne    4f
        msr     daifclr, #2
4:      cmp     x0, x20
        b.lo    1b
        TABLE_CHECKSUM
        mov     x5, #3
        str     x5, [x10]
        // Wait as WFI_WINDOW describes.
        msr     daifset, #2
6:      cmp     x24, x28
        b.lo    7f
        cbnz    x25, 8f
7:      WFI_WINDOW
        b       6b
8:      REPORT  x3
        REPORT  x24
        REPORT  x25
        REPORT  x30
        mrs     x0, cntfrq_el0
        REPORT  x0
        DONE

// snapshot_pair(x1 SPI INTID, x3 GICD base, x19 this vCPU's table of 512
// words, x20 rounds, x21 the vCPU (0 or 1), x22 the shared words, x28
// interrupts to take): two vCPUs run it at once, for snapshots taken at any
// moment. The shared words: at x22 + 8 * vCPU its interrupt count
// (published by its loops), at x22 + 16 + 8 * vCPU its "computation
// finished" flag, at x22 + 32 vCPU 1's "ready for the SPI" flag. vCPU 0
// starts its virtual timer (VIRTUAL_TIMER_START: count_irq_handler re-arms
// it every millisecond until x28 ticks); vCPU 1 routes edge-triggered SPI
// x1 to itself (its MPIDR_EL1's affinity fields) and sets its flag: from
// then on the host may raise the SPI. Each runs x20 LCG rounds over its
// table with IRQs on, publishing its count each round, takes the table's
// checksum, sets its "finished" flag and waits (WFI_WINDOW) until it has
// taken x28 interrupts. Reports the checksum, its timer ticks and its
// SPIs. count_irq_handler only counts, so the checksums are the same
// however the interrupts fall. Both turn the GIC's distributor on.
HV_A64_ROUTINE(snapshot_pair)
        GIC_CPU_INTERFACE_ON
        COUNT_VECTORS_ON
        add     x15, x22, x21, lsl #3   // this vCPU's count
        cbnz    x21, 1f
        GIC_DISTRIBUTOR_ON
        TIMER_PPI_ON
        VIRTUAL_TIMER_START
        b       2f
        // MPIDR_EL1's Aff3 (bits 39:32) and Aff2-Aff0 (23:0) sit where
        // GICD_IROUTER<n> takes them (Arm ARM, MPIDR_EL1; IHI 0069,
        // GICD_IROUTER<n>).
1:      mrs     x14, mpidr_el1
        LOAD_CONST x4, 0xff00ffffff
        and     x14, x14, x4
        mov     x2, #1                  // edge-triggered
        GIC_SPI_ON_TO x14
        mov     x4, #1
        str     x4, [x22, #32]          // ready for the SPI
2:      msr     daifclr, #2
        LOAD_CONST x4, 6364136223846793005  // Knuth's MMIX LCG multiplier
        mov     x0, #0
3:      LCG_ROUND
        add     x5, x24, x25
        str     x5, [x15]
        cmp     x0, x20
        b.lo    3b
        TABLE_CHECKSUM
        mov     x4, #1
        str     x4, [x15, #16]          // finished
        msr     daifset, #2
4:      add     x5, x24, x25
        str     x5, [x15]
        cmp     x5, x28
        b.hs    6f
        WFI_WINDOW
        b       4b
6:      REPORT  x3
        REPORT  x24
        REPORT  x25
        DONE

        .ltorg
        .globl hv_a64_image_end
        .hidden hv_a64_image_end
hv_a64_image_end:
        .section .note.GNU-stack, "", @progbits
