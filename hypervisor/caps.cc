#include "hypervisor/caps.h"

namespace hv {

const char* HypervisorCapName(HypervisorCap cap) {
  switch (cap) {
    case HypervisorCap::kUserMemory: return "user_memory";
    case HypervisorCap::kImmediateExit: return "immediate_exit";
    case HypervisorCap::kReadOnlyMemory: return "read_only_memory";
    case HypervisorCap::kDirtyLog: return "dirty_log";
    case HypervisorCap::kIrqfd: return "irqfd";
    case HypervisorCap::kIoEventfd: return "ioeventfd";
    case HypervisorCap::kIrqChip: return "irqchip";
    case HypervisorCap::kSplitIrqChip: return "split_irqchip";
    case HypervisorCap::kXcrs: return "xcrs";
    case HypervisorCap::kTscControl: return "tsc_control";
    case HypervisorCap::kSyncRegs: return "sync_regs";
    case HypervisorCap::kMpState: return "mp_state";
    case HypervisorCap::kXsave: return "xsave";
    case HypervisorCap::kVcpuEvents: return "vcpu_events";
    case HypervisorCap::kTscKhz: return "tsc_khz";
    case HypervisorCap::kMsrList: return "msr_list";
    case HypervisorCap::kFeatureMsrs: return "feature_msrs";
    case HypervisorCap::kIrqChipState: return "irqchip_state";
    case HypervisorCap::kGuestDebug: return "guest_debug";
  }
  return "unknown";
}

const char* VmCapName(VmCap cap) {
  switch (cap) {
    case VmCap::kDirtyLog: return "dirty_log";
    case VmCap::kReadOnlyMemoryRegion: return "read_only_memory_region";
    case VmCap::kMemNoncoherentDma: return "mem_noncoherent_dma";
    case VmCap::kPvClock: return "pvclock";
    case VmCap::kIrqfd: return "irqfd";
    case VmCap::kIoEventfd: return "ioeventfd";
    case VmCap::kRemoveMemoryRegion: return "remove_memory_region";
    case VmCap::kFdMapping: return "fd_mapping";
    case VmCap::kGsiRouting: return "gsi_routing";
    case VmCap::kSignalMsi: return "signal_msi";
    case VmCap::kIrqfdResample: return "irqfd_resample";
    case VmCap::kUserSpaceMsrs: return "user_space_msrs";
    case VmCap::kDirtyLogSwitch: return "dirty_log_switch";
    case VmCap::kDirtyLogManualProtect: return "dirty_log_manual_protect";
    case VmCap::kGicIts: return "gic_its";
  }
  return "unknown";
}

}  // namespace hv
