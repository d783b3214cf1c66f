// KvmSys: the one seam between the KVM backend and the kernel.
//
// Every system call the KVM backend makes (open, ioctl, mmap, munmap, close)
// goes through a KvmSys. RealKvmSys() forwards each call straight to the
// kernel at the cost of one indirect call; tests wrap it (see
// testing/kvm_fault_injection.h) to count calls and fail chosen ones.
// Calls return what the system call returns and set errno as it does.
//
// Example:
//   hv::KvmSys* sys = hv::RealKvmSys();
//   int fd = sys->Open("/dev/kvm", O_RDWR | O_CLOEXEC);
//   int version = sys->Ioctl(fd, hv::KvmIoctl::kGetApiVersion, 0);
//   sys->Close(fd);
#ifndef HV_HYPERVISOR_KVM_KVM_SYS_H_
#define HV_HYPERVISOR_KVM_KVM_SYS_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace hv {

class KvmSys {
 public:
  virtual ~KvmSys() = default;

  // KvmSys::Open(): open(2).
  virtual int Open(const char* path, int flags) = 0;
  // KvmSys::Ioctl(): ioctl(2); `arg` is an integer or a pointer's bits.
  virtual int Ioctl(int fd, unsigned long request, uintptr_t arg) = 0;
  // KvmSys::Mmap(): mmap(2); MAP_FAILED on error.
  virtual void* Mmap(void* addr, size_t length, int prot, int flags, int fd,
                     off_t offset) = 0;
  // KvmSys::Munmap(): munmap(2).
  virtual int Munmap(void* addr, size_t length) = 0;
  // KvmSys::Close(): close(2). Linux releases the descriptor even when
  // close reports an error, so callers never retry.
  virtual int Close(int fd) = 0;

  // KvmSys::IoctlPtr(): Ioctl() with a pointer argument.
  int IoctlPtr(int fd, unsigned long request, const void* arg) {
    return Ioctl(fd, request, reinterpret_cast<uintptr_t>(arg));
  }
};

// RealKvmSys(): the process-wide seam that calls the kernel.
KvmSys* RealKvmSys();

// KvmIoctlName(): "KVM_CREATE_VCPU" for the request number of an ioctl the
// backend uses, "ioctl 0x..." for any other.
std::string KvmIoctlName(unsigned long request);

}  // namespace hv

#endif  // HV_HYPERVISOR_KVM_KVM_SYS_H_
