// GunyahSys: the one seam between the Gunyah backend and the kernel.
//
// Every system call the Gunyah backend makes (open, ioctl, mmap, munmap,
// close) goes through a GunyahSys (an IoctlSeam, hypervisor/os/ioctl_seam.h).
// RealGunyahSys() forwards each call to the kernel at the cost of one
// indirect call; tests use the ABI-faithful fake of /dev/gunyah
// (testing/fakes/gunyah_fake.h) instead. Calls return what the system call
// returns and set errno as it does.
//
// Example:
//   hv::GunyahSys* sys = hv::RealGunyahSys();
//   int fd = sys->Open("/dev/gunyah", O_RDWR | O_CLOEXEC);
//   int vm = sys->Ioctl(fd, hv::gunyah_abi::kCreateVm, 0);
#ifndef HV_HYPERVISOR_GUNYAH_GUNYAH_SYS_H_
#define HV_HYPERVISOR_GUNYAH_GUNYAH_SYS_H_

#include <string>

#include "hypervisor/os/ioctl_seam.h"

namespace hv {

// GunyahSys: the Gunyah backend's IoctlSeam; a distinct type so that only
// a seam meant for Gunyah (the real one, a wrapper, its fake) reaches the
// backend.
class GunyahSys : public IoctlSeam {};

// RealGunyahSys(): the process-wide seam that calls the kernel.
GunyahSys* RealGunyahSys();

// GunyahIoctlName(): "GH_VM_START" for the request number of a Gunyah ioctl,
// "ioctl 0x..." for any other.
std::string GunyahIoctlName(unsigned long request);

}  // namespace hv

#endif  // HV_HYPERVISOR_GUNYAH_GUNYAH_SYS_H_
