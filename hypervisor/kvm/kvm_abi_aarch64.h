// The aarch64 part of the KVM ABI as the backend uses it (arch/arm64's
// <asm/kvm.h>, Debian 12: 6.1): ONE_REG ids of the core, FP/SIMD, system and
// firmware registers, vCPU init, the vGIC device and the few numbers newer
// than 6.1 the backend asks for, checked by static_asserts against
// Documentation/virt/kvm/api.rst and devices/arm-vgic*.rst.
//
// Internal to hypervisor/kvm, aarch64 builds only (kvm_*_aarch64.cc).
//
// Example:
//   uint64_t pc = 0;
//   kvm_one_reg reg = {hv::kvm_abi::CoreRegId(offsetof(kvm_regs, regs.pc)),
//                      reinterpret_cast<uintptr_t>(&pc)};
//   sys->IoctlPtr(vcpu_fd, KVM_GET_ONE_REG, &reg);
#ifndef HV_HYPERVISOR_KVM_KVM_ABI_AARCH64_H_
#define HV_HYPERVISOR_KVM_KVM_ABI_AARCH64_H_

#include <cstddef>
#include <cstdint>

#include "hypervisor/kvm/kvm_abi.h"

namespace hv::kvm_abi {

// ONE_REG ids (api.rst, KVM_SET_ONE_REG, "ARM64 registers"): the
// architecture, the access size, a group ("coprocessor") and an index.
inline constexpr uint64_t kRegGroupMask = KVM_REG_ARM_COPROC_MASK;

// Core registers: KVM_REG_ARM_CORE with the register's offset in struct
// kvm_regs, in 32-bit words.
constexpr uint64_t CoreRegId(size_t offset_in_kvm_regs, uint64_t size) {
  return KVM_REG_ARM64 | size | KVM_REG_ARM_CORE | (offset_in_kvm_regs / 4);
}
constexpr uint64_t CoreRegId(size_t offset_in_kvm_regs) {
  return CoreRegId(offset_in_kvm_regs, KVM_REG_SIZE_U64);
}

// struct kvm_regs: user_pt_regs (x0-x30, sp, pc, pstate), sp_el1, elr_el1,
// spsr[5], then user_fpsimd_state (v0-v31 as 128-bit, fpsr, fpcr), which
// starts 16-byte aligned.
static_assert(offsetof(kvm_regs, regs.regs) == 0);
static_assert(offsetof(kvm_regs, regs.sp) == 31 * 8);
static_assert(offsetof(kvm_regs, regs.pc) == 32 * 8);
static_assert(offsetof(kvm_regs, regs.pstate) == 33 * 8);
static_assert(offsetof(kvm_regs, sp_el1) == 34 * 8);
static_assert(offsetof(kvm_regs, elr_el1) == 35 * 8);
static_assert(offsetof(kvm_regs, spsr) == 36 * 8);
static_assert(offsetof(kvm_regs, fp_regs) == 336);
static_assert(offsetof(kvm_regs, fp_regs.vregs) == 336);
static_assert(offsetof(kvm_regs, fp_regs.fpsr) == 336 + 32 * 16);
static_assert(offsetof(kvm_regs, fp_regs.fpcr) == 336 + 32 * 16 + 4);
// The kernel's own id of PC, as api.rst spells it: 0x6030 0000 0010 0040.
static_assert(CoreRegId(offsetof(kvm_regs, regs.pc)) == 0x6030000000100040ull);

inline constexpr size_t kVregsOffset = offsetof(kvm_regs, fp_regs.vregs);
inline constexpr size_t kFpsrOffset = offsetof(kvm_regs, fp_regs.fpsr);
inline constexpr size_t kFpcrOffset = offsetof(kvm_regs, fp_regs.fpcr);

// System registers: KVM_REG_ARM64_SYSREG | op0<<14 | op1<<11 | crn<<7 |
// crm<<3 | op2, the same packing as hv::AArch64Reg::Sys().
inline constexpr uint64_t kSysRegIndexMask = 0xffff;
constexpr uint64_t SysRegId(uint32_t encoding) {
  return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG |
         (encoding & kSysRegIndexMask);
}
static_assert(SysRegId((3 << 14) | (0 << 11) | (0 << 7) | (0 << 3) | 5) ==
              ARM64_SYS_REG(3, 0, 0, 0, 5));  // MPIDR_EL1

// The virtual timer's CVAL and CNT ids are swapped in the uapi: the id whose
// encoding is CNTVCT_EL0's (3,3,14,0,2) reads and writes CNTV_CVAL_EL0 and
// the id with CNTV_CVAL_EL0's encoding (3,3,14,3,2) is the counter. It is
// ABI, so hv maps each architectural encoding to the id that really
// accesses that register (and back, for KVM_GET_REG_LIST).
inline constexpr uint32_t kCntvctEncoding =
    (3 << 14) | (3 << 11) | (14 << 7) | (0 << 3) | 2;
inline constexpr uint32_t kCntvCvalEncoding =
    (3 << 14) | (3 << 11) | (14 << 7) | (3 << 3) | 2;
static_assert(KVM_REG_ARM_TIMER_CNT == SysRegId(kCntvCvalEncoding));
static_assert(KVM_REG_ARM_TIMER_CVAL == SysRegId(kCntvctEncoding));
constexpr uint32_t SwapTimerEncoding(uint32_t encoding) {
  return encoding == kCntvctEncoding     ? kCntvCvalEncoding
         : encoding == kCntvCvalEncoding ? kCntvctEncoding
                                         : encoding;
}

// Firmware pseudo-registers (KVM_REG_ARM_FW), e.g. the PSCI version.
constexpr uint64_t FirmwareRegId(uint32_t index) {
  return KVM_REG_ARM_FW_REG(index);
}
static_assert(FirmwareRegId(0) == KVM_REG_ARM_PSCI_VERSION);

// SVE Z registers: with SVE enabled the V registers are only reachable as
// the low 128 bits of slice 0 of Z0-Z31 (2048 bits each).
constexpr uint64_t SveZRegId(uint32_t n) { return KVM_REG_ARM64_SVE_ZREG(n, 0); }
inline constexpr size_t kSveZRegBytes = 256;

// KVM_GET_REG_LIST: struct kvm_reg_list is a 64-bit count followed by the
// ids. hv lays out the header itself (the uapi's flexible array member is a
// GNU extension in C++) and checks that the request number matches.
struct RegListHeader {
  uint64_t n;
};
static_assert(sizeof(RegListHeader) == 8);
inline constexpr unsigned long kGetRegList = _IOWR(KVMIO, 0xb0, RegListHeader);
static_assert(kGetRegList == 0xc008aeb0);
static_assert(kGetRegList == KVM_GET_REG_LIST);
// A vCPU lists a few hundred registers; more than this is refused.
inline constexpr uint64_t kMaxRegList = 1 << 16;

// KVM_ARM_SET_COUNTER_OFFSET (Linux 6.4, after Debian 12's headers): a
// VM-wide offset subtracted from the counters every vCPU sees, announced
// by KVM_CAP_COUNTER_OFFSET.
inline constexpr int kCapCounterOffset = 227;
struct CounterOffset {
  uint64_t counter_offset;
  uint64_t reserved;
};
static_assert(sizeof(CounterOffset) == 16);
inline constexpr unsigned long kSetCounterOffset =
    _IOW(KVMIO, 0xb5, CounterOffset);
static_assert(kSetCounterOffset == 0x4010aeb5);

// KVM_IRQ_LINE on arm64 (api.rst): irq_type in bits 27:24, the vCPU index
// in 23:16 (PPIs only), the INTID in 15:0. SPIs are INTID 32 and up.
constexpr uint32_t SpiIrqLine(uint32_t spi) {
  return (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) |
         ((spi + 32) << KVM_ARM_IRQ_NUM_SHIFT);
}
static_assert(SpiIrqLine(5) == ((1u << 24) | 37u));

// The GICv3 ITS device (devices/arm-vgic-its.rst): KVM_DEV_TYPE_ARM_VGIC_ITS,
// its frames' base through KVM_DEV_ARM_VGIC_GRP_ADDR / KVM_VGIC_ITS_ADDR_TYPE
// (64 KiB aligned, two 64 KiB frames), KVM_DEV_ARM_VGIC_GRP_CTRL for INIT
// and the table save/restore, and its registers through
// KVM_DEV_ARM_VGIC_GRP_ITS_REGS by offset from the control frame, always
// as a 64-bit value. KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES is on the
// vGICv3 device (arm-vgic-v3.rst).
static_assert(KVM_VGIC_ITS_ADDR_TYPE == 4);
// The frames' sizes (the uapi spells them with the kernel-only SZ_64K):
// KVM_VGIC_V3_DIST_SIZE, KVM_VGIC_V3_REDIST_SIZE (per vCPU) and
// KVM_VGIC_V3_ITS_SIZE.
inline constexpr uint64_t kGicV3DistSize = 0x10000;
inline constexpr uint64_t kGicV3RedistSize = 0x20000;
inline constexpr uint64_t kItsSize = 0x20000;
// The GICv2 distributor's and CPU interface's frames (asm/kvm.h's
// KVM_VGIC_V2_DIST_SIZE and KVM_VGIC_V2_CPU_SIZE).
inline constexpr uint64_t kGicV2DistSize = 0x1000;
inline constexpr uint64_t kGicV2CpuSize = 0x2000;
static_assert(KVM_VGIC_V2_DIST_SIZE == kGicV2DistSize);
static_assert(KVM_VGIC_V2_CPU_SIZE == kGicV2CpuSize);
static_assert(KVM_DEV_ARM_VGIC_GRP_ITS_REGS == 8);
static_assert(KVM_DEV_ARM_VGIC_CTRL_INIT == 0);
static_assert(KVM_DEV_ARM_ITS_SAVE_TABLES == 1);
static_assert(KVM_DEV_ARM_ITS_RESTORE_TABLES == 2);
static_assert(KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES == 3);
static_assert(KVM_DEV_ARM_ITS_CTRL_RESET == 4);
inline constexpr uint64_t kItsAlignment = 0x10000;
// ITS register offsets (Arm IHI 0069, Table 12-37).
inline constexpr uint64_t kGitsCtlr = 0x0000;
inline constexpr uint64_t kGitsIidr = 0x0004;
inline constexpr uint64_t kGitsCbaser = 0x0080;
inline constexpr uint64_t kGitsCwriter = 0x0088;
inline constexpr uint64_t kGitsCreadr = 0x0090;
constexpr uint64_t GitsBaser(uint32_t n) { return 0x0100 + 8 * n; }
inline constexpr uint32_t kGitsBasers = 8;
// GITS_TRANSLATER, in the second (translation) frame: the MSI doorbell.
inline constexpr uint64_t kGitsTranslater = 0x10040;

// Structs the backend hands the kernel (api.rst layouts).
static_assert(sizeof(kvm_vcpu_init) == 32);
static_assert(sizeof(kvm_one_reg) == 16);
static_assert(sizeof(kvm_create_device) == 12);
static_assert(sizeof(kvm_regs) == 336 + 32 * 16 + 16);

// DBGBCR<n>_EL1 for an unlinked instruction-address breakpoint that
// matches at EL1 and EL0 (Arm ARM D13.3.2): E (bit 0) = 1, PMC (bits 2:1)
// = 0b11, BAS (bits 8:5) = 0b1111 (the whole A64 instruction), HMC, SSC
// and BT (unlinked address match) zero.
inline constexpr uint64_t kArmBreakpointOnAddress = 1 | (3 << 1) | (0xf << 5);
static_assert(sizeof(kvm_guest_debug_arch) == 4 * 16 * 8);

}  // namespace hv::kvm_abi

#endif  // HV_HYPERVISOR_KVM_KVM_ABI_AARCH64_H_
