#include "hypervisor/geniezone/geniezone_sys.h"

#include "absl/strings/str_format.h"
#include "hypervisor/geniezone/geniezone_abi.h"

namespace hv {

GeniezoneSys* RealGeniezoneSys() { return RealSeam<GeniezoneSys>(); }

std::string GeniezoneIoctlName(unsigned long request) {
  switch (request) {
    case geniezone_abi::kCreateVm: return "GZVM_CREATE_VM";
    case geniezone_abi::kCheckExtension: return "GZVM_CHECK_EXTENSION";
    case geniezone_abi::kSetMemoryRegion: return "GZVM_SET_MEMORY_REGION";
    case geniezone_abi::kCreateVcpu: return "GZVM_CREATE_VCPU";
    case geniezone_abi::kSetUserMemoryRegion:
      return "GZVM_SET_USER_MEMORY_REGION";
    case geniezone_abi::kIrqLine: return "GZVM_IRQ_LINE";
    case geniezone_abi::kIrqfd: return "GZVM_IRQFD";
    case geniezone_abi::kIoeventfd: return "GZVM_IOEVENTFD";
    case geniezone_abi::kEnableCap: return "GZVM_ENABLE_CAP";
    case geniezone_abi::kCreateDevice: return "GZVM_CREATE_DEVICE";
    case geniezone_abi::kSetDtbConfig: return "GZVM_SET_DTB_CONFIG";
    case geniezone_abi::kRun: return "GZVM_RUN";
    case geniezone_abi::kGetOneReg: return "GZVM_GET_ONE_REG";
    case geniezone_abi::kSetOneReg: return "GZVM_SET_ONE_REG";
    default: return absl::StrFormat("ioctl %#x", request);
  }
}

}  // namespace hv
