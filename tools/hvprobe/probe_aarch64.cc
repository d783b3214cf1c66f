// The aarch64 half of hvprobe (probe_arch.h): its name (probe.cc's table
// says which capabilities mean something on aarch64) and, through the
// VmAArch64/VcpuAArch64 API, the GIC versions the VM can create, the vCPU
// features offered, and -- from a probe vCPU initialised with PSCI 0.2 --
// the PSCI version, the MPIDR and stolen-time (PVTIME) support.
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "hypervisor/aarch64/regs.h"
#include "hypervisor/aarch64/vcpu_aarch64.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "tools/hvprobe/probe_arch.h"

namespace hv::probe_internal {
namespace {

constexpr VcpuFeature kFeatures[] = {
    VcpuFeature::kPsci0_2,        VcpuFeature::kPowerOff,
    VcpuFeature::kPmuV3,          VcpuFeature::kSve,
    VcpuFeature::kPtrAuthAddress, VcpuFeature::kPtrAuthGeneric,
};

const char* YesNo(bool b) { return b ? "yes" : "no"; }

}  // namespace

const char* ArchName() { return "aarch64"; }

void ProbeArch(Vm& vm, BackendReport& report) {
  auto& details = report.arch_details;
  VmAArch64* arm = vm.AsAArch64();
  if (arm == nullptr) {
    details.emplace_back("vm", "not an aarch64 VM");
    return;
  }
  details.emplace_back("gic_v2", YesNo(arm->SupportsGic(GicConfig::Version::kV2)));
  details.emplace_back("gic_v3", YesNo(arm->SupportsGic(GicConfig::Version::kV3)));
  absl::StatusOr<std::unique_ptr<VcpuAArch64>> vcpu = arm->CreateVcpuAArch64(0);
  if (!vcpu.ok()) {
    details.emplace_back("vcpu", std::string(vcpu.status().message()));
    return;
  }
  for (VcpuFeature feature : kFeatures) {
    details.emplace_back(absl::StrFormat("feature %s", VcpuFeatureName(feature)),
                         YesNo((*vcpu)->SupportsFeature(feature)));
  }
  details.emplace_back("pvtime", YesNo((*vcpu)->HasPvtime()));
  if (absl::Status init = (*vcpu)->Init({VcpuFeature::kPsci0_2}); !init.ok()) {
    details.emplace_back("vcpu init", std::string(init.message()));
    return;
  }
  absl::StatusOr<PsciVersion> psci = (*vcpu)->GetPsciVersion();
  details.emplace_back("psci_version", psci.ok() ? absl::StrFormat("%u.%u", psci->major,
                                                                   psci->minor)
                                                 : std::string(psci.status().message()));
  absl::StatusOr<uint64_t> mpidr = (*vcpu)->GetMpidr();
  details.emplace_back("mpidr", mpidr.ok() ? absl::StrFormat("%#x", *mpidr)
                                           : std::string(mpidr.status().message()));
}

}  // namespace hv::probe_internal
