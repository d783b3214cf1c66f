#include "hypervisor/os/ioctl_seam.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>

namespace hv {

std::string UnnamedIoctl(unsigned long request) {
  char name[32];
  std::snprintf(name, sizeof(name), "ioctl %#lx", request);
  return name;
}

}  // namespace hv

namespace hv::ioctl_seam_internal {

int KernelOpen(const char* path, int flags) { return ::open(path, flags); }

int KernelIoctl(int fd, unsigned long request, uintptr_t arg) {
  return ::ioctl(fd, request, arg);
}

void* KernelMmap(void* addr, size_t length, int prot, int flags, int fd,
                 off_t offset) {
  return ::mmap(addr, length, prot, flags, fd, offset);
}

int KernelMunmap(void* addr, size_t length) { return ::munmap(addr, length); }

int KernelClose(int fd) { return ::close(fd); }

}  // namespace hv::ioctl_seam_internal
