#include "hypervisor/user_irqchip_vm.h"

#include "absl/strings/str_format.h"

namespace hv {

absl::Status UserIrqchipVm::CreateIrqChip(IrqChipKind kind, uint32_t) {
  return absl::UnimplementedError(absl::StrFormat(
      "create irqchip (%s): hv gives a %s VM no in-kernel PIC, IOAPIC or "
      "local APIC; emulate them and inject interrupts with "
      "VcpuX86_64::InjectInterrupt",
      kind == IrqChipKind::kKernel ? "kernel" : "split", hypervisor()));
}

absl::StatusOr<std::vector<CpuidEntry>> UserIrqchipVm::GetSupportedCpuid() {
  return absl::UnimplementedError(absl::StrFormat(
      "get supported CPUID: %s has no call listing the CPUID results it "
      "supports; SetCpuid answers the leaves it is given",
      hypervisor()));
}

// The hypervisor runs real mode itself and needs neither a TSS nor an
// identity-map page from the VMM: both succeed without a call.
absl::Status UserIrqchipVm::SetTssAddress(GuestAddress) {
  return absl::OkStatus();
}

absl::Status UserIrqchipVm::SetIdentityMapAddress(GuestAddress) {
  return absl::OkStatus();
}

absl::StatusOr<ClockState> UserIrqchipVm::GetClock() {
  return absl::UnimplementedError(absl::StrFormat(
      "get clock: %s has no kvmclock-style VM clock", hypervisor()));
}

absl::Status UserIrqchipVm::SetClock(const ClockState&) {
  return absl::UnimplementedError(absl::StrFormat(
      "set clock: %s has no kvmclock-style VM clock", hypervisor()));
}

}  // namespace hv
