// Register vocabulary for aarch64 vCPUs: hv's own register ids (backends
// translate them to their ABI's ids at their edge), vCPU features, the PSCI
// version and the GIC configuration.
//
// Example:
//   ASSIGN_OR_RETURN(uint64_t pc, vcpu->GetOneReg(hv::AArch64Reg::Pc()));
//   RETURN_IF_ERROR(vcpu->SetOneReg(hv::AArch64Reg::X(0), dtb_address));
//   ASSIGN_OR_RETURN(uint64_t sctlr,
//                    vcpu->GetOneReg(hv::AArch64Reg::Sys(3, 0, 1, 0, 0)));
#ifndef HV_HYPERVISOR_AARCH64_REGS_H_
#define HV_HYPERVISOR_AARCH64_REGS_H_

#include <array>
#include <cstdint>
#include <vector>
#include <string>

#include "hypervisor/memory.h"

namespace hv {

// AArch64Reg: one 64-bit register of an aarch64 vCPU.
struct AArch64Reg {
  enum class Kind : uint8_t {
    kCore,      // index: 0-30 x0-x30, see the constants below for the rest
    kSystem,    // index: the MRS/MSR encoding, see Sys()
    kFpSimd,    // index: 32 fpsr, 33 fpcr (the V registers are 128-bit:
                // VcpuAArch64::GetVectorReg)
    kFirmware,  // index: 0 the PSCI version the vCPU reports
  };
  Kind kind = Kind::kCore;
  uint32_t index = 0;

  // Core register indices past x30.
  static constexpr uint32_t kSpIndex = 31;      // SP_EL0
  static constexpr uint32_t kPcIndex = 32;
  static constexpr uint32_t kPstateIndex = 33;  // SPSR-format PSTATE
  static constexpr uint32_t kSpEl1Index = 34;
  static constexpr uint32_t kElrEl1Index = 35;
  static constexpr uint32_t kSpsrEl1Index = 36;
  static constexpr uint32_t kFpsrIndex = 32;
  static constexpr uint32_t kFpcrIndex = 33;

