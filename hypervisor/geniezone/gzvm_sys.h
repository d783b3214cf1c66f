// GzvmSys: the one seam between the Geniezone backend and the kernel.
//
// Every system call the backend makes (open, ioctl, mmap, munmap, close)
// goes through a GzvmSys (an IoctlSeam, hypervisor/os/ioctl_seam.h).
// RealGzvmSys() forwards each call to the kernel at the cost of one indirect
// call; tests hand the backend a fake of /dev/gzvm (testing/fakes/gzvm_fake.h)
// that implements the same interface. Calls return what the system call
// returns and set errno as it does.
//
// Example:
//   hv::GzvmSys* sys = hv::RealGzvmSys();
//   int fd = sys->Open("/dev/gzvm", O_RDWR | O_CLOEXEC);
//   int vm = sys->Ioctl(fd, hv::gzvm_abi::kCreateVm, 0);
#ifndef HV_HYPERVISOR_GENIEZONE_GZVM_SYS_H_
#define HV_HYPERVISOR_GENIEZONE_GZVM_SYS_H_

#include <string>

#include "hypervisor/os/ioctl_seam.h"

namespace hv {

// GzvmSys: the Geniezone backend's IoctlSeam; a distinct type so that only
// a seam meant for Geniezone (the real one, a wrapper, its fake) reaches the
// backend.
class GzvmSys : public IoctlSeam {};

// RealGzvmSys(): the process-wide seam that calls the kernel.
GzvmSys* RealGzvmSys();

// GzvmIoctlName(): "GZVM_CREATE_VCPU" for the request number of a Geniezone
// ioctl, "ioctl 0x..." for any other.
std::string GzvmIoctlName(unsigned long request);

}  // namespace hv

#endif  // HV_HYPERVISOR_GENIEZONE_GZVM_SYS_H_
