// The names of the ioctls only the aarch64 half of the KVM backend uses.
#include "hypervisor/kvm/kvm_abi_aarch64.h"

namespace hv::kvm_abi {

const char* ArchIoctlName(unsigned long request) {
  switch (request) {
    HV_KVM_IOCTL_NAME(KVM_GET_ONE_REG)
    HV_KVM_IOCTL_NAME(KVM_SET_ONE_REG)
    HV_KVM_IOCTL_NAME(KVM_ARM_PREFERRED_TARGET)
    HV_KVM_IOCTL_NAME(KVM_ARM_VCPU_INIT)
    HV_KVM_IOCTL_NAME(KVM_ARM_VCPU_FINALIZE)
    HV_KVM_IOCTL_NAME(KVM_CREATE_DEVICE)
    case kGetRegList:
      return "KVM_GET_REG_LIST";
    case kSetCounterOffset:
      return "KVM_ARM_SET_COUNTER_OFFSET";
    default:
      return nullptr;
  }
}

}  // namespace hv::kvm_abi
