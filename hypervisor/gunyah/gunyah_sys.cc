#include "hypervisor/gunyah/gunyah_sys.h"

#include "hypervisor/gunyah/gunyah_abi.h"

namespace hv {

GunyahSys* RealGunyahSys() { return RealSeam<GunyahSys>(); }

std::string GunyahIoctlName(unsigned long request) {
  namespace abi = gunyah_abi;
  static constexpr IoctlName kNames[] = {
      {abi::kCreateVm, "GH_CREATE_VM"},
      {abi::kVmSetUserMemRegion, "GH_VM_SET_USER_MEM_REGION"},
      {abi::kVmSetDtbConfig, "GH_VM_SET_DTB_CONFIG"},
      {abi::kVmStart, "GH_VM_START"},
      {abi::kVmAddFunction, "GH_VM_ADD_FUNCTION"},
      {abi::kVmRemoveFunction, "GH_VM_REMOVE_FUNCTION"},
      {abi::kVmSetBootContext, "GH_VM_SET_BOOT_CONTEXT"},
      {abi::kVcpuRun, "GH_VCPU_RUN"},
      {abi::kVcpuMmapSize, "GH_VCPU_MMAP_SIZE"},
  };
  return NameIoctl(request, kNames);
}

}  // namespace hv
