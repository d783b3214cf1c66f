#include "hypervisor/vcpu_exit.h"

namespace hv {

const char* VcpuExitKindName(VcpuExitKind kind) {
  switch (kind) {
    case VcpuExitKind::kUnknown: return "unknown";
    case VcpuExitKind::kIo: return "io";
    case VcpuExitKind::kMmio: return "mmio";
    case VcpuExitKind::kHlt: return "hlt";
    case VcpuExitKind::kShutdown: return "shutdown";
    case VcpuExitKind::kSystemEvent: return "system_event";
    case VcpuExitKind::kHypercall: return "hypercall";
    case VcpuExitKind::kIoapicEoi: return "ioapic_eoi";
    case VcpuExitKind::kDebug: return "debug";
    case VcpuExitKind::kException: return "exception";
    case VcpuExitKind::kIrqWindowOpen: return "irq_window_open";
    case VcpuExitKind::kInterrupted: return "interrupted";
    case VcpuExitKind::kFailEntry: return "fail_entry";
    case VcpuExitKind::kInternalError: return "internal_error";
    case VcpuExitKind::kRdMsr: return "rdmsr";
    case VcpuExitKind::kWrMsr: return "wrmsr";
    case VcpuExitKind::kTprAccess: return "tpr_access";
    case VcpuExitKind::kBusLock: return "bus_lock";
  }
  return "unknown";
}

}  // namespace hv
