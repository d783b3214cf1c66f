#include "hypervisor/kvm/kvm_sys.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "absl/strings/str_format.h"
#include "hypervisor/kvm/kvm_abi.h"

namespace hv {
namespace {

class RealSys final : public KvmSys {
 public:
  int Open(const char* path, int flags) override {
    return ::open(path, flags);
  }
  int Ioctl(int fd, unsigned long request, uintptr_t arg) override {
    return ::ioctl(fd, request, arg);
  }
  void* Mmap(void* addr, size_t length, int prot, int flags, int fd,
             off_t offset) override {
    return ::mmap(addr, length, prot, flags, fd, offset);
  }
  int Munmap(void* addr, size_t length) override {
    return ::munmap(addr, length);
  }
  int Close(int fd) override { return ::close(fd); }
};

}  // namespace

KvmSys* RealKvmSys() {
  static RealSys* const sys = new RealSys;
  return sys;
}

std::string KvmIoctlName(unsigned long request) {
  switch (request) {
#define HV_KVM_IOCTL_NAME(name) \
  case name:                    \
    return #name;
    HV_KVM_IOCTL_NAME(KVM_GET_API_VERSION)
    HV_KVM_IOCTL_NAME(KVM_CREATE_VM)
    HV_KVM_IOCTL_NAME(KVM_CHECK_EXTENSION)
    HV_KVM_IOCTL_NAME(KVM_GET_VCPU_MMAP_SIZE)
    HV_KVM_IOCTL_NAME(KVM_SET_USER_MEMORY_REGION)
    HV_KVM_IOCTL_NAME(KVM_GET_DIRTY_LOG)
    HV_KVM_IOCTL_NAME(KVM_CREATE_VCPU)
    HV_KVM_IOCTL_NAME(KVM_IOEVENTFD)
    HV_KVM_IOCTL_NAME(KVM_IRQFD)
    HV_KVM_IOCTL_NAME(KVM_IRQ_LINE)
    HV_KVM_IOCTL_NAME(KVM_CREATE_IRQCHIP)
    HV_KVM_IOCTL_NAME(KVM_CREATE_PIT2)
    HV_KVM_IOCTL_NAME(KVM_ENABLE_CAP)
    HV_KVM_IOCTL_NAME(KVM_SET_TSS_ADDR)
    HV_KVM_IOCTL_NAME(KVM_SET_IDENTITY_MAP_ADDR)
    HV_KVM_IOCTL_NAME(KVM_GET_CLOCK)
    HV_KVM_IOCTL_NAME(KVM_SET_CLOCK)
    HV_KVM_IOCTL_NAME(KVM_RUN)
    HV_KVM_IOCTL_NAME(KVM_GET_REGS)
    HV_KVM_IOCTL_NAME(KVM_SET_REGS)
    HV_KVM_IOCTL_NAME(KVM_GET_SREGS)
    HV_KVM_IOCTL_NAME(KVM_SET_SREGS)
    HV_KVM_IOCTL_NAME(KVM_GET_FPU)
    HV_KVM_IOCTL_NAME(KVM_SET_FPU)
    HV_KVM_IOCTL_NAME(KVM_GET_DEBUGREGS)
    HV_KVM_IOCTL_NAME(KVM_SET_DEBUGREGS)
    HV_KVM_IOCTL_NAME(KVM_GET_XCRS)
    HV_KVM_IOCTL_NAME(KVM_SET_XCRS)
    HV_KVM_IOCTL_NAME(KVM_GET_LAPIC)
    HV_KVM_IOCTL_NAME(KVM_SET_LAPIC)
    HV_KVM_IOCTL_NAME(KVM_INTERRUPT)
    HV_KVM_IOCTL_NAME(KVM_NMI)
    HV_KVM_IOCTL_NAME(KVM_HAS_DEVICE_ATTR)
    HV_KVM_IOCTL_NAME(KVM_SET_DEVICE_ATTR)
    HV_KVM_IOCTL_NAME(KVM_GET_TSC_KHZ)
#undef HV_KVM_IOCTL_NAME
    // Flexible-array structs: see kvm_abi.h for why these are hv's own.
    case kvm_abi::kGetSupportedCpuid:
      return "KVM_GET_SUPPORTED_CPUID";
    case kvm_abi::kGetMsrs:
      return "KVM_GET_MSRS";
    case kvm_abi::kSetMsrs:
      return "KVM_SET_MSRS";
    case kvm_abi::kSetCpuid2:
      return "KVM_SET_CPUID2";
    default:
      return absl::StrFormat("ioctl %#x", request);
  }
}

}  // namespace hv
