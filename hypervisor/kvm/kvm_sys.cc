#include "hypervisor/kvm/kvm_sys.h"

#include "hypervisor/kvm/kvm_abi.h"

namespace hv {

KvmSys* RealKvmSys() { return RealSeam<KvmSys>(); }

std::string KvmIoctlName(unsigned long request) {
  static constexpr IoctlName kNames[] = {
      HV_KVM_IOCTL_NAME(KVM_GET_API_VERSION),
      HV_KVM_IOCTL_NAME(KVM_CREATE_VM),
      HV_KVM_IOCTL_NAME(KVM_CHECK_EXTENSION),
      HV_KVM_IOCTL_NAME(KVM_GET_VCPU_MMAP_SIZE),
      HV_KVM_IOCTL_NAME(KVM_SET_USER_MEMORY_REGION),
      HV_KVM_IOCTL_NAME(KVM_GET_DIRTY_LOG),
      HV_KVM_IOCTL_NAME(KVM_CLEAR_DIRTY_LOG),
      HV_KVM_IOCTL_NAME(KVM_CREATE_VCPU),
      HV_KVM_IOCTL_NAME(KVM_IOEVENTFD),
      HV_KVM_IOCTL_NAME(KVM_IRQFD),
      HV_KVM_IOCTL_NAME(KVM_IRQ_LINE),
      {kvm_abi::kSetGsiRouting, "KVM_SET_GSI_ROUTING"},
      HV_KVM_IOCTL_NAME(KVM_SIGNAL_MSI),
      HV_KVM_IOCTL_NAME(KVM_ENABLE_CAP),
      HV_KVM_IOCTL_NAME(KVM_RUN),
      HV_KVM_IOCTL_NAME(KVM_GET_MP_STATE),
      HV_KVM_IOCTL_NAME(KVM_SET_GUEST_DEBUG),
      HV_KVM_IOCTL_NAME(KVM_SET_MP_STATE),
      HV_KVM_IOCTL_NAME(KVM_HAS_DEVICE_ATTR),
      HV_KVM_IOCTL_NAME(KVM_SET_DEVICE_ATTR),
      HV_KVM_IOCTL_NAME(KVM_GET_DEVICE_ATTR),
  };
  if (const char* name = FindIoctlName(request, kNames)) return name;
  // The architecture's own ioctls (kvm_sys_<arch>.cc).
  if (const char* name = kvm_abi::ArchIoctlName(request)) return name;
  return UnnamedIoctl(request);
}

}  // namespace hv
