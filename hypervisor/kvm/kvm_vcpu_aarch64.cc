// KvmVcpuAArch64: KVM_ARM_VCPU_INIT with features, registers
// through KVM_GET/SET_ONE_REG (core, FP/SIMD, system, firmware), the
// register list, the PMU and PVTIME vCPU attributes. hv's register ids
// (hypervisor/aarch64/regs.h) become KVM ids only here.
#include "hypervisor/kvm/kvm_vcpu_aarch64.h"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <memory>
#include <utility>

#include "absl/strings/str_format.h"
#include "hypervisor/kvm/kvm_abi_aarch64.h"
#include "hypervisor/kvm/kvm_guest_debug.h"
#include "hypervisor/kvm/kvm_ioctl.h"
#include "hypervisor/kvm/kvm_mp_state.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/status_macros.h"

namespace hv {
namespace {

uint32_t FeatureBit(VcpuFeature feature) {
  switch (feature) {
    case VcpuFeature::kPsci0_2: return KVM_ARM_VCPU_PSCI_0_2;
    case VcpuFeature::kPowerOff: return KVM_ARM_VCPU_POWER_OFF;
    case VcpuFeature::kPmuV3: return KVM_ARM_VCPU_PMU_V3;
    case VcpuFeature::kSve: return KVM_ARM_VCPU_SVE;
    case VcpuFeature::kPtrAuthAddress: return KVM_ARM_VCPU_PTRAUTH_ADDRESS;
    case VcpuFeature::kPtrAuthGeneric: return KVM_ARM_VCPU_PTRAUTH_GENERIC;
  }
  return 31;  // not reached: every enumerator is handled above
}

constexpr uint32_t Bit(uint32_t n) { return 1u << n; }

}  // namespace

absl::StatusOr<std::unique_ptr<KvmVcpuAArch64>> KvmVcpuAArch64::Create(
    std::shared_ptr<const KvmDevice> device, int vm_fd, uint32_t id,
    uint32_t target) {
  ASSIGN_OR_RETURN(KvmVcpuFd vcpu, OpenKvmVcpu(*device, vm_fd, id));
  return std::unique_ptr<KvmVcpuAArch64>(
      new KvmVcpuAArch64(std::move(device), std::move(vcpu), id, target));
}

void KvmVcpuAArch64::DecodeDebugExit(const kvm_run& run, VcpuExit& exit) const {
  // arm64's kvm_debug_exit_arch: the exception syndrome and, for
  // watchpoints, the faulting address.
  exit.code = run.debug.arch.hsr;
  exit.data = run.debug.arch.far;
  exit.debug.syndrome = run.debug.arch.hsr;
  exit.debug.address = run.debug.arch.far;
}

absl::Status KvmVcpuAArch64::SetGuestDebug(const GuestDebug& debug) {
  if (device_->caps.guest_debug == 0) {
    return absl::UnimplementedError(
        "set guest debug: this KVM lacks KVM_CAP_SET_GUEST_DEBUG");
  }
  const size_t breakpoints = static_cast<size_t>(
      std::min(device_->caps.arm_hw_breakpoints, KVM_ARM_MAX_DBG_REGS));
  if (debug.hw_breakpoints.size() > breakpoints) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "set guest debug: %u hardware breakpoints; this CPU has %u "
        "(KVM_CAP_GUEST_DEBUG_HW_BPS)",
        debug.hw_breakpoints.size(), breakpoints));
  }
  for (uint64_t address : debug.hw_breakpoints) {
    // DBGBVR<n>_EL1 holds a word-aligned virtual address whose bits above
    // the 49-bit VA range sign-extend it (Arm ARM D13.3.3).
    const uint64_t top = address >> 48;
    if ((address & 3) != 0 || (top != 0 && top != 0xffff)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "set guest debug: breakpoint address %#x is not a word-aligned "
          "virtual address",
          address));
    }
  }
  kvm_guest_debug request = {};
  request.control = KvmGuestDebugControl(debug, KVM_GUESTDBG_USE_HW);
  if (debug.enable) {
    for (size_t i = 0; i < debug.hw_breakpoints.size(); ++i) {
      request.arch.dbg_bvr[i] = debug.hw_breakpoints[i];
      request.arch.dbg_bcr[i] = kvm_abi::kArmBreakpointOnAddress;
    }
  }
  return KvmIoctl(sys_, fd_.get(), KVM_SET_GUEST_DEBUG, &request,
                  "KVM_SET_GUEST_DEBUG");
}

