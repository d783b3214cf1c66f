#include "hypervisor/haxm/haxm_hypervisor.h"

#include <utility>

#include "hypervisor/haxm/haxm_vm.h"
#include "hypervisor/os/status_macros.h"

namespace hv {

absl::StatusOr<std::unique_ptr<HaxmHypervisor>> HaxmHypervisor::Create(
    absl::string_view device_path, HaxmSys* sys) {
  ASSIGN_OR_RETURN(std::shared_ptr<const HaxmDevice> device,
                   HaxmDevice::Open(sys, device_path));
  return std::unique_ptr<HaxmHypervisor>(new HaxmHypervisor(std::move(device)));
}

std::string HaxmHypervisor::DefaultDevicePath(const HaxmSys& sys) {
  return haxm_abi::SystemDevicePath(sys.platform());
}

bool HaxmHypervisor::CheckCapability(HypervisorCap cap) const {
  switch (cap) {
    case HypervisorCap::kUserMemory:
      return true;  // SET_RAM2 maps user memory
    case HypervisorCap::kReadOnlyMemory:
      return true;  // HAX_RAM_INFO_ROM
    case HypervisorCap::kImmediateExit:
      // A kick reaches a running vCPU only at its next VM exit (see
      // HaxmVcpu::Kick), so there is no race-free immediate exit.
      return false;
    case HypervisorCap::kDirtyLog:
    case HypervisorCap::kIrqfd:
    case HypervisorCap::kIoEventfd:
    case HypervisorCap::kIrqChip:
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

absl::StatusOr<std::unique_ptr<Vm>> HaxmHypervisor::CreateVm() {
  ASSIGN_OR_RETURN(std::unique_ptr<HaxmVm> vm, HaxmVm::Create(device_));
  return std::unique_ptr<Vm>(std::move(vm));
}

}  // namespace hv
