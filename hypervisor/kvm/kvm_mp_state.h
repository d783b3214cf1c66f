// KVM_GET_MP_STATE / KVM_SET_MP_STATE for both architectures' vCPUs, with
// the conversion between KVM's numbers and hv::MpState. Internal to
// hypervisor/kvm.
//
// Example (what a vCPU's GetMpState / SetMpState do):
//   ASSIGN_OR_RETURN(hv::MpState state,
//                    hv::GetKvmMpState(*device, vcpu_fd, hv::MpArch::kX86));
//   RETURN_IF_ERROR(hv::SetKvmMpState(*device, vcpu_fd, hv::MpArch::kX86, state));
#ifndef HV_HYPERVISOR_KVM_KVM_MP_STATE_H_
#define HV_HYPERVISOR_KVM_KVM_MP_STATE_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/kvm/kvm_device.h"
#include "hypervisor/vcpu.h"

namespace hv {

// Which states a vCPU of the architecture may be in (api.rst,
// KVM_GET_MP_STATE: x86 has the APIC states, arm64 stopped and suspended).
enum class MpArch { kX86, kArm64 };

// GetKvmMpState(): the vCPU's state. UNIMPLEMENTED without
// KVM_CAP_MP_STATE; INTERNAL for a number hv has no MpState for (s390's).
absl::StatusOr<MpState> GetKvmMpState(const KvmDevice& device, int vcpu_fd,
                                      MpArch arch);
// SetKvmMpState(): sets it; INVALID_ARGUMENT, without an ioctl, for a state
// of the other architecture.
absl::Status SetKvmMpState(const KvmDevice& device, int vcpu_fd, MpArch arch,
                           MpState state);

}  // namespace hv

#endif  // HV_HYPERVISOR_KVM_KVM_MP_STATE_H_