absl::Status KvmVcpuAArch64::CheckRunnable() const {
  return CheckInitialized("run");
}

absl::Status KvmVcpuAArch64::CheckInitialized(const char* operation) const {
  if (!initialized_) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s vCPU %u: the vCPU is not initialised yet (VcpuAArch64::Init, "
        "KVM_ARM_VCPU_INIT)",
        operation, id_));
  }
  return absl::OkStatus();
}

bool KvmVcpuAArch64::SupportsFeature(VcpuFeature feature) const {
  const KvmDeviceCaps& caps = device_->caps;
  switch (feature) {
    case VcpuFeature::kPsci0_2: return caps.arm_psci_0_2 > 0;
    case VcpuFeature::kPowerOff: return true;  // base arm64 KVM API
    case VcpuFeature::kPmuV3: return caps.arm_pmu_v3 > 0;
    case VcpuFeature::kSve: return caps.arm_sve > 0;
    case VcpuFeature::kPtrAuthAddress: return caps.arm_ptrauth_address > 0;
    case VcpuFeature::kPtrAuthGeneric: return caps.arm_ptrauth_generic > 0;
  }
  return false;
}

absl::Status KvmVcpuAArch64::Init(absl::Span<const VcpuFeature> features) {
  uint32_t bits = 0;
  for (VcpuFeature feature : features) {
    if (!SupportsFeature(feature)) {
      return absl::UnimplementedError(absl::StrFormat(
          "init vCPU %u: this KVM does not offer feature %s", id_,
          VcpuFeatureName(feature)));
    }
    bits |= Bit(FeatureBit(feature));
  }
  // api.rst: both pointer-authentication features or neither.
  const uint32_t ptrauth =
      Bit(KVM_ARM_VCPU_PTRAUTH_ADDRESS) | Bit(KVM_ARM_VCPU_PTRAUTH_GENERIC);
  if ((bits & ptrauth) != 0 && (bits & ptrauth) != ptrauth) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "init vCPU %u: KVM needs ptrauth-address and ptrauth-generic "
        "together",
        id_));
  }
  if (initialized_ && bits != init_features_) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "init vCPU %u: already initialised with features %#x; a reset must "
        "ask for the same ones (asked %#x)",
        id_, init_features_, bits));
  }
  kvm_vcpu_init init = {};
  init.target = arm_target_;
  init.features[0] = bits;
  RETURN_IF_ERROR(KvmIoctl(
      sys_, fd_.get(), KVM_ARM_VCPU_INIT, &init,
      absl::StrFormat("KVM_ARM_VCPU_INIT (vCPU %u, target %u, features %#x)",
                      id_, arm_target_, bits)));
  // SVE's vector lengths are fixed by a finalize step, once, after the
  // first init and before the registers or KVM_RUN are used.
  if (!initialized_ && (bits & Bit(KVM_ARM_VCPU_SVE)) != 0) {
    int what = KVM_ARM_VCPU_SVE;
    RETURN_IF_ERROR(KvmIoctl(sys_, fd_.get(), KVM_ARM_VCPU_FINALIZE, &what,
                             "KVM_ARM_VCPU_FINALIZE (SVE)"));
  }
  initialized_ = true;
  init_features_ = bits;
  return absl::OkStatus();
}

