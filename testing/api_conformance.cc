#include "testing/api_conformance.h"

#include <utility>

#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "testing/status_matchers.h"

namespace hv::testing {

void ApiConformance::SetUp() {
  ASSERT_NO_FATAL_FAILURE(BackendTest::SetUp());
  if (IsSkipped()) return;
  ASSERT_OK_AND_ASSIGN(vm_, hypervisor_->CreateVm());
}

void ApiConformance::TearDown() {
  vm_.reset();
  BackendTest::TearDown();
}

absl::StatusOr<std::unique_ptr<Vcpu>> ApiConformance::NewRunnableVcpu(
    uint32_t id) {
  if (VmAArch64* arm = vm_->AsAArch64(); arm != nullptr && !boot_configured_) {
    // The suite boots no operating system, so no hypervisor here reads the
    // devicetree page; what counts is that InitArch accepts it.
    ASSIGN_OR_RETURN(std::unique_ptr<MemoryRegion> boot,
                     MemoryRegion::CreateShared("boot", kBootRegionSize));
    RETURN_IF_ERROR(
        vm_->AddMemoryRegion(kBootRegionBase, std::move(boot), {}).status());
    RETURN_IF_ERROR(arm->InitArch(kBootRegionBase + 0x1000, kBootRegionBase,
                                  0x1000));
    boot_configured_ = true;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Vcpu> vcpu, vm_->CreateVcpu(id));
  if (VcpuAArch64* arm = vcpu->AsAArch64(); arm != nullptr) {
    RETURN_IF_ERROR(arm->Init({VcpuFeature::kPsci0_2}));
  }
  return vcpu;
}

absl::Status ApiConformance::EnsureIrqChip() {
  if (VmX86_64* x86 = vm_->AsX86_64(); x86 != nullptr) {
    if (hypervisor_->CheckCapability(HypervisorCap::kIrqChip)) {
      return x86->CreateIrqChip(IrqChipKind::kKernel);
    }
    // Only the local APICs in the hypervisor (WHPX's APIC emulation).
    if (hypervisor_->CheckCapability(HypervisorCap::kSplitIrqChip)) {
      return x86->CreateIrqChip(IrqChipKind::kSplit);
    }
    return absl::OkStatus();
  }
  if (VmAArch64* arm = vm_->AsAArch64(); arm != nullptr) {
    // A GIC at the addresses of QEMU's virt board (any free range works).
    GicConfig config;
    config.distributor_base = 0x08000000;
    config.redistributor_or_cpu_base = 0x080a0000;
    config.num_irqs = 96;
    if (arm->SupportsGic(GicConfig::Version::kV3)) {
      config.version = GicConfig::Version::kV3;
    } else if (arm->SupportsGic(GicConfig::Version::kV2)) {
      config.version = GicConfig::Version::kV2;
      config.redistributor_or_cpu_base = 0x08010000;
    } else {
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(arm->CreateGic(config));
    gic_created_ = true;
  }
  return absl::OkStatus();
}

absl::Status ApiConformance::FinishIrqChip() {
  if (!gic_created_) return absl::OkStatus();
  return vm_->AsAArch64()->FinalizeGic();
}

}  // namespace hv::testing
