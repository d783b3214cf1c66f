// GzvmSys: the one seam between the Geniezone backend and the kernel.
//
// Every system call the backend makes (open, ioctl, mmap, munmap, close)
// goes through a GzvmSys. RealGzvmSys() forwards each call to the kernel at
// the cost of one indirect call; tests hand the backend a fake of /dev/gzvm
// (testing/fakes/gzvm_fake.h) that implements the same interface. Calls
// return what the system call returns and set errno as it does.
//
// Example:
//   hv::GzvmSys* sys = hv::RealGzvmSys();
//   int fd = sys->Open("/dev/gzvm", O_RDWR | O_CLOEXEC);
//   int vm = sys->Ioctl(fd, hv::gzvm_abi::kCreateVm, 0);
#ifndef HV_HYPERVISOR_GENIEZONE_GZVM_SYS_H_
#define HV_HYPERVISOR_GENIEZONE_GZVM_SYS_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace hv {

class GzvmSys {
 public:
  virtual ~GzvmSys() = default;

  // GzvmSys::Open(): open(2).
  virtual int Open(const char* path, int flags) = 0;
  // GzvmSys::Ioctl(): ioctl(2); `arg` is an integer or a pointer's bits.
  virtual int Ioctl(int fd, unsigned long request, uintptr_t arg) = 0;
  // GzvmSys::Mmap(): mmap(2); MAP_FAILED on error.
  virtual void* Mmap(void* addr, size_t length, int prot, int flags, int fd,
                     off_t offset) = 0;
  // GzvmSys::Munmap(): munmap(2).
  virtual int Munmap(void* addr, size_t length) = 0;
  // GzvmSys::Close(): close(2). Linux releases the descriptor even when
  // close reports an error, so callers never retry.
  virtual int Close(int fd) = 0;

  // GzvmSys::IoctlPtr(): Ioctl() with a pointer argument.
  int IoctlPtr(int fd, unsigned long request, const void* arg) {
    return Ioctl(fd, request, reinterpret_cast<uintptr_t>(arg));
  }
};

// RealGzvmSys(): the process-wide seam that calls the kernel.
GzvmSys* RealGzvmSys();

// GzvmIoctlName(): "GZVM_CREATE_VCPU" for the request number of a Geniezone
// ioctl, "ioctl 0x..." for any other.
std::string GzvmIoctlName(unsigned long request);

}  // namespace hv

#endif  // HV_HYPERVISOR_GENIEZONE_GZVM_SYS_H_