absl::StatusOr<std::pair<uint64_t, int>> KvmVcpuAArch64::OneRegId(
    const char* operation, AArch64Reg reg) const {
  const uint32_t i = reg.index;
  switch (reg.kind) {
    case AArch64Reg::Kind::kCore:
      if (i <= 30) {
        return std::make_pair(
            kvm_abi::CoreRegId(offsetof(kvm_regs, regs.regs) + 8 * i), 8);
      }
      switch (i) {
        case AArch64Reg::kSpIndex:
          return std::make_pair(kvm_abi::CoreRegId(offsetof(kvm_regs, regs.sp)), 8);
        case AArch64Reg::kPcIndex:
          return std::make_pair(kvm_abi::CoreRegId(offsetof(kvm_regs, regs.pc)), 8);
        case AArch64Reg::kPstateIndex:
          return std::make_pair(
              kvm_abi::CoreRegId(offsetof(kvm_regs, regs.pstate)), 8);
        case AArch64Reg::kSpEl1Index:
          return std::make_pair(kvm_abi::CoreRegId(offsetof(kvm_regs, sp_el1)), 8);
        case AArch64Reg::kElrEl1Index:
          return std::make_pair(kvm_abi::CoreRegId(offsetof(kvm_regs, elr_el1)), 8);
        case AArch64Reg::kSpsrEl1Index:
          // spsr[KVM_SPSR_EL1] is the first of the banked SPSRs.
          return std::make_pair(
              kvm_abi::CoreRegId(offsetof(kvm_regs, spsr) + 8 * KVM_SPSR_EL1), 8);
      }
      break;
    case AArch64Reg::Kind::kFpSimd:
      if (i == AArch64Reg::kFpsrIndex) {
        return std::make_pair(
            kvm_abi::CoreRegId(kvm_abi::kFpsrOffset, KVM_REG_SIZE_U32), 4);
      }
      if (i == AArch64Reg::kFpcrIndex) {
        return std::make_pair(
            kvm_abi::CoreRegId(kvm_abi::kFpcrOffset, KVM_REG_SIZE_U32), 4);
      }
      break;
    case AArch64Reg::Kind::kSystem:
      // op0 is 2 (debug) or 3 (the rest) for registers; 0 and 1 encode
      // instructions.
      if (i <= kvm_abi::kSysRegIndexMask && (i >> 14) >= 2) {
        return std::make_pair(
            kvm_abi::SysRegId(kvm_abi::SwapTimerEncoding(i)), 8);
      }
      break;
    case AArch64Reg::Kind::kFirmware:
      if (i <= 0xffff) return std::make_pair(kvm_abi::FirmwareRegId(i), 8);
      break;
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s vCPU %u: %s is not a register KVM's ONE_REG interface names "
      "(V registers: GetVectorReg)",
      operation, id_, AArch64RegName(reg)));
}

absl::Status KvmVcpuAArch64::GetRawReg(uint64_t id, void* data,
                                       const char* operation, AArch64Reg reg) {
  return OneRegIoctl(KVM_GET_ONE_REG, "KVM_GET_ONE_REG", id, data, operation,
                     reg);
}

absl::Status KvmVcpuAArch64::SetRawReg(uint64_t id, const void* data,
                                       const char* operation, AArch64Reg reg) {
  return OneRegIoctl(KVM_SET_ONE_REG, "KVM_SET_ONE_REG", id, data, operation,
                     reg);
}

absl::Status KvmVcpuAArch64::OneRegIoctl(unsigned long request,
                                         const char* request_name, uint64_t id,
                                         const void* data,
                                         const char* operation,
                                         AArch64Reg reg) {
  kvm_one_reg one = {};
  one.id = id;
  one.addr = reinterpret_cast<uintptr_t>(data);
  return KvmIoctl(sys_, fd_.get(), request, &one,
                  absl::StrFormat("%s (%s %s, id %#x)", request_name,
                                  operation, AArch64RegName(reg), id));
}

absl::StatusOr<uint64_t> KvmVcpuAArch64::GetOneReg(AArch64Reg reg) {
  ASSIGN_OR_RETURN(auto id_size, OneRegId("get register", reg));
  RETURN_IF_ERROR(CheckInitialized("get register"));
  if (id_size.second == 4) {
    uint32_t value = 0;
    RETURN_IF_ERROR(GetRawReg(id_size.first, &value, "get register", reg));
    return value;
  }
  uint64_t value = 0;
  RETURN_IF_ERROR(GetRawReg(id_size.first, &value, "get register", reg));
  return value;
}

absl::Status KvmVcpuAArch64::SetOneReg(AArch64Reg reg, uint64_t value) {
  ASSIGN_OR_RETURN(auto id_size, OneRegId("set register", reg));
  RETURN_IF_ERROR(CheckInitialized("set register"));
  if (id_size.second == 4) {
    if (value > 0xffffffffu) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "set register vCPU %u: %s is 32 bits wide; %#x does not fit", id_,
          AArch64RegName(reg), value));
    }
    const uint32_t narrow = static_cast<uint32_t>(value);
    return SetRawReg(id_size.first, &narrow, "set register", reg);
  }
  return SetRawReg(id_size.first, &value, "set register", reg);
}

