// KvmVcpuAArch64: hv::VcpuAArch64 over a KVM vCPU (KvmVcpuCore,
// kvm_vcpu.h): KVM_ARM_VCPU_INIT with the VM's preferred target, one-reg
// access to core, FP/SIMD, system and firmware registers, the PMU and
// stolen time (kvm_vcpu_aarch64.cc). KvmVmAArch64 creates it.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, hv::CreateKvmVm(device));
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::VcpuAArch64> vcpu,  // KvmVcpuAArch64
//                    vm->AsAArch64()->CreateVcpuAArch64(0));
//   RETURN_IF_ERROR(vcpu->Init({hv::VcpuFeature::kPsci0_2}));
#ifndef HV_HYPERVISOR_KVM_KVM_VCPU_AARCH64_H_
#define HV_HYPERVISOR_KVM_KVM_VCPU_AARCH64_H_

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hypervisor/aarch64/vcpu_aarch64.h"
#include "hypervisor/backend_overrides.h"
#include "hypervisor/kvm/kvm_device.h"
#include "hypervisor/kvm/kvm_vcpu.h"

namespace hv {

class KvmVcpuAArch64 final : public KvmVcpuCore<VcpuAArch64> {
 public:
  // KvmVcpuAArch64::Create(): OpenKvmVcpu() and the vCPU over it; Init()
  // hands `target` (the VM's KVM_ARM_PREFERRED_TARGET answer) to
  // KVM_ARM_VCPU_INIT.
  static absl::StatusOr<std::unique_ptr<KvmVcpuAArch64>> Create(
      std::shared_ptr<const KvmDevice> device, int vm_fd, uint32_t id,
      uint32_t target);

  HV_VCPU_AARCH64_STATE_OVERRIDES
  bool HasPvtime() const override;
  // KVM_GET/SET_MP_STATE: runnable, stopped (PSCI off) or suspended.
  absl::StatusOr<MpState> GetMpState() override;
  absl::Status SetMpState(MpState state) override;
  // KVM_SET_GUEST_DEBUG: software step and the debug architecture's
  // breakpoint registers (DBGBVR/DBGBCR), as many as
  // KVM_CAP_GUEST_DEBUG_HW_BPS says.
  absl::Status SetGuestDebug(const GuestDebug& debug) override;

 private:
  KvmVcpuAArch64(std::shared_ptr<const KvmDevice> device, KvmVcpuFd vcpu,
                 uint32_t id, uint32_t target)
      : KvmVcpuCore(std::move(device), std::move(vcpu), id),
        arm_target_(target) {}

  void DecodeDebugExit(const kvm_run& run, VcpuExit& exit) const override;
  // FAILED_PRECONDITION until Init() succeeded.
  absl::Status CheckRunnable() const override;
  // The ONE_REG id of `reg` and its size in bytes (4 or 8), or
  // INVALID_ARGUMENT naming `operation` and the register.
  absl::StatusOr<std::pair<uint64_t, int>> OneRegId(const char* operation,
                                                    AArch64Reg reg) const;
  absl::Status CheckInitialized(const char* operation) const;
  // The one-reg id of vector register V<n> (within Z<n> with SVE), once
  // `operation` may use it: n is 0..31 and the vCPU is initialised.
  absl::StatusOr<uint64_t> VectorRegId(uint32_t n,
                                       const char* operation) const;
  // KVM_GET_ONE_REG / KVM_SET_ONE_REG of `size` bytes at `data`.
  absl::Status GetRawReg(uint64_t id, void* data, const char* operation,
                         AArch64Reg reg);
  absl::Status SetRawReg(uint64_t id, const void* data, const char* operation,
                         AArch64Reg reg);
  // Both: `request` on a kvm_one_reg for `id` at `data`; errors name
  // `request_name`, `operation`, the register and the id.
  absl::Status OneRegIoctl(unsigned long request, const char* request_name,
                           uint64_t id, const void* data,
                           const char* operation, AArch64Reg reg);
  // KVM_SET_DEVICE_ATTR on the vCPU (PMU, PVTIME).
  absl::Status SetVcpuAttr(uint32_t group, uint64_t attr, const void* value,
                           const char* operation);

  const uint32_t arm_target_;
  // Only the thread that uses the vCPU (the Run() thread) touches these.
  bool initialized_ = false;
  // KVM_ARM_VCPU_INIT feature bits of the first Init() (a vCPU keeps them).
  uint32_t init_features_ = 0;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_KVM_KVM_VCPU_AARCH64_H_
