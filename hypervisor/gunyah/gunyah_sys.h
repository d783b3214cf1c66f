// GunyahSys: the one seam between the Gunyah backend and the kernel.
//
// Every system call the Gunyah backend makes (open, ioctl, mmap, munmap,
// close) goes through a GunyahSys. RealGunyahSys() forwards each call to the
// kernel at the cost of one indirect call; tests use the ABI-faithful fake
// of /dev/gunyah (testing/fakes/gunyah_fake.h) instead. Calls return what
// the system call returns and set errno as it does.
//
// Example:
//   hv::GunyahSys* sys = hv::RealGunyahSys();
//   int fd = sys->Open("/dev/gunyah", O_RDWR | O_CLOEXEC);
//   int vm = sys->Ioctl(fd, hv::gunyah_abi::kCreateVm, 0);
#ifndef HV_HYPERVISOR_GUNYAH_GUNYAH_SYS_H_
#define HV_HYPERVISOR_GUNYAH_GUNYAH_SYS_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace hv {

class GunyahSys {
 public:
  virtual ~GunyahSys() = default;

  // GunyahSys::Open(): open(2).
  virtual int Open(const char* path, int flags) = 0;
  // GunyahSys::Ioctl(): ioctl(2); `arg` is an integer or a pointer's bits.
  virtual int Ioctl(int fd, unsigned long request, uintptr_t arg) = 0;
  // GunyahSys::Mmap(): mmap(2); MAP_FAILED on error.
  virtual void* Mmap(void* addr, size_t length, int prot, int flags, int fd,
                     off_t offset) = 0;
  // GunyahSys::Munmap(): munmap(2).
  virtual int Munmap(void* addr, size_t length) = 0;
  // GunyahSys::Close(): close(2). Linux releases the descriptor even when
  // close reports an error, so callers never retry.
  virtual int Close(int fd) = 0;

  // GunyahSys::IoctlPtr(): Ioctl() with a pointer argument.
  int IoctlPtr(int fd, unsigned long request, const void* arg) {
    return Ioctl(fd, request, reinterpret_cast<uintptr_t>(arg));
  }
};

// RealGunyahSys(): the process-wide seam that calls the kernel.
GunyahSys* RealGunyahSys();

// GunyahIoctlName(): "GH_VM_START" for the request number of a Gunyah ioctl,
// "ioctl 0x..." for any other.
std::string GunyahIoctlName(unsigned long request);

}  // namespace hv

#endif  // HV_HYPERVISOR_GUNYAH_GUNYAH_SYS_H_
