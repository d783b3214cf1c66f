#include "hypervisor/whpx/whpx_hypervisor.h"

#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/whpx/whpx_status.h"
#include "hypervisor/whpx/whpx_vm.h"

namespace hv {

using namespace whpx_abi;  // NOLINT: the SDK's names

namespace {

// GetCapability(): WHvGetCapability(`code`) into `capability`.
absl::Status GetCapability(const WhpxApi* api, WHV_CAPABILITY_CODE code,
                           const char* name, WHV_CAPABILITY& capability) {
  capability = {};
  uint32_t written = 0;
  return HResultStatus(
      absl::StrFormat("WHvGetCapability (%s)", name),
      api->WHvGetCapability(code, &capability, sizeof(capability), &written));
}

// The capabilities every WHPX has; kDirtyLog, kXcrs and kSplitIrqChip
// (local APIC emulation) depend on the partition features, kXsave on them and the XsaveState calls
// (CheckCapability), and every other is false. Not
// among them: kIrqfd and kIoEventfd (no kernel event objects, see
// README.md), kIrqChip (no in-hypervisor PIC or IOAPIC), kMpState (not wired up, see README.md), and the
// other state-access caps.
constexpr HypervisorCap kWhpxCaps[] = {
    HypervisorCap::kUserMemory,      // WHvMapGpaRange of host memory
    HypervisorCap::kImmediateExit,   // a flag + WHvCancelRunVirtualProcessor
    HypervisorCap::kReadOnlyMemory,  // a mapping without the Write flag
};

}  // namespace

absl::StatusOr<std::unique_ptr<WhpxHypervisor>> WhpxHypervisor::Create(
    const WhpxApi* api, uint32_t max_vcpus) {
  if (api == nullptr) {
    return absl::InvalidArgumentError("WHPX: the API table is null");
  }
  if (max_vcpus == 0) {
    return absl::InvalidArgumentError("WHPX: max_vcpus must be at least 1");
  }
  WHV_CAPABILITY capability;
  RETURN_IF_ERROR(GetCapability(api, WHvCapabilityCodeHypervisorPresent,
                                "HypervisorPresent", capability));
  if (!capability.HypervisorPresent) {
    return absl::UnavailableError(
        "WHPX: WHvGetCapability (HypervisorPresent) says no hypervisor is "
        "running; enable Hyper-V and the Windows Hypervisor Platform feature");
  }
  WhpxCaps caps;
  RETURN_IF_ERROR(
      GetCapability(api, WHvCapabilityCodeFeatures, "Features", capability));
  caps.features = capability.Features;
  RETURN_IF_ERROR(GetCapability(api, WHvCapabilityCodeExtendedVmExits,
                                "ExtendedVmExits", capability));
  caps.extended_vm_exits = capability.ExtendedVmExits;
  // Older WHPX builds do not know this code; the TSC rate is then unknown.
  if (GetCapability(api, WHvCapabilityCodeProcessorClockFrequency,
                    "ProcessorClockFrequency", capability)
          .ok()) {
    caps.processor_clock_hz = capability.ProcessorClockFrequency;
  }
  caps.xsave_state = (caps.features & kFeatureXsave) != 0 &&
                     api->WHvGetVirtualProcessorXsaveState != nullptr &&
                     api->WHvSetVirtualProcessorXsaveState != nullptr;
  caps.xsave_layout = HostXsaveLayout();
  return std::unique_ptr<WhpxHypervisor>(
      new WhpxHypervisor(api, caps, max_vcpus));
}

bool WhpxHypervisor::CheckCapability(HypervisorCap cap) const {
  if (cap == HypervisorCap::kDirtyLog) {
    return (caps_.features & kFeatureDirtyPageTracking) != 0;
  }
  if (cap == HypervisorCap::kXcrs) return (caps_.features & kFeatureXsave) != 0;
  if (cap == HypervisorCap::kXsave) return caps_.xsave_state;
  if (cap == HypervisorCap::kSplitIrqChip) {
    return (caps_.features & kFeatureLocalApicEmulation) != 0;
  }
  return absl::c_linear_search(kWhpxCaps, cap);
}

absl::StatusOr<std::unique_ptr<Vm>> WhpxHypervisor::CreateVm() {
  ASSIGN_OR_RETURN(std::unique_ptr<WhpxVm> vm,
                   WhpxVm::Create(api_, caps_, max_vcpus_));
  return std::unique_ptr<Vm>(std::move(vm));
}

}  // namespace hv
