#include "hypervisor/kvm/kvm_hypervisor.h"

#include <utility>

#include "hypervisor/kvm/kvm_vm.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/registry.h"

namespace hv {

absl::StatusOr<std::unique_ptr<KvmHypervisor>> KvmHypervisor::Create(
    absl::string_view device_path, KvmSys* sys) {
  ASSIGN_OR_RETURN(std::shared_ptr<const KvmDevice> device,
                   KvmDevice::Open(sys, device_path));
  return std::unique_ptr<KvmHypervisor>(new KvmHypervisor(std::move(device)));
}

bool KvmHypervisor::CheckCapability(HypervisorCap cap) const {
  const KvmDeviceCaps& caps = device_->caps;
  switch (cap) {
    case HypervisorCap::kUserMemory:
      return caps.user_memory > 0;
    case HypervisorCap::kImmediateExit:
      return caps.immediate_exit > 0;
    case HypervisorCap::kReadOnlyMemory:
      return caps.readonly_mem > 0;
    case HypervisorCap::kDirtyLog:
      // KVM_GET_DIRTY_LOG is part of the base API (version 12) for any
      // user-memory slot; no capability announces it separately.
      return caps.user_memory > 0;
    case HypervisorCap::kIrqfd:
      return caps.irqfd > 0;
    case HypervisorCap::kIoEventfd:
      return caps.ioeventfd > 0;
    case HypervisorCap::kIrqChip:
      return caps.irqchip > 0;
    case HypervisorCap::kSplitIrqChip:
      return caps.split_irqchip > 0;
    case HypervisorCap::kXcrs:
      // Reported only where the guest sees the XCR0 set through
      // KVM_SET_XCRS (KvmDevice::XcrsHonoured).
      return device_->XcrsHonoured();
    case HypervisorCap::kTscControl:
      // SetTscOffset uses the KVM_VCPU_TSC_CTRL vCPU attribute group, which
      // some KVMs accept and ignore: reported only when a probe's offset
      // reads back (KvmDevice::TscOffsetHonoured).
      return device_->TscOffsetHonoured();
    case HypervisorCap::kMpState:
      return caps.mp_state > 0;
    case HypervisorCap::kXsave:
      return caps.xsave > 0;
    case HypervisorCap::kVcpuEvents:
      return caps.vcpu_events > 0;
    case HypervisorCap::kTscKhz:
      return caps.tsc_control > 0;
    case HypervisorCap::kMsrList:
      return caps.msr_index_list > 0;
    case HypervisorCap::kFeatureMsrs:
      return caps.msr_features > 0;
    case HypervisorCap::kIrqChipState:
      // x86: KVM_GET/SET_IRQCHIP and KVM_GET/SET_PIT2 (KVM_CAP_IRQCHIP,
      // KVM_CAP_PIT2); arm64: the vGICv3's attribute groups (QueryArch).
      return caps.irqchip_state > 0;
    case HypervisorCap::kGuestDebug:
      // KVM_SET_GUEST_DEBUG on both architectures.
      return caps.guest_debug > 0;
    case HypervisorCap::kSyncRegs:
      // The kernel may offer KVM_CAP_SYNC_REGS, but this backend exchanges
      // registers through KVM_GET/SET_REGS ioctls and never through the run
      // page, so it cannot claim the capability (KvmDeviceCaps keeps the
      // kernel's answer).
      return false;
  }
  return false;
}

absl::StatusOr<std::unique_ptr<Vm>> KvmHypervisor::CreateVm() {
  return CreateKvmVm(device_);
}

}  // namespace hv