absl::StatusOr<uint64_t> KvmVcpuAArch64::VectorRegId(
    uint32_t n, const char* operation) const {
  if (n >= 32) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s vCPU %u: v%u does not exist (v0-v31)", operation, id_, n));
  }
  RETURN_IF_ERROR(CheckInitialized(operation));
  // With SVE, V<n> is the low 128 bits of Z<n> (api.rst).
  if ((init_features_ & Bit(KVM_ARM_VCPU_SVE)) != 0) {
    return kvm_abi::SveZRegId(n);
  }
  return kvm_abi::CoreRegId(kvm_abi::kVregsOffset + 16 * n, KVM_REG_SIZE_U128);
}

absl::StatusOr<absl::uint128> KvmVcpuAArch64::GetVectorReg(uint32_t n) {
  const char* operation = "get vector register";
  ASSIGN_OR_RETURN(uint64_t id, VectorRegId(n, operation));
  const AArch64Reg name{AArch64Reg::Kind::kFpSimd, n};
  // Little-endian: the low 64 bits first.
  uint64_t halves[kvm_abi::kSveZRegBytes / 8] = {};
  RETURN_IF_ERROR(GetRawReg(id, halves, operation, name));
  return absl::MakeUint128(halves[1], halves[0]);
}

absl::Status KvmVcpuAArch64::SetVectorReg(uint32_t n, absl::uint128 value) {
  const char* operation = "set vector register";
  ASSIGN_OR_RETURN(uint64_t id, VectorRegId(n, operation));
  const AArch64Reg name{AArch64Reg::Kind::kFpSimd, n};
  uint64_t halves[kvm_abi::kSveZRegBytes / 8] = {};
  if ((init_features_ & Bit(KVM_ARM_VCPU_SVE)) != 0) {
    // Keep Z<n>'s bits above 128 (writing V<n> architecturally zeroes
    // them, but this is a register write, not an instruction).
    RETURN_IF_ERROR(GetRawReg(id, halves, operation, name));
  }
  halves[0] = absl::Uint128Low64(value);
  halves[1] = absl::Uint128High64(value);
  return SetRawReg(id, halves, operation, name);
}

absl::StatusOr<std::vector<std::pair<AArch64Reg, uint64_t>>>
KvmVcpuAArch64::GetSystemRegs() {
  RETURN_IF_ERROR(CheckInitialized("get system registers"));
  // First ask how many ids there are: with n = 0 the kernel answers E2BIG
  // and writes the count.
  kvm_abi::RegListHeader probe = {};
  if (sys_->IoctlPtr(fd_.get(), kvm_abi::kGetRegList, &probe) < 0 &&
      errno != E2BIG) {
    return ErrnoStatus("KVM_GET_REG_LIST (count)");
  }
  if (probe.n > kvm_abi::kMaxRegList) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "KVM_GET_REG_LIST: %u registers, more than hv reads (%u)", probe.n,
        kvm_abi::kMaxRegList));
  }
  kvm_abi::FlexBuffer<kvm_abi::RegListHeader, uint64_t> list(probe.n);
  list.header()->n = probe.n;
  RETURN_IF_ERROR(KvmIoctl(sys_, fd_.get(), kvm_abi::kGetRegList, list.data(),
                           "KVM_GET_REG_LIST"));
  const uint64_t count = std::min<uint64_t>(list.header()->n, probe.n);
  std::vector<std::pair<AArch64Reg, uint64_t>> result;
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t id = list.entries()[i];
    if ((id & kvm_abi::kRegGroupMask) != KVM_REG_ARM64_SYSREG ||
        (id & KVM_REG_SIZE_MASK) != KVM_REG_SIZE_U64) {
      continue;
    }
    // The id's index, with the timer ids' swap undone (kvm_abi_aarch64.h).
    const AArch64Reg reg{AArch64Reg::Kind::kSystem,
                         kvm_abi::SwapTimerEncoding(
                             static_cast<uint32_t>(id & kvm_abi::kSysRegIndexMask))};
    uint64_t value = 0;
    RETURN_IF_ERROR(GetRawReg(id, &value, "get system registers", reg));
    result.emplace_back(reg, value);
  }
  return result;
}

