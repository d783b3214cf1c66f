// x86_64 vCPU and VM state in hv's own types (not any hypervisor's ABI).
// Backends convert at their edge. Field meanings follow the Intel SDM,
// Volume 3 (e.g. segment descriptors: Section 3.4.5).
#ifndef HV_HYPERVISOR_X86_64_REGS_H_
#define HV_HYPERVISOR_X86_64_REGS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace hv {

// General purpose registers, rip and rflags.
struct Regs {
  uint64_t rax = 0, rbx = 0, rcx = 0, rdx = 0, rsi = 0, rdi = 0, rsp = 0,
           rbp = 0;
  uint64_t r8 = 0, r9 = 0, r10 = 0, r11 = 0, r12 = 0, r13 = 0, r14 = 0,
           r15 = 0;
  uint64_t rip = 0;
  uint64_t rflags = 0x2;  // bit 1 is reserved and always set
};

// A segment register with its hidden descriptor cache.
struct Segment {
  uint64_t base = 0;
  uint32_t limit = 0;
  uint16_t selector = 0;
  uint8_t type = 0;  // 4-bit type field
  bool present = false;
  uint8_t dpl = 0;
  bool db = false;  // default operation size
  bool s = false;   // code/data (true) or system (false)
  bool l = false;   // 64-bit code
  bool g = false;   // granularity
  bool avl = false;
  bool unusable = false;
};

struct DescriptorTable {
  uint64_t base = 0;
  uint16_t limit = 0;
};

// Segment and control registers.
struct Sregs {
  Segment cs, ds, es, fs, gs, ss, tr, ldt;
  DescriptorTable gdt, idt;
  uint64_t cr0 = 0, cr2 = 0, cr3 = 0, cr4 = 0, cr8 = 0;
  uint64_t efer = 0;
  uint64_t apic_base = 0;
};

// x87/SSE state (FXSAVE layout fields).
struct Fpu {
  std::array<std::array<uint8_t, 16>, 8> fpr{};  // ST0-7 / MM0-7 (80 bits used)
  uint16_t fcw = 0x37f;
  uint16_t fsw = 0;
  uint8_t ftwx = 0;  // abridged tag word
  uint16_t last_opcode = 0;
  uint64_t last_ip = 0;
  uint64_t last_dp = 0;
  std::array<std::array<uint8_t, 16>, 16> xmm{};
  uint32_t mxcsr = 0x1f80;
};

struct DebugRegs {
  std::array<uint64_t, 4> db{};
  uint64_t dr6 = 0;
  uint64_t dr7 = 0;
};

// An extended control register (XCR0 is index 0).
struct Xcr {
  uint32_t index = 0;
  uint64_t value = 0;
};

struct MsrEntry {
  uint32_t index = 0;
  uint64_t value = 0;
};

// MsrRange: `count` MSRs from index `first` whose guest accesses (rdmsr
// when `reads`, wrmsr when `writes`) the VMM answers itself
// (VmX86_64::SetUserSpaceMsrs).
struct MsrRange {
  uint32_t first = 0;
  uint32_t count = 0;
  bool reads = true;
  bool writes = true;
};

// MsrRequest: one guest rdmsr or wrmsr handed to the VMM's handler by
// VcpuX86_64::HandleMsr. For a write `data` is the value written; for a
// read the handler sets it (it starts 0). Setting `fault` makes the
// guest's instruction raise #GP(0) instead (Intel SDM Vol. 2B, RDMSR and
// WRMSR: an unimplemented MSR), and a read's `data` is then ignored.
struct MsrRequest {
  uint32_t index = 0;
  bool is_write = false;
  uint64_t data = 0;
  bool fault = false;
};

