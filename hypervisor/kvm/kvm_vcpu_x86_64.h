// KvmVcpuX86_64: hv::VcpuX86_64 over a KVM vCPU (KvmVcpuCore, kvm_vcpu.h):
// registers, FPU and XSAVE, debug registers, XCRs, MSRs, CPUID, the local
// APIC, interrupt injection and the TSC (kvm_vcpu_x86_64.cc), and the rest
// of a vCPU's state for saving and restoring it: the whole XSAVE image,
// vCPU events, MP state, the TSC frequency and the kvmclock pause
// notification (kvm_vcpu_x86_64_state.cc). KvmVmX86_64 creates it.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, hv::CreateKvmVm(device));
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::VcpuX86_64> vcpu,
//                    vm->AsX86_64()->CreateVcpuX86_64(0));  // a KvmVcpuX86_64
//   ASSIGN_OR_RETURN(hv::Regs regs, vcpu->GetRegs());
#ifndef HV_HYPERVISOR_KVM_KVM_VCPU_X86_64_H_
#define HV_HYPERVISOR_KVM_KVM_VCPU_X86_64_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "hypervisor/backend_overrides.h"
#include "hypervisor/kvm/kvm_device.h"
#include "hypervisor/kvm/kvm_vcpu.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"

namespace hv {

class KvmVcpuX86_64 final : public KvmVcpuCore<VcpuX86_64> {
 public:
  // KvmVcpuX86_64::Create(): OpenKvmVcpu() and the vCPU over it.
  static absl::StatusOr<std::unique_ptr<KvmVcpuX86_64>> Create(
      std::shared_ptr<const KvmDevice> device, int vm_fd, uint32_t id);

  HV_VCPU_X86_64_STATE_OVERRIDES

  // Saving and restoring (kvm_vcpu_x86_64_state.cc).
  absl::StatusOr<std::vector<uint8_t>> GetXsave() override;
  absl::Status SetXsave(absl::Span<const uint8_t> image) override;
  size_t XsaveSize() const override;
  absl::StatusOr<VcpuEvents> GetVcpuEvents() override;
  absl::Status SetVcpuEvents(const VcpuEvents& events) override;
  absl::Status SetTscKhz(uint32_t khz) override;
  absl::Status NotifyGuestPaused() override;
  // Answers a KVM_EXIT_X86_RDMSR / WRMSR through kvm_run's msr fields.
  absl::Status HandleMsr(absl::FunctionRef<void(MsrRequest&)> handler) override;
  absl::StatusOr<MpState> GetMpState() override;
  absl::Status SetMpState(MpState state) override;
  absl::Status SetGuestDebug(const GuestDebug& debug) override;

 private:
  using KvmVcpuCore::KvmVcpuCore;

  void DecodeDebugExit(const kvm_run& run, VcpuExit& exit) const override;
  // OK when this KVM honours the TSC offset (KvmDevice::TscOffsetHonoured);
  // otherwise UNIMPLEMENTED naming `operation` and why.
  absl::Status CheckTscControl(absl::string_view operation) const;
  // The same for XCRs (KvmDevice::XcrsHonoured).
  absl::Status CheckXcrs(absl::string_view operation) const;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_KVM_KVM_VCPU_X86_64_H_
