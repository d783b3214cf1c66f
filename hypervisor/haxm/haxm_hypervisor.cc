#include "hypervisor/haxm/haxm_hypervisor.h"

#include <utility>

#include "absl/algorithm/container.h"
#include "hypervisor/haxm/haxm_vm.h"
#include "hypervisor/os/status_macros.h"

namespace hv {
namespace {

// The capabilities HAXM has; CheckCapability() is false for every other.
// Not among them: kImmediateExit (a kick reaches a running vCPU only at its
// next VM exit, see HaxmVcpu::Kick, so there is no race-free immediate
// exit), kMpState (not wired up, see README.md), and everything HAXM has no
// ioctl for.
constexpr HypervisorCap kHaxmCaps[] = {
    HypervisorCap::kUserMemory,      // SET_RAM2 maps user memory
    HypervisorCap::kReadOnlyMemory,  // HAX_RAM_INFO_ROM
};

}  // namespace

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
  return absl::c_linear_search(kHaxmCaps, cap);
}

absl::StatusOr<std::unique_ptr<Vm>> HaxmHypervisor::CreateVm() {
  ASSIGN_OR_RETURN(std::unique_ptr<HaxmVm> vm, HaxmVm::Create(device_));
  return std::unique_ptr<Vm>(std::move(vm));
}

}  // namespace hv
