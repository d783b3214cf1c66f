// KvmVmX86_64: irqchip, interrupt lines (GSIs), vCPU creation, CPUID,
// reserved addresses and the clock.
#include "hypervisor/kvm/kvm_vm_x86_64.h"

#include <cerrno>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hypervisor/kvm/kvm_abi_x86_64.h"
#include "hypervisor/kvm/kvm_ioctl.h"
#include "hypervisor/kvm/kvm_vcpu_x86_64.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/status_macros.h"

namespace hv {

std::unique_ptr<Vm> NewKvmVm(std::shared_ptr<const KvmDevice> device,
                             KvmVmFd vm) {
  return std::unique_ptr<Vm>(new KvmVmX86_64(std::move(device), std::move(vm)));
}

absl::Status KvmVmX86_64::CreateIrqChip(IrqChipKind kind,
                                        uint32_t ioapic_pins) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (vcpus_created_ > 0) {
    return absl::FailedPreconditionError(
        "create irqchip: must come before the first vCPU is created");
  }
  if (irqchip_created_) {
    return absl::AlreadyExistsError("create irqchip: the VM already has one");
  }
  const KvmDeviceCaps& caps = device_->caps;
  if (kind == IrqChipKind::kKernel) {
    if (caps.irqchip == 0) {
      return absl::UnimplementedError(
          "create irqchip: this KVM lacks KVM_CAP_IRQCHIP");
    }
    RETURN_IF_ERROR(KvmIoctlValue(sys_, vm_fd_.get(), KVM_CREATE_IRQCHIP, 0,
                                  "KVM_CREATE_IRQCHIP")
                        .status());
    // The irqchip cannot be taken back: from here the VM has one even if
    // the PIT below fails.
    irqchip_created_ = true;
    irqchip_state_.store(kFullIrqChip, std::memory_order_release);
    if (caps.pit2 > 0) {
      kvm_pit_config pit = {};
      // Port 0x61's speaker bit reads as a dummy (no user-space speaker).
      pit.flags = KVM_PIT_SPEAKER_DUMMY;
      RETURN_IF_ERROR(
          KvmIoctl(sys_, vm_fd_.get(), KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2"));
      pit_created_ = true;
    }
    return absl::OkStatus();
  }
  if (caps.split_irqchip == 0) {
    return absl::UnimplementedError(
        "create split irqchip: this KVM lacks KVM_CAP_SPLIT_IRQCHIP");
  }
  kvm_enable_cap enable = {};
  enable.cap = KVM_CAP_SPLIT_IRQCHIP;
  enable.args[0] = ioapic_pins;
  RETURN_IF_ERROR(KvmIoctl(
      sys_, vm_fd_.get(), KVM_ENABLE_CAP, &enable,
      absl::StrFormat("KVM_ENABLE_CAP (KVM_CAP_SPLIT_IRQCHIP, %u pins)",
                      ioapic_pins)));
  irqchip_created_ = true;
  irqchip_state_.store(kSplitIrqChip, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status KvmVmX86_64::CheckIrqChip(const char* operation,
                                       bool full) const {
  const uint8_t state = irqchip_state_.load(std::memory_order_acquire);
  if (state == kNoIrqChip) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: the VM has no in-kernel irqchip (VmX86_64::CreateIrqChip)",
        operation));
  }
  if (full && state == kSplitIrqChip) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: the VM's irqchip is split; its IOAPIC and PIC pins are in user "
        "space, so only the full in-kernel irqchip can resample a line",
        operation));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<VcpuX86_64>> KvmVmX86_64::CreateVcpuX86_64(
    uint32_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  ASSIGN_OR_RETURN(std::unique_ptr<KvmVcpuX86_64> vcpu,
                   KvmVcpuX86_64::Create(device_, vm_fd_.get(), id));
  ++vcpus_created_;
  return std::unique_ptr<VcpuX86_64>(std::move(vcpu));
}

absl::StatusOr<std::vector<CpuidEntry>> KvmVmX86_64::GetSupportedCpuid() {
  return device_->GetSupportedCpuid();
}

absl::Status KvmVmX86_64::SetTssAddress(GuestAddress address) {
  return KvmIoctlValue(sys_, vm_fd_.get(), KVM_SET_TSS_ADDR,
                       static_cast<uintptr_t>(address),
                       absl::StrFormat("KVM_SET_TSS_ADDR (%#x)", address))
      .status();
}

absl::Status KvmVmX86_64::SetIdentityMapAddress(GuestAddress address) {
  const uint64_t value = address;
  return KvmIoctl(sys_, vm_fd_.get(), KVM_SET_IDENTITY_MAP_ADDR, &value,
                  absl::StrFormat("KVM_SET_IDENTITY_MAP_ADDR (%#x)", address));
}

