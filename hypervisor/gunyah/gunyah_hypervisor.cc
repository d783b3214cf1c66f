#include "hypervisor/gunyah/gunyah_hypervisor.h"

#include <utility>

#include "absl/algorithm/container.h"
#include "hypervisor/gunyah/gunyah_vm.h"
#include "hypervisor/os/ioctl_seam.h"
#include "hypervisor/os/status_macros.h"

namespace hv {

absl::StatusOr<std::unique_ptr<GunyahHypervisor>> GunyahHypervisor::Create(
    absl::string_view device_path, GunyahSys* sys) {
  if (sys == nullptr) {
    return absl::InvalidArgumentError("GunyahHypervisor::Create: sys is null");
  }
  auto device = std::make_shared<GunyahDevice>();
  device->sys = sys;
  ASSIGN_OR_RETURN(device->fd, OpenSeamFd(sys, device_path));
  return std::unique_ptr<GunyahHypervisor>(
      new GunyahHypervisor(std::move(device)));
}

namespace {

// The capabilities Gunyah has; CheckCapability() is false for every other.
// Not among them: kReadOnlyMemory (a region without GH_MEM_ALLOW_WRITE is not
// guaranteed to turn guest writes into MMIO exits; crosvm reports the same),
// kDirtyLog, kMpState (not wired up, see README.md), and the x86 and
// state-access caps.
constexpr HypervisorCap kGunyahCaps[] = {
    HypervisorCap::kUserMemory,     // GH_VM_SET_USER_MEM_REGION
    HypervisorCap::kImmediateExit,  // gh_vcpu_run.immediate_exit
    HypervisorCap::kIrqfd,          // GH_FN_IRQFD
    HypervisorCap::kIoEventfd,      // GH_FN_IOEVENTFD
    HypervisorCap::kIrqChip,        // Gunyah's own virtual GIC
};

}  // namespace

bool GunyahHypervisor::CheckCapability(HypervisorCap cap) const {
  return absl::c_linear_search(kGunyahCaps, cap);
}

absl::StatusOr<std::unique_ptr<Vm>> GunyahHypervisor::CreateVm() {
  ASSIGN_OR_RETURN(std::unique_ptr<GunyahVm> vm, GunyahVm::Create(device_));
  return std::unique_ptr<Vm>(std::move(vm));
}

}  // namespace hv