// One CPUID leaf/subleaf result.
struct CpuidEntry {
  uint32_t function = 0;
  uint32_t index = 0;
  bool significant_index = false;  // subleaf (index) selects the result
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

// The local APIC's 1 KiB register page (Intel SDM Vol. 3, Section 10.4.1).
struct LapicState {
  std::array<uint8_t, 1024> regs{};
};

// VcpuEvents: what a vCPU has in flight between instructions -- an event
// being delivered, blocking and pending NMIs, the interrupt shadow, a
// waiting SIPI, SMM -- everything beyond the registers that saving and
// restoring a running vCPU must carry (KVM's struct kvm_vcpu_events).
struct VcpuEvents {
  // An exception being delivered (Intel SDM Vol. 3, Section 6.15).
  struct Exception {
    bool injected = false;
    uint8_t vector = 0;
    bool has_error_code = false;
    uint32_t error_code = 0;
  } exception;
  // An external or software interrupt being delivered, and the interrupt
  // shadow: blocking by STI (bit 0) or by MOV SS (bit 1), Section 24.4.2.
  struct Interrupt {
    bool injected = false;
    uint8_t vector = 0;
    bool soft = false;
    uint8_t shadow = 0;
  } interrupt;
  // An NMI being delivered, one waiting, and NMI blocking (Section 6.7.1).
  struct Nmi {
    bool injected = false;
    bool pending = false;
    bool masked = false;
  } nmi;
  // The vector of a SIPI received and not yet taken (Section 9.4.4).
  std::optional<uint8_t> sipi_vector;
  // System-management mode (Chapter 32): in SMM, an SMI waiting, NMIs
  // blocked by SMM, an INIT latched while in SMM.
  struct Smi {
    bool smm = false;
    bool pending = false;
    bool smm_inside_nmi = false;
    bool latched_init = false;
  } smi;
};

// PicState: one 8259A interrupt controller (Intel 8259A datasheet; the
// PIIX edge/level register, ELCR, beside it): its registers and where its
// initialisation and read-back sequences stand.
struct PicState {
  uint8_t last_irr = 0;      // input levels at the last edge check
  uint8_t irr = 0;           // interrupt request register
  uint8_t imr = 0;           // interrupt mask register (OCW1)
  uint8_t isr = 0;           // in-service register
  uint8_t priority_add = 0;  // rotation: the lowest-priority line + 1
  uint8_t irq_base = 0;      // vector of line 0 (ICW2)
  uint8_t read_reg_select = 0;  // OCW3: read ISR (1) or IRR (0)
  uint8_t poll = 0;
  uint8_t special_mask = 0;
  uint8_t init_state = 0;    // which ICW comes next (0: initialised)
  uint8_t auto_eoi = 0;
  uint8_t rotate_on_auto_eoi = 0;
  uint8_t special_fully_nested_mode = 0;
  uint8_t init4 = 0;         // ICW4 expected
  uint8_t elcr = 0;          // level-triggered lines
  uint8_t elcr_mask = 0;     // lines whose ELCR bit can be set
};

// IoapicState: an I/O APIC (82093AA datasheet): its base address, index
// register, id, remote IRR bits and the 24 redirection-table entries.
struct IoapicState {
  uint64_t base_address = 0xfec00000;
  uint32_t ioregsel = 0;
  uint32_t id = 0;
  uint32_t irr = 0;
  std::array<uint64_t, 24> redirection{};
};

// PitState: the 8254 interval timer's three counters (8254 datasheet) and
// KVM's flags (HPET legacy routing, speaker data).
struct PitChannelState {
  uint32_t count = 0;  // the initial count (65536 for 0)
  uint16_t latched_count = 0;
  uint8_t count_latched = 0;
  uint8_t status_latched = 0;
  uint8_t status = 0;
  uint8_t read_state = 0;
  uint8_t write_state = 0;
  uint8_t write_latch = 0;
  uint8_t rw_mode = 0;
  uint8_t mode = 0;
  uint8_t bcd = 0;
  uint8_t gate = 0;
  // When the count was loaded, in the host kernel's clock (ns): read for
  // completeness; setting the state reloads the count from now.
  int64_t count_load_time = 0;
};
struct PitState {
  std::array<PitChannelState, 3> channels{};
  uint32_t flags = 0;
};

// The VM's paravirtual clock (ns) and whether it is stable across hosts.
struct ClockState {
  uint64_t clock_ns = 0;
  bool stable = false;
  // The host's CLOCK_REALTIME (ns) at the moment the clock was read, where
  // the hypervisor reports it (KVM: KVM_CLOCK_REALTIME, a host whose clock
  // source is the TSC). Handed back to VmX86_64::SetClock, the hypervisor
  // adds the real time elapsed since then, so a guest restored later (or
  // elsewhere, with synchronised host clocks) does not lag by the downtime;
  // absent, the clock is set to clock_ns as is.
  std::optional<uint64_t> realtime_ns;
  // The host's TSC at that moment (KVM_CLOCK_HOST_TSC); read only.
  std::optional<uint64_t> host_tsc;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_X86_64_REGS_H_
