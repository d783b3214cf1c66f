// GunyahVcpu's VcpuAArch64 part: Gunyah keeps vCPU state from the host.
#include "absl/strings/str_format.h"
#include "hypervisor/gunyah/gunyah_abi.h"
#include "hypervisor/gunyah/gunyah_vcpu.h"
#include "hypervisor/gunyah/gunyah_vm_core.h"

namespace hv {

namespace abi = gunyah_abi;

namespace {

absl::Status NotHostAccessible(const char* operation, uint32_t id) {
  return absl::UnimplementedError(absl::StrFormat(
      "%s (vCPU %u): Gunyah does not let the host read or change a VM's "
      "vCPU registers",
      operation, id));
}

absl::Status NeedsInit(const char* operation, uint32_t id) {
  return absl::FailedPreconditionError(
      absl::StrFormat("%s: vCPU %u must be Init()ed first", operation, id));
}

}  // namespace

bool GunyahVcpu::SupportsFeature(VcpuFeature feature) const {
  // Gunyah gives every vCPU PSCI (crosvm describes it as PSCI 0.2); the
  // other features are decided by Gunyah, not requested by user space.
  return feature == VcpuFeature::kPsci0_2;
}

absl::Status GunyahVcpu::Init(absl::Span<const VcpuFeature> features) {
  for (VcpuFeature feature : features) {
    if (!SupportsFeature(feature)) {
      return absl::UnimplementedError(absl::StrFormat(
          "init vCPU %u: feature %s is not something Gunyah lets user space "
          "choose",
          id_, VcpuFeatureName(feature)));
    }
  }
  // Gunyah resets its vCPUs itself when the VM starts; nothing to call.
  initialized_ = true;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> GunyahVcpu::GetOneReg(AArch64Reg reg) {
  if (!initialized_) return NeedsInit("get register", id_);
  return absl::UnimplementedError(absl::StrFormat(
      "get %s (vCPU %u): Gunyah does not let the host read a VM's vCPU "
      "registers",
      AArch64RegName(reg), id_));
}

absl::Status GunyahVcpu::SetOneReg(AArch64Reg reg, uint64_t value) {
  if (!initialized_) return NeedsInit("set register", id_);
  const std::string name = AArch64RegName(reg);
  uint32_t boot_reg = 0;
  if (reg.kind == AArch64Reg::Kind::kCore && reg.index <= 30) {
    boot_reg = abi::BootContextReg(abi::kBootContextSetX, reg.index);
  } else if (reg == AArch64Reg::Pc()) {
    boot_reg = abi::BootContextReg(abi::kBootContextSetPc, 0);
  } else {
    return absl::UnimplementedError(absl::StrFormat(
        "set %s (vCPU %u): Gunyah lets the host set only x0-x30 and pc of "
        "the boot vCPU, before the VM starts",
        name, id_));
  }
  if (id_ != 0) {
    return absl::UnimplementedError(absl::StrFormat(
        "set %s (vCPU %u): Gunyah's boot context covers only the boot vCPU "
        "(0); the others start through PSCI CPU_ON",
        name, id_));
  }
  return vm_->SetBootRegister(boot_reg, value, name.c_str());
}

absl::StatusOr<absl::uint128> GunyahVcpu::GetVectorReg(uint32_t) {
  if (!initialized_) return NeedsInit("get vector register", id_);
  return NotHostAccessible("get vector register", id_);
}

absl::Status GunyahVcpu::SetVectorReg(uint32_t, absl::uint128) {
  if (!initialized_) return NeedsInit("set vector register", id_);
  return NotHostAccessible("set vector register", id_);
}

absl::StatusOr<std::vector<std::pair<AArch64Reg, uint64_t>>>
GunyahVcpu::GetSystemRegs() {
  if (!initialized_) return NeedsInit("get system registers", id_);
  return NotHostAccessible("get system registers", id_);
}

absl::StatusOr<uint64_t> GunyahVcpu::GetMpidr() {
  if (!initialized_) return NeedsInit("get MPIDR_EL1", id_);
  return NotHostAccessible("get MPIDR_EL1", id_);
}

absl::StatusOr<PsciVersion> GunyahVcpu::GetPsciVersion() {
  if (!initialized_) return NeedsInit("get PSCI version", id_);
  // Not queryable: the version crosvm's Gunyah backend reports (PSCI_0_2),
  // which Gunyah's PSCI implements.
  return PsciVersion{0, 2};
}

absl::Status GunyahVcpu::InitPmu(uint32_t irq) {
  return absl::UnimplementedError(absl::StrFormat(
      "init PMU (vCPU %u, irq %u): Gunyah offers no guest PMU to set up",
      id_, irq));
}

absl::Status GunyahVcpu::InitPvtime(GuestAddress address) {
  return absl::UnimplementedError(absl::StrFormat(
      "init stolen-time at %#x (vCPU %u): Gunyah offers no PVTIME", address,
      id_));
}

}  // namespace hv
