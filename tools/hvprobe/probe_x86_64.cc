// The x86_64 half of hvprobe (probe_arch.h): every capability, including
// the x86-only ones (split irqchip, XCRs, TSC control, pvclock); no further
// figures.
#include "tools/hvprobe/probe_arch.h"

namespace hv::probe_internal {
namespace {

constexpr HypervisorCap kHypervisorCaps[] = {
    HypervisorCap::kUserMemory,    HypervisorCap::kImmediateExit,
    HypervisorCap::kReadOnlyMemory, HypervisorCap::kDirtyLog,
    HypervisorCap::kIrqfd,         HypervisorCap::kIoEventfd,
    HypervisorCap::kIrqChip,       HypervisorCap::kSplitIrqChip,
    HypervisorCap::kXcrs,          HypervisorCap::kTscControl,
    HypervisorCap::kSyncRegs,      HypervisorCap::kMpState,
    HypervisorCap::kXsave,         HypervisorCap::kVcpuEvents,
    HypervisorCap::kTscKhz,        HypervisorCap::kMsrList,
    HypervisorCap::kFeatureMsrs,   HypervisorCap::kIrqChipState,
    HypervisorCap::kGuestDebug,
};

constexpr VmCap kVmCaps[] = {
    VmCap::kDirtyLog,          VmCap::kReadOnlyMemoryRegion,
    VmCap::kMemNoncoherentDma, VmCap::kPvClock,
    VmCap::kIrqfd,             VmCap::kIoEventfd,
    VmCap::kGsiRouting,        VmCap::kSignalMsi,
    VmCap::kIrqfdResample,     VmCap::kUserSpaceMsrs,
    VmCap::kDirtyLogSwitch,    VmCap::kDirtyLogManualProtect,
};

}  // namespace

const char* ArchName() { return "x86_64"; }
absl::Span<const HypervisorCap> ArchHypervisorCaps() { return kHypervisorCaps; }
absl::Span<const VmCap> ArchVmCaps() { return kVmCaps; }
void ProbeArch(Vm&, BackendReport&) {}

}  // namespace hv::probe_internal
