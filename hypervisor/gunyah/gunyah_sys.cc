#include "hypervisor/gunyah/gunyah_sys.h"

#include "absl/strings/str_format.h"
#include "hypervisor/gunyah/gunyah_abi.h"

namespace hv {

GunyahSys* RealGunyahSys() { return RealSeam<GunyahSys>(); }

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
