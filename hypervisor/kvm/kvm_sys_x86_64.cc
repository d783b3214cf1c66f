// The names of the ioctls only the x86_64 half of the KVM backend uses.
#include "hypervisor/kvm/kvm_abi_x86_64.h"
#include "hypervisor/os/ioctl_seam.h"

namespace hv::kvm_abi {

const char* ArchIoctlName(unsigned long request) {
  static constexpr IoctlName kNames[] = {
      HV_KVM_IOCTL_NAME(KVM_CREATE_IRQCHIP),
      HV_KVM_IOCTL_NAME(KVM_CREATE_PIT2),
      HV_KVM_IOCTL_NAME(KVM_SET_TSS_ADDR),
      HV_KVM_IOCTL_NAME(KVM_SET_IDENTITY_MAP_ADDR),
      HV_KVM_IOCTL_NAME(KVM_GET_CLOCK),
      HV_KVM_IOCTL_NAME(KVM_SET_CLOCK),
      HV_KVM_IOCTL_NAME(KVM_GET_REGS),
      HV_KVM_IOCTL_NAME(KVM_SET_REGS),
      HV_KVM_IOCTL_NAME(KVM_GET_SREGS),
      HV_KVM_IOCTL_NAME(KVM_SET_SREGS),
      HV_KVM_IOCTL_NAME(KVM_GET_FPU),
      HV_KVM_IOCTL_NAME(KVM_SET_FPU),
      HV_KVM_IOCTL_NAME(KVM_GET_DEBUGREGS),
      HV_KVM_IOCTL_NAME(KVM_SET_DEBUGREGS),
      HV_KVM_IOCTL_NAME(KVM_GET_XCRS),
      HV_KVM_IOCTL_NAME(KVM_SET_XCRS),
      HV_KVM_IOCTL_NAME(KVM_GET_LAPIC),
      HV_KVM_IOCTL_NAME(KVM_SET_LAPIC),
      HV_KVM_IOCTL_NAME(KVM_INTERRUPT),
      HV_KVM_IOCTL_NAME(KVM_NMI),
      HV_KVM_IOCTL_NAME(KVM_GET_TSC_KHZ),
      HV_KVM_IOCTL_NAME(KVM_SET_TSC_KHZ),
      HV_KVM_IOCTL_NAME(KVM_GET_VCPU_EVENTS),
      HV_KVM_IOCTL_NAME(KVM_SET_VCPU_EVENTS),
      HV_KVM_IOCTL_NAME(KVM_KVMCLOCK_CTRL),
      HV_KVM_IOCTL_NAME(KVM_GET_IRQCHIP),
      HV_KVM_IOCTL_NAME(KVM_SET_IRQCHIP),
      HV_KVM_IOCTL_NAME(KVM_GET_PIT2),
      HV_KVM_IOCTL_NAME(KVM_SET_PIT2),
      HV_KVM_IOCTL_NAME(KVM_X86_SET_MSR_FILTER),
      // Flexible-array structs: see kvm_abi_x86_64.h for why these are
      // hv's own.
      {kGetSupportedCpuid, "KVM_GET_SUPPORTED_CPUID"},
      {kGetMsrs, "KVM_GET_MSRS"},
      {kSetMsrs, "KVM_SET_MSRS"},
      {kSetCpuid2, "KVM_SET_CPUID2"},
      {kGetMsrIndexList, "KVM_GET_MSR_INDEX_LIST"},
      {kGetXsave, "KVM_GET_XSAVE"},
      {kSetXsave, "KVM_SET_XSAVE"},
      {kGetXsave2, "KVM_GET_XSAVE2"},
      {kGetMsrFeatureIndexList, "KVM_GET_MSR_FEATURE_INDEX_LIST"},
  };
  return FindIoctlName(request, kNames);
}

}  // namespace hv::kvm_abi
