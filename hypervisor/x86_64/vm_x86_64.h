// VmX86_64: the x86_64 part of a VM: the in-kernel irqchip, the clock and
// the addresses x86 hypervisors reserve.
//
// Example:
//   hv::VmX86_64* vm86 = vm->AsX86_64();
//   RETURN_IF_ERROR(vm86->CreateIrqChip(hv::IrqChipKind::kKernel));
//   ASSIGN_OR_RETURN(auto vcpu, vm86->CreateVcpuX86_64(0));
#ifndef HV_HYPERVISOR_X86_64_VM_X86_64_H_
#define HV_HYPERVISOR_X86_64_VM_X86_64_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hypervisor/vm.h"
#include "hypervisor/x86_64/regs.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"

namespace hv {

enum class IrqChipKind {
  kKernel,  // PIC, IOAPIC and local APICs in the kernel
  kSplit,   // local APICs in the kernel; PIC and IOAPIC in user space
};

class VmX86_64 : public Vm {
 public:
  VmX86_64* AsX86_64() override { return this; }

  // VmX86_64::CreateIrqChip(): before any vCPU is created. For kSplit,
  // `ioapic_pins` routes that many GSIs to user space.
  virtual absl::Status CreateIrqChip(IrqChipKind kind,
                                     uint32_t ioapic_pins = 24) = 0;

  // VmX86_64::CreateVcpuX86_64(): CreateVcpu with the x86_64 type.
  virtual absl::StatusOr<std::unique_ptr<VcpuX86_64>> CreateVcpuX86_64(
      uint32_t id) = 0;

  // Vm::CreateVcpu() of an x86_64 VM: CreateVcpuX86_64().
  absl::StatusOr<std::unique_ptr<Vcpu>> CreateVcpu(uint32_t id) override {
    return CreateVcpuX86_64(id);
  }

  // CPUID results the hypervisor supports; a start for SetCpuid.
  virtual absl::StatusOr<std::vector<CpuidEntry>> GetSupportedCpuid() = 0;

  // VmX86_64::SetTssAddress(): three pages the hypervisor may use (VMX).
  virtual absl::Status SetTssAddress(GuestAddress address) = 0;
  virtual absl::Status SetIdentityMapAddress(GuestAddress address) = 0;

  // The kvmclock-style VM clock.
  virtual absl::StatusOr<ClockState> GetClock() = 0;
  virtual absl::Status SetClock(const ClockState& state) = 0;

  // VmX86_64::GetMsrIndexList(): the MSRs whose values are vCPU state the
  // hypervisor keeps (KVM_GET_MSR_INDEX_LIST): what saving a vCPU reads
  // with VcpuX86_64::GetMsrs. HypervisorCap::kMsrList; UNIMPLEMENTED
  // without it.
  virtual absl::StatusOr<std::vector<uint32_t>> GetMsrIndexList();
  // VmX86_64::GetFeatureMsrs(): the feature MSRs (capability MSRs such as
  // IA32_ARCH_CAPABILITIES, VMX capabilities) and the values the
  // hypervisor can offer guests (KVM_GET_MSR_FEATURE_INDEX_LIST, then
  // KVM_GET_MSRS on the system fd). HypervisorCap::kFeatureMsrs.
  virtual absl::StatusOr<std::vector<MsrEntry>> GetFeatureMsrs();

  // VmX86_64::SetUserSpaceMsrs(): guest rdmsr/wrmsr of the MSRs in
  // `ranges` (reads, writes or both, as each range says) stop reaching the
  // hypervisor: Run() returns kRdMsr / kWrMsr (VcpuExit::code the index,
  // `data` a write's value) and the VMM answers with
  // VcpuX86_64::HandleMsr. Every other MSR stays with the hypervisor.
  // Replaces the previous set on every vCPU; an empty `ranges` gives every
  // MSR back. Only rdmsr/wrmsr are filtered, not the MSR loads of the
  // hypervisor's own state calls (SetMsrs). VmCap::kUserSpaceMsrs, else
  // UNIMPLEMENTED. INVALID_ARGUMENT, and the previous set kept, for more
  // than kMaxUserSpaceMsrRanges ranges, an empty range, one that takes
  // neither reads nor writes, one past index 0xffffffff or longer than
  // kMaxUserSpaceMsrsPerRange, two that overlap (both named), or one that
  // touches the x2APIC MSRs 0x800-0x8ff (the local APIC's; KVM never hands
  // them over, Intel SDM Vol. 3, Section 11.12.1.2).
  static constexpr size_t kMaxUserSpaceMsrRanges = 16;
  static constexpr uint32_t kMaxUserSpaceMsrsPerRange = 0x600 * 8;
  virtual absl::Status SetUserSpaceMsrs(absl::Span<const MsrRange> ranges);

  // The in-kernel platform devices' state, for saving and restoring a VM
  // (HypervisorCap::kIrqChipState; UNIMPLEMENTED without it).
  // FAILED_PRECONDITION unless the VM has the device: the PICs and the I/O
  // APIC come with CreateIrqChip(kKernel), the PIT too where the
  // hypervisor has one (a split irqchip keeps them in user space).
  enum class Pic { kPrimary, kSecondary };
  virtual absl::StatusOr<PicState> GetPicState(Pic pic);
  virtual absl::Status SetPicState(Pic pic, const PicState& state);
  virtual absl::StatusOr<IoapicState> GetIoapicState();
  virtual absl::Status SetIoapicState(const IoapicState& state);
  virtual absl::StatusOr<PitState> GetPitState();
  virtual absl::Status SetPitState(const PitState& state);
};

}  // namespace hv

#endif  // HV_HYPERVISOR_X86_64_VM_X86_64_H_
