// The Geniezone (MediaTek GenieZone hypervisor, /dev/gzvm) user-space ABI:
// ioctl numbers, structs and constants, written for hv from the layouts the
// vendor's proposed include/uapi/linux/gzvm.h documents (kernel patch series
// "GenieZone hypervisor drivers", v13) and crosvm's geniezone_sys bindings.
// The ABI is the arm64 kernel's; it is defined here with fixed-width types
// and explicit ioctl encoding so that it compiles (and the fake and the
// tests run) on any Linux host, x86_64 included. Internal to
// hypervisor/geniezone and its fake (testing/fakes/geniezone_fake.*).
//
// Example:
//   hv::geniezone_abi::UserspaceMemoryRegion region = {};
//   region.slot = 0;
//   region.flags = hv::geniezone_abi::kUserMemRegionGuestMem;
//   region.guest_phys_addr = 0x80000000;
//   region.memory_size = size;
//   region.userspace_addr = reinterpret_cast<uintptr_t>(host);
//   sys->IoctlPtr(vm_fd, hv::geniezone_abi::kSetUserMemoryRegion, &region);
#ifndef HV_HYPERVISOR_GENIEZONE_GENIEZONE_ABI_H_
#define HV_HYPERVISOR_GENIEZONE_GENIEZONE_ABI_H_

#include <cstddef>
#include <cstdint>

