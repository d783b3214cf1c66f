// GeniezoneSys: the one seam between the Geniezone backend and the kernel.
//
// Every system call the backend makes (open, ioctl, mmap, munmap, close)
// goes through a GeniezoneSys (an IoctlSeam, hypervisor/os/ioctl_seam.h).
// RealGeniezoneSys() forwards each call to the kernel at the cost of one
// indirect call; tests hand the backend a fake of /dev/gzvm
// (testing/fakes/geniezone_fake.h) that implements the same interface. Calls
// return what the system call returns and set errno as it does.
//
// Example:
//   hv::GeniezoneSys* sys = hv::RealGeniezoneSys();
//   int fd = sys->Open("/dev/gzvm", O_RDWR | O_CLOEXEC);
//   int vm = sys->Ioctl(fd, hv::geniezone_abi::kCreateVm, 0);
#ifndef HV_HYPERVISOR_GENIEZONE_GENIEZONE_SYS_H_
#define HV_HYPERVISOR_GENIEZONE_GENIEZONE_SYS_H_

#include <string>

#include "hypervisor/os/ioctl_seam.h"

namespace hv {

// GeniezoneSys: the Geniezone backend's IoctlSeam; a distinct type so that only
// a seam meant for Geniezone (the real one, a wrapper, its fake) reaches the
// backend.
class GeniezoneSys : public IoctlSeam {};

// RealGeniezoneSys(): the process-wide seam that calls the kernel.
GeniezoneSys* RealGeniezoneSys();

// GeniezoneIoctlName(): "GZVM_CREATE_VCPU" for the request number of a
// Geniezone ioctl, "ioctl 0x..." for any other.
std::string GeniezoneIoctlName(unsigned long request);

}  // namespace hv

#endif  // HV_HYPERVISOR_GENIEZONE_GENIEZONE_SYS_H_