  static constexpr AArch64Reg X(uint32_t n) { return {Kind::kCore, n}; }
  static constexpr AArch64Reg Sp() { return {Kind::kCore, kSpIndex}; }
  static constexpr AArch64Reg Pc() { return {Kind::kCore, kPcIndex}; }
  static constexpr AArch64Reg Pstate() { return {Kind::kCore, kPstateIndex}; }
  static constexpr AArch64Reg SpEl1() { return {Kind::kCore, kSpEl1Index}; }
  static constexpr AArch64Reg ElrEl1() { return {Kind::kCore, kElrEl1Index}; }
  static constexpr AArch64Reg SpsrEl1() { return {Kind::kCore, kSpsrEl1Index}; }
  static constexpr AArch64Reg Fpsr() { return {Kind::kFpSimd, kFpsrIndex}; }
  static constexpr AArch64Reg Fpcr() { return {Kind::kFpSimd, kFpcrIndex}; }
  static constexpr AArch64Reg PsciVersion() { return {Kind::kFirmware, 0}; }
  // A system register by its MRS/MSR operands (Arm ARM C5.3): the index is
  // op0<<14 | op1<<11 | crn<<7 | crm<<3 | op2, as in the MRS encoding.
  static constexpr AArch64Reg Sys(uint32_t op0, uint32_t op1, uint32_t crn,
                                  uint32_t crm, uint32_t op2) {
    return {Kind::kSystem,
            (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2};
  }

  friend bool operator==(AArch64Reg a, AArch64Reg b) {
    return a.kind == b.kind && a.index == b.index;
  }
  friend bool operator!=(AArch64Reg a, AArch64Reg b) { return !(a == b); }
};

// AArch64RegName(): "x3", "pc", "sys(3,0,1,0,0)", ... for messages.
std::string AArch64RegName(AArch64Reg reg);

// System registers the API names (Arm ARM D17 encodings).
namespace aarch64_sys {
inline constexpr AArch64Reg kMpidrEl1 = AArch64Reg::Sys(3, 0, 0, 0, 5);
inline constexpr AArch64Reg kSctlrEl1 = AArch64Reg::Sys(3, 0, 1, 0, 0);
inline constexpr AArch64Reg kTtbr0El1 = AArch64Reg::Sys(3, 0, 2, 0, 0);
inline constexpr AArch64Reg kTcrEl1 = AArch64Reg::Sys(3, 0, 2, 0, 2);
inline constexpr AArch64Reg kMairEl1 = AArch64Reg::Sys(3, 0, 10, 2, 0);
inline constexpr AArch64Reg kVbarEl1 = AArch64Reg::Sys(3, 0, 12, 0, 0);
inline constexpr AArch64Reg kTpidrEl1 = AArch64Reg::Sys(3, 0, 13, 0, 4);
inline constexpr AArch64Reg kCntkctlEl1 = AArch64Reg::Sys(3, 0, 14, 1, 0);
inline constexpr AArch64Reg kCntvCtlEl0 = AArch64Reg::Sys(3, 3, 14, 3, 1);
inline constexpr AArch64Reg kCntvCvalEl0 = AArch64Reg::Sys(3, 3, 14, 3, 2);
inline constexpr AArch64Reg kCntvctEl0 = AArch64Reg::Sys(3, 3, 14, 0, 2);
}  // namespace aarch64_sys

// VcpuFeature: what VcpuAArch64::Init asks the hypervisor to give a vCPU.
enum class VcpuFeature {
  kPsci0_2,          // PSCI 0.2+ calls (otherwise PSCI 0.1)
  kPowerOff,         // start powered off (secondary CPUs wait for CPU_ON)
  kPmuV3,            // a PMUv3; needs VcpuAArch64::InitPmu after Init
  kSve,              // SVE (where the hypervisor offers it)
  kPtrAuthAddress,   // pointer authentication, address keys
  kPtrAuthGeneric,   // pointer authentication, generic key
};
const char* VcpuFeatureName(VcpuFeature feature);

// PsciVersion: the PSCI version a vCPU's firmware interface reports.
struct PsciVersion {
  uint16_t major = 0;
  uint16_t minor = 0;
};

// GicConfig: the interrupt controller VmAArch64::CreateGic makes.
struct GicConfig {
  enum class Version { kV2, kV3 };
  Version version = Version::kV3;
  GuestAddress distributor_base = 0;  // 64 KiB
  // v3: the redistributor region (128 KiB per vCPU); v2: the CPU interface
  // (8 KiB).
  GuestAddress redistributor_or_cpu_base = 0;
  // Interrupt lines including the 32 private ones (a multiple of 32,
  // 64..1024).
  uint32_t num_irqs = 64;
};

// GicState: a GICv3's state as the guest could see it in its registers,
// for saving a VM and restoring it into another with the same GicConfig
// and vCPUs (VmAArch64::GetGicState). Offsets are those of the GICv3
// architecture (Arm IHI 0069, Section 12.8: distributor from its base,
// redistributor from RD_base, its SGI frame at 0x10000); 64-bit registers
// appear as two 32-bit words. The pending bits are the latched state and
// `line_levels` the input lines (bit n of word k: INTID 32 * k + n), so
// level-triggered interrupts come back exactly.
struct GicState {
  struct Register {
    uint32_t offset = 0;
    uint32_t value = 0;
  };
  // A CPU interface register, by its A64 encoding op0:op1:CRn:CRm:op2
  // (bits 15:14, 13:11, 10:7, 6:3, 2:0).
  struct SysReg {
    uint16_t encoding = 0;
    uint64_t value = 0;
  };
  struct Cpu {
    uint64_t mpidr = 0;
    std::vector<Register> redistributor;
    std::vector<SysReg> cpu_interface;
    uint32_t ppi_line_levels = 0;  // INTIDs 0-31 (SGIs read as 0)
  };
  std::vector<Register> distributor;
  std::vector<uint32_t> line_levels;  // from INTID 32, one word per 32
  std::vector<Cpu> cpus;
};

// GicItsState: the registers of a GICv3 ITS (Arm IHI 0069, Section 12.19,
// offsets from GITS_CTLR) that, with the tables the ITS keeps in guest
// memory, make its state (VmAArch64::GetGicItsState). The translations
// themselves (device, collection and interrupt translation tables) are not
// here: they are written into the guest memory the guest gave the ITS
// (GITS_BASER<n>, the ITT addresses of its MAPD commands), so they travel
// with the guest's memory.
struct GicItsState {
  // Where the ITS's frames were (VmAArch64::CreateGicIts): the guest's
  // doorbell writes go there, so the ITS it is restored into must be too.
  GuestAddress base = 0;
  uint64_t iidr = 0;     // GITS_IIDR (0x0004): the revision names the
                         // layout of the tables in guest memory
  uint64_t ctlr = 0;     // GITS_CTLR (0x0000): bit 0 Enabled
  uint64_t cbaser = 0;   // GITS_CBASER (0x0080): the command queue
  uint64_t cwriter = 0;  // GITS_CWRITER (0x0088)
  uint64_t creadr = 0;   // GITS_CREADR (0x0090)
  std::array<uint64_t, 8> baser = {};  // GITS_BASER<n> (0x0100 + 8n)
};

}  // namespace hv

#endif  // HV_HYPERVISOR_AARCH64_REGS_H_