absl::StatusOr<uint64_t> KvmVcpuAArch64::GetMpidr() {
  return GetOneReg(aarch64_sys::kMpidrEl1);
}

absl::StatusOr<PsciVersion> KvmVcpuAArch64::GetPsciVersion() {
  ASSIGN_OR_RETURN(uint64_t value, GetOneReg(AArch64Reg::PsciVersion()));
  // PSCI_VERSION's encoding: major in bits 31:16, minor in 15:0.
  PsciVersion version;
  version.major = static_cast<uint16_t>((value >> 16) & 0x7fff);
  version.minor = static_cast<uint16_t>(value & 0xffff);
  return version;
}

absl::Status KvmVcpuAArch64::SetVcpuAttr(uint32_t group, uint64_t attr,
                                         const void* value,
                                         const char* operation) {
  return KvmSetDeviceAttr(
      sys_, fd_.get(), group, attr, value,
      absl::StrFormat("KVM_SET_DEVICE_ATTR (vCPU %u, %s)", id_, operation));
}

absl::Status KvmVcpuAArch64::InitPmu(uint32_t irq) {
  RETURN_IF_ERROR(CheckInitialized("init PMU"));
  if ((init_features_ & Bit(KVM_ARM_VCPU_PMU_V3)) == 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "init PMU vCPU %u: the vCPU was initialised without %s", id_,
        VcpuFeatureName(VcpuFeature::kPmuV3)));
  }
  if (irq < 16 || irq > 31) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "init PMU vCPU %u: interrupt %u is not a PPI (16-31)", id_, irq));
  }
  const int line = static_cast<int>(irq);
  RETURN_IF_ERROR(SetVcpuAttr(KVM_ARM_VCPU_PMU_V3_CTRL, KVM_ARM_VCPU_PMU_V3_IRQ,
                              &line, "KVM_ARM_VCPU_PMU_V3_IRQ"));
  const kvm_device_attr request = kvm_abi::DeviceAttr(
      KVM_ARM_VCPU_PMU_V3_CTRL, KVM_ARM_VCPU_PMU_V3_INIT, nullptr);
  if (sys_->IoctlPtr(fd_.get(), KVM_SET_DEVICE_ATTR, &request) < 0) {
    const int error = errno;
    if (error == ENODEV) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "KVM_SET_DEVICE_ATTR (vCPU %u, KVM_ARM_VCPU_PMU_V3_INIT): the GIC "
          "must be finalised first (VmAArch64::FinalizeGic)",
          id_));
    }
    return ErrnoStatus(
        absl::StrFormat("KVM_SET_DEVICE_ATTR (vCPU %u, KVM_ARM_VCPU_PMU_V3_INIT)", id_),
        error);
  }
  return absl::OkStatus();
}

bool KvmVcpuAArch64::HasPvtime() const { return device_->caps.steal_time > 0; }

absl::Status KvmVcpuAArch64::InitPvtime(GuestAddress address) {
  if (!HasPvtime()) {
    return absl::UnimplementedError(absl::StrFormat(
        "init PVTIME vCPU %u: this KVM lacks KVM_CAP_STEAL_TIME", id_));
  }
  RETURN_IF_ERROR(CheckInitialized("init PVTIME"));
  // The stolen-time structure is 64 bytes, 64-byte aligned (DEN0057A).
  if (address % 64 != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "init PVTIME vCPU %u: address %#x is not 64-byte aligned", id_,
        address));
  }
  const uint64_t ipa = address;
  return SetVcpuAttr(KVM_ARM_VCPU_PVTIME_CTRL, KVM_ARM_VCPU_PVTIME_IPA, &ipa,
                     "KVM_ARM_VCPU_PVTIME_IPA");
}

absl::StatusOr<MpState> KvmVcpuAArch64::GetMpState() {
  return GetKvmMpState(*device_, fd_.get(), MpArch::kArm64);
}

absl::Status KvmVcpuAArch64::SetMpState(MpState state) {
  return SetKvmMpState(*device_, fd_.get(), MpArch::kArm64, state);
}

}  // namespace hv
