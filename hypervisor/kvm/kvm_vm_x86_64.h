// KvmVmX86_64: hv::VmX86_64 over a KVM VM (KvmVmCore, kvm_vm.h): the
// in-kernel irqchip (full or split) and PIT, interrupt lines (GSIs), vCPU
// creation, CPUID, the addresses VMX reserves and the kvmclock
// (kvm_vm_x86_64.cc). CreateKvmVm() creates it on x86_64 hosts.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, hv::CreateKvmVm(device));
//   hv::VmX86_64* x86 = vm->AsX86_64();  // a KvmVmX86_64
//   RETURN_IF_ERROR(x86->CreateIrqChip(hv::IrqChipKind::kKernel));
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::VcpuX86_64> vcpu,
//                    x86->CreateVcpuX86_64(0));
#ifndef HV_HYPERVISOR_KVM_KVM_VM_X86_64_H_
#define HV_HYPERVISOR_KVM_KVM_VM_X86_64_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/kvm/kvm_device.h"
#include "hypervisor/kvm/kvm_vm.h"
#include "hypervisor/x86_64/vm_x86_64.h"

namespace hv {

class KvmVmX86_64 final : public KvmVmCore<VmX86_64> {
 public:
  absl::Status SetIrqLine(uint32_t irq, bool level) override;
  absl::Status CreateIrqChip(IrqChipKind kind, uint32_t ioapic_pins) override;
  absl::StatusOr<std::unique_ptr<VcpuX86_64>> CreateVcpuX86_64(
      uint32_t id) override;
  absl::StatusOr<std::vector<CpuidEntry>> GetSupportedCpuid() override;
  absl::Status SetTssAddress(GuestAddress address) override;
  absl::Status SetIdentityMapAddress(GuestAddress address) override;
  absl::StatusOr<ClockState> GetClock() override;
  absl::Status SetClock(const ClockState& state) override;
  // KVM_GET_MSR_INDEX_LIST / KVM_GET_MSR_FEATURE_INDEX_LIST (+ KVM_GET_MSRS)
  // on the system fd.
  absl::StatusOr<std::vector<uint32_t>> GetMsrIndexList() override;
  absl::StatusOr<std::vector<MsrEntry>> GetFeatureMsrs() override;
  // KVM_ENABLE_CAP(KVM_CAP_X86_USER_SPACE_MSR, filter exits) and
  // KVM_X86_SET_MSR_FILTER with the ranges denied (kvm_vm_x86_64_msr.cc).
  absl::Status SetUserSpaceMsrs(absl::Span<const MsrRange> ranges) override;
  // KVM_GET/SET_IRQCHIP and KVM_GET/SET_PIT2 (kvm_vm_x86_64_irqchip.cc).
  absl::StatusOr<PicState> GetPicState(Pic pic) override;
  absl::Status SetPicState(Pic pic, const PicState& state) override;
  absl::StatusOr<IoapicState> GetIoapicState() override;
  absl::Status SetIoapicState(const IoapicState& state) override;
  absl::StatusOr<PitState> GetPitState() override;
  absl::Status SetPitState(const PitState& state) override;

 private:
  friend std::unique_ptr<Vm> NewKvmVm(std::shared_ptr<const KvmDevice> device,
                                      KvmVmFd vm);
  using KvmVmCore::KvmVmCore;

  // KvmVmCore::CheckIrqChip(): GSI routing and MSIs need the in-kernel
  // local APICs (either irqchip); a resample irqfd needs the kernel's
  // IOAPIC/PIC pins (the full irqchip).
  absl::Status CheckIrqChip(const char* operation, bool full) const override;

  uint32_t vcpus_created_ ABSL_GUARDED_BY(mutex_) = 0;
  bool irqchip_created_ ABSL_GUARDED_BY(mutex_) = false;
  // CreateIrqChip(kKernel) made the PIT too.
  bool pit_created_ ABSL_GUARDED_BY(mutex_) = false;

  // OK when the VM has the in-kernel PICs and IOAPIC (`pit`: the PIT);
  // otherwise FAILED_PRECONDITION naming `operation`.
  absl::Status CheckKernelDevice(const char* operation, bool pit) const;
  // Which irqchip the VM has, for CheckIrqChip() on the interrupt paths
  // without the mutex: written (under it) only when one is created.
  enum IrqChipState : uint8_t { kNoIrqChip, kFullIrqChip, kSplitIrqChip };
  std::atomic<uint8_t> irqchip_state_{kNoIrqChip};
};

}  // namespace hv

#endif  // HV_HYPERVISOR_KVM_KVM_VM_X86_64_H_
