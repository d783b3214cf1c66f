#include "hypervisor/gunyah/gunyah_sys.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "absl/strings/str_format.h"
#include "hypervisor/gunyah/gunyah_abi.h"

namespace hv {
namespace {

class RealSys final : public GunyahSys {
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

GunyahSys* RealGunyahSys() {
  static RealSys* const sys = new RealSys;
  return sys;
}

std::string GunyahIoctlName(unsigned long request) {
  namespace abi = gunyah_abi;
  switch (request) {
    case abi::kCreateVm:
      return "GH_CREATE_VM";
    case abi::kVmSetUserMemRegion:
      return "GH_VM_SET_USER_MEM_REGION";
    case abi::kVmSetDtbConfig:
      return "GH_VM_SET_DTB_CONFIG";
    case abi::kVmStart:
      return "GH_VM_START";
    case abi::kVmAddFunction:
      return "GH_VM_ADD_FUNCTION";
    case abi::kVmRemoveFunction:
      return "GH_VM_REMOVE_FUNCTION";
    case abi::kVmSetBootContext:
      return "GH_VM_SET_BOOT_CONTEXT";
    case abi::kVcpuRun:
      return "GH_VCPU_RUN";
    case abi::kVcpuMmapSize:
      return "GH_VCPU_MMAP_SIZE";
    default:
      return absl::StrFormat("ioctl %#x", request);
  }
}

}  // namespace hv
