// GunyahVm's VmAArch64 part: vCPUs as VM functions; the GIC and the counter
// belong to Gunyah.
#include "absl/strings/str_format.h"
#include "hypervisor/gunyah/gunyah_vcpu.h"
#include "hypervisor/gunyah/gunyah_vm.h"
#include "hypervisor/gunyah/gunyah_vm_core.h"
#include "hypervisor/os/status_macros.h"

namespace hv {

absl::StatusOr<std::unique_ptr<VcpuAArch64>> GunyahVm::CreateVcpuAArch64(
    uint32_t id) {
  if (id >= GunyahHypervisor::kMaxVcpus) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "create vCPU %u: ids are below %u", id, GunyahHypervisor::kMaxVcpus));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<GunyahVcpu> vcpu,
                   GunyahVcpu::Create(core_, id));
  return std::unique_ptr<VcpuAArch64>(std::move(vcpu));
}

absl::Status GunyahVm::CreateGic(const GicConfig& config) {
  return absl::UnimplementedError(absl::StrFormat(
      "create GIC v%d: a Gunyah VM's GIC is the hypervisor's own, set up by "
      "the resource manager from the VM's devicetree; user space cannot "
      "create one",
      config.version == GicConfig::Version::kV3 ? 3 : 2));
}

bool GunyahVm::SupportsGic(GicConfig::Version) const { return false; }

absl::Status GunyahVm::FinalizeGic() {
  return absl::UnimplementedError(
      "finalize GIC: a Gunyah VM's GIC is the hypervisor's own; there is "
      "nothing for user space to finalize");
}

absl::Status GunyahVm::SetCounterOffset(uint64_t offset) {
  return absl::UnimplementedError(absl::StrFormat(
      "set counter offset %#x: Gunyah keeps the guest's counter itself and "
      "offers no VM-wide offset",
      offset));
}

}  // namespace hv
