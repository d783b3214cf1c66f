#include "hypervisor/aarch64/regs.h"

#include "absl/strings/str_cat.h"

namespace hv {

std::string AArch64RegName(AArch64Reg reg) {
  switch (reg.kind) {
    case AArch64Reg::Kind::kCore:
      if (reg.index <= 30) return absl::StrCat("x", reg.index);
      switch (reg.index) {
        case AArch64Reg::kSpIndex: return "sp";
        case AArch64Reg::kPcIndex: return "pc";
        case AArch64Reg::kPstateIndex: return "pstate";
        case AArch64Reg::kSpEl1Index: return "sp_el1";
        case AArch64Reg::kElrEl1Index: return "elr_el1";
        case AArch64Reg::kSpsrEl1Index: return "spsr_el1";
      }
      return absl::StrCat("core(", reg.index, ")");
    case AArch64Reg::Kind::kSystem:
      return absl::StrCat("sys(", (reg.index >> 14) & 3, ",",
                          (reg.index >> 11) & 7, ",", (reg.index >> 7) & 15,
                          ",", (reg.index >> 3) & 15, ",", reg.index & 7, ")");
    case AArch64Reg::Kind::kFpSimd:
      if (reg.index == AArch64Reg::kFpsrIndex) return "fpsr";
      if (reg.index == AArch64Reg::kFpcrIndex) return "fpcr";
      return absl::StrCat("fpsimd(", reg.index, ")");
    case AArch64Reg::Kind::kFirmware:
      if (reg.index == 0) return "psci_version";
      return absl::StrCat("firmware(", reg.index, ")");
  }
  return "unknown";
}

const char* VcpuFeatureName(VcpuFeature feature) {
  switch (feature) {
    case VcpuFeature::kPsci0_2: return "psci-0.2";
    case VcpuFeature::kPowerOff: return "power-off";
    case VcpuFeature::kPmuV3: return "pmu-v3";
    case VcpuFeature::kSve: return "sve";
    case VcpuFeature::kPtrAuthAddress: return "ptrauth-address";
    case VcpuFeature::kPtrAuthGeneric: return "ptrauth-generic";
  }
  return "unknown";
}

}  // namespace hv
