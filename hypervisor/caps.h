// Capabilities a backend is asked about, never assumed.
//
// Example:
//   if (!vm->CheckCapability(hv::VmCap::kMemNoncoherentDma)) {
//     // Keep the device's shared memory coherent.
//   }
#ifndef HV_HYPERVISOR_CAPS_H_
#define HV_HYPERVISOR_CAPS_H_

namespace hv {

// HypervisorCap: what the hypervisor as a whole offers.
enum class HypervisorCap {
  kUserMemory,      // guest memory from host user space mappings
  kImmediateExit,   // Vcpu::SetImmediateExit / Vcpu::Kick without a race
  kReadOnlyMemory,  // MemoryRegionOptions::read_only
  kDirtyLog,        // MemoryRegionOptions::log_dirty_pages
  kIrqfd,           // Vm::RegisterIrqfd
  kIoEventfd,       // Vm::RegisterIoEvent
  kIrqChip,         // in-kernel interrupt controller
  kSplitIrqChip,    // x86: local APICs in kernel, IOAPIC/PIC in user space
  kXcrs,            // x86: VcpuX86_64::GetXcrs / SetXcrs
  kTscControl,      // x86: VcpuX86_64::SetTscOffset
  kSyncRegs,        // registers exchanged through the shared run page
  kMpState,         // Vcpu::GetMpState / SetMpState
  kXsave,           // x86: VcpuX86_64::GetXsave / SetXsave (the whole image)
  kVcpuEvents,      // x86: VcpuX86_64::GetVcpuEvents / SetVcpuEvents
  kTscKhz,          // x86: VcpuX86_64::SetTscKhz
  kMsrList,         // x86: VmX86_64::GetMsrIndexList
  kFeatureMsrs,     // x86: VmX86_64::GetFeatureMsrs
  // x86: VmX86_64::Get/SetPicState, IoapicState, PitState; arm64:
  // VmAArch64::Get/SetGicState.
  kIrqChipState,
  kGuestDebug,      // Vcpu::SetGuestDebug
};

// VmCap: what one VM offers (may differ by VM type).
enum class VmCap {
  kDirtyLog,
  kReadOnlyMemoryRegion,
  // MemCacheType::kCacheNonCoherent is honoured for memory regions.
  kMemNoncoherentDma,
  kPvClock,
  kIrqfd,
  kIoEventfd,
  // Vm::RemoveMemoryRegion is possible; without it, UNIMPLEMENTED (the
  // region stays until the VM is destroyed: Geniezone, Gunyah).
  kRemoveMemoryRegion,
  // Vm::AddFdMapping / RemoveMapping reach the guest; without it,
  // UNIMPLEMENTED (the hypervisor pins a region's pages when it is added,
  // or the OS cannot replace pages in place).
  kFdMapping,
  // Vm::SetGsiRouting (irqchip pins and MSI routes).
  kGsiRouting,
  // Vm::SignalMsi.
  kSignalMsi,
  // Vm::RegisterResampleIrqfd (level-triggered irqfds re-armed on EOI).
  kIrqfdResample,
  // x86: VmX86_64::SetUserSpaceMsrs, and kRdMsr/kWrMsr exits answered with
  // VcpuX86_64::HandleMsr.
  kUserSpaceMsrs,
  // Vm::SetDirtyLogging: dirty logging switched on and off for a region
  // that is already added (KVM: KVM_MEM_LOG_DIRTY_PAGES re-issued).
  kDirtyLogSwitch,
  // Vm::EnableDirtyLogManualProtect / Vm::ClearDirtyLog: reading the log
  // leaves pages writable until the VMM re-protects them (KVM:
  // KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 and KVM_CLEAR_DIRTY_LOG).
  kDirtyLogManualProtect,
  // arm64: VmAArch64::CreateGicIts (a GICv3 ITS, so MSIs carry a device
  // id: Vm::SignalMsi, MSI routes) and Get/SetGicItsState. KVM: the
  // kernel's vGICv3 offers the ITS device (KVM_CREATE_DEVICE_TEST).
  kGicIts,
};

const char* HypervisorCapName(HypervisorCap cap);
const char* VmCapName(VmCap cap);

}  // namespace hv

#endif  // HV_HYPERVISOR_CAPS_H_
