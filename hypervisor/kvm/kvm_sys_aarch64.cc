// The names of the ioctls only the aarch64 half of the KVM backend uses.
#include "hypervisor/kvm/kvm_abi_aarch64.h"
#include "hypervisor/os/ioctl_seam.h"

namespace hv::kvm_abi {

const char* ArchIoctlName(unsigned long request) {
  static constexpr IoctlName kNames[] = {
      HV_KVM_IOCTL_NAME(KVM_GET_ONE_REG),
      HV_KVM_IOCTL_NAME(KVM_SET_ONE_REG),
      HV_KVM_IOCTL_NAME(KVM_ARM_PREFERRED_TARGET),
      HV_KVM_IOCTL_NAME(KVM_ARM_VCPU_INIT),
      HV_KVM_IOCTL_NAME(KVM_ARM_VCPU_FINALIZE),
      HV_KVM_IOCTL_NAME(KVM_CREATE_DEVICE),
      {kGetRegList, "KVM_GET_REG_LIST"},
      {kSetCounterOffset, "KVM_ARM_SET_COUNTER_OFFSET"},
  };
  return FindIoctlName(request, kNames);
}

}  // namespace hv::kvm_abi
