// UserIrqchipVm: BackendVm<VmX86_64> for the x86 hypervisors that keep no
// platform devices in the kernel and run real mode themselves (WHPX and
// HAXM as hv drives them). The guest's PIC, IOAPIC and local APIC are the
// VMM's, interrupts reach the guest through VcpuX86_64::InjectInterrupt,
// and there is no VM clock or CPUID query, so for such a VM:
//
//   CreateIrqChip (unless overridden),   UNIMPLEMENTED, naming the
//   GetSupportedCpuid,
//   GetClock, SetClock                   hypervisor and the operation
//   SetTssAddress, SetIdentityMapAddress OK: there is nothing to place
//
// and SetIrqLine, irqfds and ioeventfds keep BackendVm's UNIMPLEMENTED
// defaults. A backend derives from it and adds CreateVcpuX86_64 and
// BackendVm's memory hooks. Backend support: not part of the hypervisor
// API.
//
// Example (a backend's VM):
//   class WhpxVm final : public hv::UserIrqchipVm {
//     ...
//     WhpxVm(...) : UserIrqchipVm("WHPX", kMaxMemorySlots, limit, kPageSize) {}
//   };
#ifndef HV_HYPERVISOR_USER_IRQCHIP_VM_H_
#define HV_HYPERVISOR_USER_IRQCHIP_VM_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/backend_vm.h"
#include "hypervisor/memory.h"
#include "hypervisor/x86_64/regs.h"
#include "hypervisor/x86_64/vm_x86_64.h"

namespace hv {

class UserIrqchipVm : public BackendVm<VmX86_64> {
 public:
  // UNIMPLEMENTED; a backend whose hypervisor can emulate local APICs
  // (WHPX) overrides it for IrqChipKind::kSplit.
  absl::Status CreateIrqChip(IrqChipKind kind, uint32_t ioapic_pins) override;
  absl::StatusOr<std::vector<CpuidEntry>> GetSupportedCpuid() final;
  absl::Status SetTssAddress(GuestAddress address) final;
  absl::Status SetIdentityMapAddress(GuestAddress address) final;
  absl::StatusOr<ClockState> GetClock() final;
  absl::Status SetClock(const ClockState& state) final;

 protected:
  using BackendVm::BackendVm;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_USER_IRQCHIP_VM_H_
