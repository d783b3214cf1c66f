#include "hypervisor/geniezone/gzvm_sys.h"

#include "absl/strings/str_format.h"
#include "hypervisor/geniezone/gzvm_abi.h"

namespace hv {

GzvmSys* RealGzvmSys() { return RealSeam<GzvmSys>(); }

std::string GzvmIoctlName(unsigned long request) {
  switch (request) {
    case gzvm_abi::kCreateVm: return "GZVM_CREATE_VM";
    case gzvm_abi::kCheckExtension: return "GZVM_CHECK_EXTENSION";
    case gzvm_abi::kSetMemoryRegion: return "GZVM_SET_MEMORY_REGION";
    case gzvm_abi::kCreateVcpu: return "GZVM_CREATE_VCPU";
    case gzvm_abi::kSetUserMemoryRegion: return "GZVM_SET_USER_MEMORY_REGION";
    case gzvm_abi::kIrqLine: return "GZVM_IRQ_LINE";
    case gzvm_abi::kIrqfd: return "GZVM_IRQFD";
    case gzvm_abi::kIoeventfd: return "GZVM_IOEVENTFD";
    case gzvm_abi::kEnableCap: return "GZVM_ENABLE_CAP";
    case gzvm_abi::kCreateDevice: return "GZVM_CREATE_DEVICE";
    case gzvm_abi::kSetDtbConfig: return "GZVM_SET_DTB_CONFIG";
    case gzvm_abi::kRun: return "GZVM_RUN";
    case gzvm_abi::kGetOneReg: return "GZVM_GET_ONE_REG";
    case gzvm_abi::kSetOneReg: return "GZVM_SET_ONE_REG";
    default: return absl::StrFormat("ioctl %#x", request);
  }
}

}  // namespace hv
