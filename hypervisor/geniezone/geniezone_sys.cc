#include "hypervisor/geniezone/geniezone_sys.h"

#include "hypervisor/geniezone/geniezone_abi.h"

namespace hv {

GeniezoneSys* RealGeniezoneSys() { return RealSeam<GeniezoneSys>(); }

std::string GeniezoneIoctlName(unsigned long request) {
  namespace abi = geniezone_abi;
  static constexpr IoctlName kNames[] = {
      {abi::kCreateVm, "GZVM_CREATE_VM"},
      {abi::kCheckExtension, "GZVM_CHECK_EXTENSION"},
      {abi::kSetMemoryRegion, "GZVM_SET_MEMORY_REGION"},
      {abi::kCreateVcpu, "GZVM_CREATE_VCPU"},
      {abi::kSetUserMemoryRegion, "GZVM_SET_USER_MEMORY_REGION"},
      {abi::kIrqLine, "GZVM_IRQ_LINE"},
      {abi::kIrqfd, "GZVM_IRQFD"},
      {abi::kIoeventfd, "GZVM_IOEVENTFD"},
      {abi::kEnableCap, "GZVM_ENABLE_CAP"},
      {abi::kCreateDevice, "GZVM_CREATE_DEVICE"},
      {abi::kSetDtbConfig, "GZVM_SET_DTB_CONFIG"},
      {abi::kRun, "GZVM_RUN"},
      {abi::kGetOneReg, "GZVM_GET_ONE_REG"},
      {abi::kSetOneReg, "GZVM_SET_ONE_REG"},
  };
  return NameIoctl(request, kNames);
}

}  // namespace hv
