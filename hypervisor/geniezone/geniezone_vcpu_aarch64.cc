// GeniezoneVcpu's VcpuAArch64 part: features and one-reg register access.
#include <cstddef>

#include "absl/strings/str_format.h"
#include "hypervisor/geniezone/geniezone_abi.h"
#include "hypervisor/geniezone/geniezone_vcpu.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/status_macros.h"

namespace hv {
namespace {

using geniezone_abi::CoreRegId;
using geniezone_abi::kRegSizeU32;
using geniezone_abi::kRegSizeU64;
using geniezone_abi::Regs;

// System registers the one-reg ABI keeps in the core block (gzvm_regs), as
// KVM's does: their MRS encodings.
constexpr uint32_t kSpsrEl1 = AArch64Reg::Sys(3, 0, 4, 0, 0).index;
constexpr uint32_t kElrEl1 = AArch64Reg::Sys(3, 0, 4, 0, 1).index;
constexpr uint32_t kSpEl1 = AArch64Reg::Sys(3, 4, 4, 1, 0).index;
constexpr uint32_t kFpcr = AArch64Reg::Sys(3, 3, 4, 4, 0).index;
constexpr uint32_t kFpsr = AArch64Reg::Sys(3, 3, 4, 4, 1).index;

// PSCI 0.2: what crosvm's Geniezone backend reports; the hypervisor
// implements PSCI itself and the ABI has no register to ask it.
constexpr PsciVersion kGeniezonePsci = {0, 2};

// GetVectorReg / SetVectorReg: INVALID_ARGUMENT for a register past v31,
// else UNIMPLEMENTED (Q registers are 128 bits wide).
absl::Status VectorRegUnavailable(const char* operation, uint32_t n) {
  if (n >= 32) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s v%u: there are v0..v31", operation, n));
  }
  return absl::UnimplementedError(absl::StrFormat(
      "%s v%u: Geniezone's one-reg ioctls carry at most 64 bits", operation,
      n));
}

}  // namespace

bool GeniezoneVcpu::SupportsFeature(VcpuFeature feature) const {
  // Geniezone's in-hypervisor PSCI answers 0.2+ calls; it offers no PMU,
  // SVE, pointer authentication or powered-off start to user space.
  return feature == VcpuFeature::kPsci0_2;
}

absl::Status GeniezoneVcpu::Init(absl::Span<const VcpuFeature> features) {
  for (VcpuFeature feature : features) {
    if (!SupportsFeature(feature)) {
      return absl::UnimplementedError(absl::StrFormat(
          "init vCPU %u: Geniezone does not offer feature %s", id_,
          VcpuFeatureName(feature)));
    }
  }
  if (initialized_) {
    return absl::UnimplementedError(absl::StrFormat(
        "init vCPU %u again: Geniezone cannot reset a vCPU (it has no "
        "VCPU_INIT; a vCPU is in its reset state once, when created)",
        id_));
  }
  initialized_ = true;
  return absl::OkStatus();
}

absl::Status GeniezoneVcpu::CheckInitialized(const char* operation) const {
  if (!initialized_) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: vCPU %u is not initialised (call Init first)", operation, id_));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::pair<uint64_t, uint32_t>> GeniezoneVcpu::RegId(
    const char* operation, AArch64Reg reg) const {
  auto core64 = [](size_t offset) {
    return std::make_pair(CoreRegId(kRegSizeU64, offset), uint32_t{8});
  };
  auto core32 = [](size_t offset) {
    return std::make_pair(CoreRegId(kRegSizeU32, offset), uint32_t{4});
  };
  switch (reg.kind) {
    case AArch64Reg::Kind::kCore:
      if (reg.index <= 30) return core64(offsetof(Regs, x) + 8 * reg.index);
      switch (reg.index) {
        case AArch64Reg::kSpIndex: return core64(offsetof(Regs, sp));
        case AArch64Reg::kPcIndex: return core64(offsetof(Regs, pc));
        case AArch64Reg::kPstateIndex: return core64(offsetof(Regs, pstate));
        case AArch64Reg::kSpEl1Index: return core64(offsetof(Regs, sp_el1));
        case AArch64Reg::kElrEl1Index: return core64(offsetof(Regs, elr_el1));
        case AArch64Reg::kSpsrEl1Index: return core64(offsetof(Regs, spsr));
      }
      break;
    case AArch64Reg::Kind::kFpSimd:
      if (reg.index == AArch64Reg::kFpsrIndex) return core32(offsetof(Regs, fpsr));
      if (reg.index == AArch64Reg::kFpcrIndex) return core32(offsetof(Regs, fpcr));
      break;
    case AArch64Reg::Kind::kSystem:
      if (reg.index > 0xffff) break;
      switch (reg.index) {
        case kSpsrEl1: return core64(offsetof(Regs, spsr));
        case kElrEl1: return core64(offsetof(Regs, elr_el1));
        case kSpEl1: return core64(offsetof(Regs, sp_el1));
        case kFpcr: return core32(offsetof(Regs, fpcr));
        case kFpsr: return core32(offsetof(Regs, fpsr));
      }
      return std::make_pair(geniezone_abi::SysRegId(reg.index), uint32_t{8});
    case AArch64Reg::Kind::kFirmware:
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s %s: Geniezone's register ABI has no firmware (PSCI) registers",
          operation, AArch64RegName(reg)));
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: %s has no Geniezone register id", operation, AArch64RegName(reg)));
}