absl::StatusOr<ClockState> KvmVmX86_64::GetClock() {
  if (caps_.adjust_clock == 0) {
    return absl::UnimplementedError("get clock: this KVM lacks KVM_CAP_ADJUST_CLOCK");
  }
  kvm_clock_data data = {};
  RETURN_IF_ERROR(
      KvmIoctl(sys_, vm_fd_.get(), KVM_GET_CLOCK, &data, "KVM_GET_CLOCK"));
  ClockState state;
  state.clock_ns = data.clock;
  state.stable = (data.flags & KVM_CLOCK_TSC_STABLE) != 0;
  if (data.flags & KVM_CLOCK_REALTIME) state.realtime_ns = data.realtime;
  if (data.flags & KVM_CLOCK_HOST_TSC) state.host_tsc = data.host_tsc;
  return state;
}

absl::Status KvmVmX86_64::SetClock(const ClockState& state) {
  if (caps_.adjust_clock == 0) {
    return absl::UnimplementedError("set clock: this KVM lacks KVM_CAP_ADJUST_CLOCK");
  }
  // The clock value, and the real time it was read at when known (the
  // kernel then adds the time elapsed since); KVM_CLOCK_TSC_STABLE and
  // KVM_CLOCK_HOST_TSC are output flags.
  kvm_clock_data data = {};
  data.clock = state.clock_ns;
  if (state.realtime_ns.has_value()) {
    data.flags = KVM_CLOCK_REALTIME;
    data.realtime = *state.realtime_ns;
  }
  return KvmIoctl(sys_, vm_fd_.get(), KVM_SET_CLOCK, &data, "KVM_SET_CLOCK");
}

absl::Status KvmVmX86_64::SetIrqLine(uint32_t irq, bool level) {
  kvm_irq_level request = {};
  request.irq = irq;
  request.level = level ? 1 : 0;
  return KvmIoctl(sys_, vm_fd_.get(), KVM_IRQ_LINE, &request,
                  absl::StrFormat("KVM_IRQ_LINE (irq %u)", irq));
}

namespace {

// The indices of an MSR list ioctl on the system fd (`request`:
// KVM_GET_MSR_INDEX_LIST or KVM_GET_MSR_FEATURE_INDEX_LIST). api.rst: with
// too small an nmsrs the kernel answers E2BIG and stores the count needed,
// so ask with none, then with that many (again if the list grew between).
absl::StatusOr<std::vector<uint32_t>> MsrList(const KvmDevice& device,
                                              unsigned long request,
                                              const char* name) {
  uint32_t count = 0;
  for (int attempt = 0; attempt < 4; ++attempt) {
    kvm_abi::FlexBuffer<kvm_abi::MsrListHeader, uint32_t> buffer(count);
    buffer.header()->nmsrs = count;
    if (device.sys->IoctlPtr(device.fd.get(), request, buffer.data()) == 0) {
      const uint32_t* first = buffer.entries();
      return std::vector<uint32_t>(first, first + buffer.header()->nmsrs);
    }
    if (errno != E2BIG) return ErrnoStatus(name);
    count = buffer.header()->nmsrs;
  }
  return absl::InternalError(
      absl::StrCat(name, ": the list kept growing between calls"));
}

}  // namespace

absl::StatusOr<std::vector<uint32_t>> KvmVmX86_64::GetMsrIndexList() {
  return MsrList(*device_, kvm_abi::kGetMsrIndexList, "KVM_GET_MSR_INDEX_LIST");
}

absl::StatusOr<std::vector<MsrEntry>> KvmVmX86_64::GetFeatureMsrs() {
  if (device_->caps.msr_features == 0) {
    return absl::UnimplementedError(
        "get feature MSRs: this KVM lacks KVM_CAP_GET_MSR_FEATURES");
  }
  ASSIGN_OR_RETURN(std::vector<uint32_t> indices,
                   MsrList(*device_, kvm_abi::kGetMsrFeatureIndexList,
                           "KVM_GET_MSR_FEATURE_INDEX_LIST"));
  ASSIGN_OR_RETURN(std::vector<MsrEntry> msrs,
                   GetKvmMsrs(device_->sys, device_->fd.get(), indices,
                              "KVM_GET_MSRS (feature MSRs)"));
  if (msrs.size() < indices.size()) {
    return absl::InternalError(absl::StrFormat(
        "KVM_GET_MSRS (feature MSRs): MSR %#x, which KVM listed, cannot be read "
        "(read %d of %u)",
        indices[msrs.size()], msrs.size(), indices.size()));
  }
  return msrs;
}

}  // namespace hv