namespace hv::geniezone_abi {

// --- ioctl encoding --------------------------------------------------------
// The asm-generic layout the arm64 kernel uses (x86_64 uses the same one):
// bits 0-7 number, 8-15 type (magic), 16-29 argument size, 30-31 direction
// (1 = write: user to kernel, 2 = read: kernel to user).
inline constexpr unsigned long kIocNone = 0;
inline constexpr unsigned long kIocWrite = 1;
inline constexpr unsigned long kIocRead = 2;

constexpr unsigned long IoctlNumber(unsigned long dir, unsigned long type,
                                    unsigned long nr, unsigned long size) {
  return (dir << 30) | (size << 16) | (type << 8) | nr;
}
// The ioctl type of every Geniezone ioctl ("gz").
inline constexpr unsigned long kIocMagic = 0x92;

constexpr unsigned long Io(unsigned long nr) {
  return IoctlNumber(kIocNone, kIocMagic, nr, 0);
}
constexpr unsigned long Iow(unsigned long nr, size_t size) {
  return IoctlNumber(kIocWrite, kIocMagic, nr, size);
}
constexpr unsigned long Iowr(unsigned long nr, size_t size) {
  return IoctlNumber(kIocRead | kIocWrite, kIocMagic, nr, size);
}

// --- Capabilities (GZVM_CHECK_EXTENSION / GZVM_ENABLE_CAP) -----------------
// GZVM_CHECK_EXTENSION's argument is a pointer to a __u64 holding the cap;
// the driver answers 0 (and may write a value back into that __u64, e.g.
// the physical address bits for kCapVmGpaSize) or -EOPNOTSUPP.
inline constexpr uint64_t kCapVmGpaSize = 0xa5;  // GZVM_CAP_VM_GPA_SIZE
inline constexpr uint64_t kCapProtectedVm = 0xffbadab1;
inline constexpr uint64_t kCapBlockBasedDemandPaging = 0x9201;
inline constexpr uint64_t kCapEnableDemandPaging = 0x9202;
inline constexpr uint64_t kCapEnableIdle = 0x9203;
inline constexpr uint64_t kCapQueryHypBatchPages = 0x9204;
// Sub-commands in args[0] of GZVM_ENABLE_CAP(kCapProtectedVm).
inline constexpr uint64_t kCapPvmSetPvmfwGpa = 0;
inline constexpr uint64_t kCapPvmGetPvmfwSize = 1;
inline constexpr uint64_t kCapPvmSetProtectedVm = 2;

// --- Limits of the driver (include/linux/soc/mediatek/gzvm_drv.h) ----------
// Not queryable through the ABI: the driver's fixed tables.
inline constexpr uint32_t kMaxVcpus = 8;        // GZVM_MAX_VCPUS
inline constexpr uint32_t kMaxMemRegions = 10;  // GZVM_MAX_MEM_REGION
// The guest physical address width crosvm assumes when GZVM_CAP_VM_GPA_SIZE
// is not answered.
inline constexpr uint32_t kDefaultGpaBits = 40;

// --- Memory regions (VM fd) -------------------------------------------------
struct MemoryRegion {  // struct gzvm_memory_region (GZVM_SET_MEMORY_REGION)
  uint32_t slot;
  uint32_t flags;
  uint64_t guest_phys_addr;
  uint64_t memory_size;
};
static_assert(sizeof(MemoryRegion) == 24);

struct UserspaceMemoryRegion {  // struct gzvm_userspace_memory_region
  uint32_t slot;
  uint32_t flags;
  uint64_t guest_phys_addr;
  uint64_t memory_size;     // bytes; the whole host VMA at userspace_addr
  uint64_t userspace_addr;  // start of the host mapping
};
static_assert(sizeof(UserspaceMemoryRegion) == 32);
static_assert(offsetof(UserspaceMemoryRegion, slot) == 0);
static_assert(offsetof(UserspaceMemoryRegion, flags) == 4);
static_assert(offsetof(UserspaceMemoryRegion, guest_phys_addr) == 8);
static_assert(offsetof(UserspaceMemoryRegion, memory_size) == 16);
static_assert(offsetof(UserspaceMemoryRegion, userspace_addr) == 24);

// Region purposes (flags of gzvm_userspace_memory_region), handed to the
// hypervisor by the driver's MEMREGION_PURPOSE call.
inline constexpr uint32_t kUserMemRegionGuestMem = 1u << 0;
inline constexpr uint32_t kUserMemRegionProtectFw = 1u << 1;
inline constexpr uint32_t kUserMemRegionStaticSwiotlb = 1u << 2;
inline constexpr uint32_t kUserMemRegionValidFlags =
    kUserMemRegionGuestMem | kUserMemRegionProtectFw |
    kUserMemRegionStaticSwiotlb;

// --- Interrupts (VM fd) ------------------------------------------------------
struct IrqLevel {  // struct gzvm_irq_level
  uint32_t irq;    // (union with __s32 status)
  uint32_t level;
};
static_assert(sizeof(IrqLevel) == 8);
static_assert(offsetof(IrqLevel, level) == 4);

// Fields of IrqLevel::irq.
inline constexpr uint32_t kIrqNumShift = 0;
inline constexpr uint32_t kIrqNumMask = 0xffff;
inline constexpr uint32_t kIrqVcpuShift = 16;
inline constexpr uint32_t kIrqVcpuMask = 0xff;
inline constexpr uint32_t kIrqTypeShift = 24;
inline constexpr uint32_t kIrqTypeMask = 0xf;
inline constexpr uint32_t kIrqVcpu2Shift = 28;
inline constexpr uint32_t kIrqVcpu2Mask = 0xf;
// Interrupt types; for kIrqTypeSpi the number is the SPI number counted from
// 0 (INTID - 32), as the driver's irqfd path also uses it.
inline constexpr uint32_t kIrqTypeCpu = 0;
inline constexpr uint32_t kIrqTypeSpi = 1;
inline constexpr uint32_t kIrqTypePpi = 2;

constexpr uint32_t IrqLineField(uint32_t type, uint32_t vcpu, uint32_t num) {
  return ((type & kIrqTypeMask) << kIrqTypeShift) |
         ((vcpu & kIrqVcpuMask) << kIrqVcpuShift) |
         (((vcpu >> 8) & kIrqVcpu2Mask) << kIrqVcpu2Shift) |
         ((num & kIrqNumMask) << kIrqNumShift);
}

struct Irqfd {  // struct gzvm_irqfd
  uint32_t fd;
  uint32_t gsi;  // SPI number counted from 0
  uint32_t flags;
  uint32_t resamplefd;
  uint8_t pad[16];  // must be zero (-EINVAL otherwise)
};
static_assert(sizeof(Irqfd) == 32);
static_assert(offsetof(Irqfd, flags) == 8);
static_assert(offsetof(Irqfd, resamplefd) == 12);
static_assert(offsetof(Irqfd, pad) == 16);
inline constexpr uint32_t kIrqfdFlagDeassign = 1u << 0;
inline constexpr uint32_t kIrqfdFlagResample = 1u << 1;

struct Ioeventfd {  // struct gzvm_ioeventfd
  uint64_t datamatch;
  uint64_t addr;  // MMIO address (the driver refuses port I/O)
  uint32_t len;   // 1, 2, 4 or 8; 0 matches any length
  int32_t fd;
  uint32_t flags;
  uint8_t pad[36];
};
static_assert(sizeof(Ioeventfd) == 64);
static_assert(offsetof(Ioeventfd, addr) == 8);
static_assert(offsetof(Ioeventfd, len) == 16);
static_assert(offsetof(Ioeventfd, fd) == 20);
static_assert(offsetof(Ioeventfd, flags) == 24);
static_assert(offsetof(Ioeventfd, pad) == 28);
inline constexpr uint32_t kIoeventfdFlagDatamatch = 1u << 0;
inline constexpr uint32_t kIoeventfdFlagPio = 1u << 1;
inline constexpr uint32_t kIoeventfdFlagDeassign = 1u << 2;
inline constexpr uint32_t kIoeventfdValidFlagMask = (1u << 3) - 1;

// --- Devices (VM fd): the in-hypervisor GICv3 --------------------------------
inline constexpr uint32_t kDevTypeArmVgicV3Dist = 0;
inline constexpr uint32_t kDevTypeArmVgicV3Redist = 1;
inline constexpr uint32_t kDevTypeMax = 2;

struct CreateDevice {  // struct gzvm_create_device
  uint32_t dev_type;
  uint32_t id;
  uint64_t flags;
  uint64_t dev_addr;      // guest-physical base of the registers
  uint64_t dev_reg_size;  // size of the register frame
  uint64_t attr_addr;     // user address of device attributes (0: none)
  uint64_t attr_size;     // at most one page
};
static_assert(sizeof(CreateDevice) == 48);
static_assert(offsetof(CreateDevice, flags) == 8);
static_assert(offsetof(CreateDevice, dev_addr) == 16);
static_assert(offsetof(CreateDevice, dev_reg_size) == 24);
static_assert(offsetof(CreateDevice, attr_addr) == 32);
static_assert(offsetof(CreateDevice, attr_size) == 40);

struct EnableCap {  // struct gzvm_enable_cap
  uint64_t cap;
  uint64_t args[5];
};
static_assert(sizeof(EnableCap) == 48);

struct DtbConfig {  // struct gzvm_dtb_config
  uint64_t dtb_addr;
  uint64_t dtb_size;
};
static_assert(sizeof(DtbConfig) == 16);

// --- vCPUs --------------------------------------------------------------------
// Exit reasons of struct gzvm_vcpu_run.
inline constexpr uint32_t kExitUnknown = 0x92920000;
inline constexpr uint32_t kExitMmio = 0x92920001;
inline constexpr uint32_t kExitHypercall = 0x92920002;
inline constexpr uint32_t kExitIrq = 0x92920003;
inline constexpr uint32_t kExitException = 0x92920004;
inline constexpr uint32_t kExitDebug = 0x92920005;
inline constexpr uint32_t kExitFailEntry = 0x92920006;
inline constexpr uint32_t kExitInternalError = 0x92920007;
inline constexpr uint32_t kExitSystemEvent = 0x92920008;
inline constexpr uint32_t kExitShutdown = 0x92920009;
inline constexpr uint32_t kExitGz = 0x9292000a;
inline constexpr uint32_t kExitIdle = 0x9292000b;
inline constexpr uint32_t kExitIpi = 0x9292000d;

// Exception kinds of the exception exit.
inline constexpr uint32_t kExceptionUnknown = 0;
inline constexpr uint32_t kExceptionPageFault = 1;

// System event types of the system_event exit.
inline constexpr uint32_t kSystemEventShutdown = 1;
inline constexpr uint32_t kSystemEventReset = 2;
inline constexpr uint32_t kSystemEventCrash = 3;
inline constexpr uint32_t kSystemEventWakeup = 4;
inline constexpr uint32_t kSystemEventSuspend = 5;
inline constexpr uint32_t kSystemEventSevTerm = 6;
inline constexpr uint32_t kSystemEventS2Idle = 7;

// struct gzvm_vcpu_run: GZVM_RUN's argument is a pointer to one in user
// memory. The driver copies it in (immediate_exit == 1: -EINTR at once; an
// MMIO read's data goes to the guest register), runs the vCPU until an exit
// user space must handle (or a signal: -EINTR), and copies it back out.
struct VcpuRunMmio {
  uint64_t phys_addr;
  uint8_t data[8];
  uint64_t size;    // bytes of data[] the access uses (1, 2, 4, 8)
  uint32_t reg_nr;  // the guest register (from ESR_EL2)
  uint8_t is_write;
};
static_assert(sizeof(VcpuRunMmio) == 32);
static_assert(offsetof(VcpuRunMmio, data) == 8);
static_assert(offsetof(VcpuRunMmio, size) == 16);
static_assert(offsetof(VcpuRunMmio, reg_nr) == 24);
static_assert(offsetof(VcpuRunMmio, is_write) == 28);

struct VcpuRunFailEntry {
  uint64_t hardware_entry_failure_reason;
  uint32_t cpu;
};
static_assert(sizeof(VcpuRunFailEntry) == 16);

struct VcpuRunException {
  uint32_t exception;
  uint32_t error_code;
  uint64_t fault_gpa;
  uint64_t reserved[30];
};
static_assert(sizeof(VcpuRunException) == 256);
static_assert(offsetof(VcpuRunException, fault_gpa) == 8);

struct VcpuRunHypercall {
  uint64_t args[8];  // in-out: x0 (the SMCCC function id), x1-x7
};
static_assert(sizeof(VcpuRunHypercall) == 64);

struct VcpuRunInternal {
  uint32_t suberror;
  uint32_t ndata;
  uint64_t data[16];
};
static_assert(sizeof(VcpuRunInternal) == 136);

struct VcpuRunSystemEvent {
  uint32_t type;
  uint32_t ndata;
  uint64_t data[16];
};
static_assert(sizeof(VcpuRunSystemEvent) == 136);
static_assert(offsetof(VcpuRunSystemEvent, data) == 8);

struct VcpuRun {
  uint32_t exit_reason;
  uint8_t immediate_exit;
  uint8_t padding1[3];  // must be zero
  union {
    VcpuRunMmio mmio;
    VcpuRunFailEntry fail_entry;
    VcpuRunException exception;
    VcpuRunHypercall hypercall;
    VcpuRunInternal internal;
    VcpuRunSystemEvent system_event;
    char padding[256];
  };
};
static_assert(sizeof(VcpuRun) == 264);
static_assert(offsetof(VcpuRun, exit_reason) == 0);
static_assert(offsetof(VcpuRun, immediate_exit) == 4);
static_assert(offsetof(VcpuRun, padding1) == 5);
static_assert(offsetof(VcpuRun, mmio) == 8);
static_assert(offsetof(VcpuRun, system_event) == 8);
static_assert(offsetof(VcpuRun, hypercall) == 8);
static_assert(alignof(VcpuRun) == 8);

struct OneReg {  // struct gzvm_one_reg
  uint64_t id;
  uint64_t addr;  // user address of the value (size from the id)
};
static_assert(sizeof(OneReg) == 16);

// --- Register ids (GZVM_GET_ONE_REG / GZVM_SET_ONE_REG) ---------------------
// KVM's arm64 encoding: arch | size | coprocessor | index.
inline constexpr uint64_t kRegArchMask = 0xff00000000000000ull;
inline constexpr uint64_t kRegArm64 = 0x6000000000000000ull;
inline constexpr uint64_t kRegSizeShift = 52;
inline constexpr uint64_t kRegSizeMask = 0x00f0000000000000ull;
inline constexpr uint64_t kRegSizeU32 = 0x0020000000000000ull;
inline constexpr uint64_t kRegSizeU64 = 0x0030000000000000ull;
inline constexpr uint64_t kRegSizeU128 = 0x0040000000000000ull;
inline constexpr uint64_t kRegCoprocMask = 0x000000000fff0000ull;
inline constexpr uint64_t kRegArmCore = 0x0010ull << 16;      // GZVM_REG_ARM_CORE
inline constexpr uint64_t kRegArm64Sysreg = 0x0013ull << 16;  // GZVM_REG_ARM64_SYSREG
inline constexpr uint64_t kRegIndexMask = 0xffffull;

// RegSizeBytes(): the value size a register id names (1 << size field).
constexpr uint64_t RegSizeBytes(uint64_t id) {
  return uint64_t{1} << ((id & kRegSizeMask) >> kRegSizeShift);
}

// struct gzvm_regs (the arm64 core register block, laid out as KVM's
// kvm_regs): core register ids index it in 32-bit words.
struct Regs {
  uint64_t x[31];  // user_pt_regs.regs
  uint64_t sp;     // user_pt_regs.sp (SP_EL0)
  uint64_t pc;
  uint64_t pstate;
  uint64_t sp_el1;
  uint64_t elr_el1;
  uint64_t spsr[5];  // GZVM_NR_SPSR; spsr[0] is SPSR_EL1
  uint64_t padding0;
  // user_fpsimd_state, 16-byte aligned: 32 128-bit V registers, fpsr, fpcr.
  alignas(16) uint64_t vregs[64];
  uint32_t fpsr;
  uint32_t fpcr;
  uint32_t fp_reserved[2];
};
static_assert(offsetof(Regs, sp) == 248);
static_assert(offsetof(Regs, pc) == 256);
static_assert(offsetof(Regs, pstate) == 264);
static_assert(offsetof(Regs, sp_el1) == 272);
static_assert(offsetof(Regs, elr_el1) == 280);
static_assert(offsetof(Regs, spsr) == 288);
static_assert(offsetof(Regs, vregs) == 336);
static_assert(offsetof(Regs, fpsr) == 848);
static_assert(offsetof(Regs, fpcr) == 852);
static_assert(sizeof(Regs) == 864);

// CoreRegId(): the id of the core register at byte `offset` of Regs.
constexpr uint64_t CoreRegId(uint64_t size, size_t offset) {
  return kRegArm64 | size | kRegArmCore | (offset / sizeof(uint32_t));
}
// SysRegId(): the id of a system register by its MRS encoding
// (op0<<14 | op1<<11 | crn<<7 | crm<<3 | op2).
constexpr uint64_t SysRegId(uint32_t encoding) {
  return kRegArm64 | kRegSizeU64 | kRegArm64Sysreg | (encoding & 0xffff);
}

// --- ioctl numbers --------------------------------------------------------------
// /dev/gzvm fd.
inline constexpr unsigned long kCreateVm = Io(0x01);        // arg: VM type (0)
inline constexpr unsigned long kCheckExtension = Io(0x03);  // arg: __u64 *cap
// VM fd.
inline constexpr unsigned long kSetMemoryRegion = Iow(0x40, sizeof(MemoryRegion));
inline constexpr unsigned long kCreateVcpu = Io(0x41);  // arg: vCPU id
inline constexpr unsigned long kSetUserMemoryRegion =
    Iow(0x46, sizeof(UserspaceMemoryRegion));
inline constexpr unsigned long kIrqLine = Iow(0x61, sizeof(IrqLevel));
inline constexpr unsigned long kIrqfd = Iow(0x76, sizeof(Irqfd));
inline constexpr unsigned long kIoeventfd = Iow(0x79, sizeof(Ioeventfd));
inline constexpr unsigned long kEnableCap = Iow(0xa3, sizeof(EnableCap));
inline constexpr unsigned long kCreateDevice = Iowr(0xe0, sizeof(CreateDevice));
inline constexpr unsigned long kSetDtbConfig = Iow(0xff, sizeof(DtbConfig));
// vCPU fd.
inline constexpr unsigned long kRun = Io(0x80);  // arg: struct gzvm_vcpu_run *
inline constexpr unsigned long kGetOneReg = Iow(0xab, sizeof(OneReg));
inline constexpr unsigned long kSetOneReg = Iow(0xac, sizeof(OneReg));

// The numbers the uapi's _IO/_IOW/_IOWR produce on arm64 (and x86_64).
static_assert(kCreateVm == 0x9201);
static_assert(kCheckExtension == 0x9203);
static_assert(kSetMemoryRegion == 0x40189240);
static_assert(kCreateVcpu == 0x9241);
static_assert(kSetUserMemoryRegion == 0x40209246);
static_assert(kIrqLine == 0x40089261);
static_assert(kIrqfd == 0x40209276);
static_assert(kIoeventfd == 0x40409279);
static_assert(kEnableCap == 0x403092a3);
static_assert(kCreateDevice == 0xc03092e0);
static_assert(kSetDtbConfig == 0x401092ff);
static_assert(kRun == 0x9280);
static_assert(kGetOneReg == 0x401092ab);
static_assert(kSetOneReg == 0x401092ac);

}  // namespace hv::geniezone_abi

#endif  // HV_HYPERVISOR_GENIEZONE_GENIEZONE_ABI_H_
