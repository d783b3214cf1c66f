#include "hypervisor/gunyah/gunyah_hypervisor.h"

#include <fcntl.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "hypervisor/gunyah/gunyah_vm.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/status_macros.h"

namespace hv {

absl::StatusOr<std::unique_ptr<GunyahHypervisor>> GunyahHypervisor::Create(
    absl::string_view device_path, GunyahSys* sys) {
  if (sys == nullptr) {
    return absl::InvalidArgumentError("GunyahHypervisor::Create: sys is null");
  }
  const std::string path(device_path);
  auto device = std::make_shared<GunyahDevice>();
  device->sys = sys;
  device->fd = GunyahFd(sys, sys->Open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!device->fd.valid()) return ErrnoStatus(absl::StrCat("open ", path));
  return std::unique_ptr<GunyahHypervisor>(
      new GunyahHypervisor(std::move(device)));
}

bool GunyahHypervisor::CheckCapability(HypervisorCap cap) const {
  switch (cap) {
    case HypervisorCap::kUserMemory:     // GH_VM_SET_USER_MEM_REGION
    case HypervisorCap::kImmediateExit:  // gh_vcpu_run.immediate_exit
    case HypervisorCap::kIrqfd:          // GH_FN_IRQFD
    case HypervisorCap::kIoEventfd:      // GH_FN_IOEVENTFD
    case HypervisorCap::kIrqChip:        // Gunyah's own virtual GIC
      return true;
    case HypervisorCap::kReadOnlyMemory:
      // A region without GH_MEM_ALLOW_WRITE is not guaranteed to turn guest
      // writes into MMIO exits (crosvm reports the same).
    case HypervisorCap::kDirtyLog:
    case HypervisorCap::kSplitIrqChip:
    case HypervisorCap::kXcrs:
    case HypervisorCap::kTscControl:
    case HypervisorCap::kSyncRegs:
    case HypervisorCap::kMpState:  // not wired up (see README.md)
    case HypervisorCap::kXsave:
    case HypervisorCap::kVcpuEvents:
    case HypervisorCap::kTscKhz:
    case HypervisorCap::kMsrList:
    case HypervisorCap::kFeatureMsrs:
    case HypervisorCap::kIrqChipState:
    case HypervisorCap::kGuestDebug:
      return false;
  }
  return false;
}

absl::StatusOr<std::unique_ptr<Vm>> GunyahHypervisor::CreateVm() {
  ASSIGN_OR_RETURN(std::unique_ptr<GunyahVm> vm, GunyahVm::Create(device_));
  return std::unique_ptr<Vm>(std::move(vm));
}

}  // namespace hv