absl::StatusOr<uint64_t> GeniezoneVcpu::GetOneReg(AArch64Reg reg) {
  RETURN_IF_ERROR(CheckInitialized("get register"));
  ASSIGN_OR_RETURN(auto id, RegId("get register", reg));
  uint64_t value64 = 0;
  uint32_t value32 = 0;
  geniezone_abi::OneReg request = {};
  request.id = id.first;
  request.addr = id.second == 8 ? reinterpret_cast<uintptr_t>(&value64)
                                : reinterpret_cast<uintptr_t>(&value32);
  if (sys_->IoctlPtr(fd_.get(), geniezone_abi::kGetOneReg, &request) < 0) {
    return ErrnoStatus(absl::StrFormat("GZVM_GET_ONE_REG (%s, id %#x)",
                                       AArch64RegName(reg), id.first));
  }
  return id.second == 8 ? value64 : value32;
}

absl::Status GeniezoneVcpu::SetOneReg(AArch64Reg reg, uint64_t value) {
  RETURN_IF_ERROR(CheckInitialized("set register"));
  ASSIGN_OR_RETURN(auto id, RegId("set register", reg));
  if (id.second == 4 && value > 0xffffffffu) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "set register %s: %#x does not fit its 32 bits", AArch64RegName(reg),
        value));
  }
  uint64_t value64 = value;
  uint32_t value32 = static_cast<uint32_t>(value);
  geniezone_abi::OneReg request = {};
  request.id = id.first;
  request.addr = id.second == 8 ? reinterpret_cast<uintptr_t>(&value64)
                                : reinterpret_cast<uintptr_t>(&value32);
  if (sys_->IoctlPtr(fd_.get(), geniezone_abi::kSetOneReg, &request) < 0) {
    return ErrnoStatus(absl::StrFormat("GZVM_SET_ONE_REG (%s, id %#x)",
                                       AArch64RegName(reg), id.first));
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::uint128> GeniezoneVcpu::GetVectorReg(uint32_t n) {
  return VectorRegUnavailable("get vector register", n);
}

absl::Status GeniezoneVcpu::SetVectorReg(uint32_t n, absl::uint128) {
  return VectorRegUnavailable("set vector register", n);
}

absl::StatusOr<std::vector<std::pair<AArch64Reg, uint64_t>>>
GeniezoneVcpu::GetSystemRegs() {
  return absl::UnimplementedError(
      "get system registers: Geniezone has no register-list ioctl");
}

absl::StatusOr<uint64_t> GeniezoneVcpu::GetMpidr() {
  return GetOneReg(aarch64_sys::kMpidrEl1);
}

absl::StatusOr<PsciVersion> GeniezoneVcpu::GetPsciVersion() {
  RETURN_IF_ERROR(CheckInitialized("get PSCI version"));
  return kGeniezonePsci;
}

absl::Status GeniezoneVcpu::InitPmu(uint32_t irq) {
  return absl::UnimplementedError(absl::StrFormat(
      "init PMU (irq %u): Geniezone offers no PMU to its guests", irq));
}

absl::Status GeniezoneVcpu::InitPvtime(GuestAddress address) {
  return absl::UnimplementedError(absl::StrFormat(
      "init PVTIME at %#x: Geniezone has no stolen-time interface", address));
}

}  // namespace hv
