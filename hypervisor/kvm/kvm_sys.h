// KvmSys: the one seam between the KVM backend and the kernel.
//
// Every system call the KVM backend makes (open, ioctl, mmap, munmap, close)
// goes through a KvmSys (an IoctlSeam, hypervisor/os/ioctl_seam.h).
// RealKvmSys() forwards each call straight to the kernel at the cost of one
// indirect call; tests wrap it (kvm_fault_injection.h) to count calls and
// fail chosen ones.
// Calls return what the system call returns and set errno as it does.
//
// Example:
//   hv::KvmSys* sys = hv::RealKvmSys();
//   int fd = sys->Open("/dev/kvm", O_RDWR | O_CLOEXEC);
//   int version = sys->Ioctl(fd, KVM_GET_API_VERSION, 0);
//   sys->Close(fd);
#ifndef HV_HYPERVISOR_KVM_KVM_SYS_H_
#define HV_HYPERVISOR_KVM_KVM_SYS_H_

#include <string>

#include "hypervisor/os/ioctl_seam.h"

namespace hv {

// KvmSys: the KVM backend's IoctlSeam; a distinct type so that only a
// seam meant for KVM (the real one, a wrapper, its fake) reaches the backend.
class KvmSys : public IoctlSeam {};

// RealKvmSys(): the process-wide seam that calls the kernel.
KvmSys* RealKvmSys();

// KvmIoctlName(): "KVM_CREATE_VCPU" for the request number of an ioctl the
// backend uses, "ioctl 0x..." for any other.
std::string KvmIoctlName(unsigned long request);

}  // namespace hv

#endif  // HV_HYPERVISOR_KVM_KVM_SYS_H_
