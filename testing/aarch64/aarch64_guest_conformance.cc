#include "testing/aarch64/aarch64_guest_conformance.h"

#include <cstring>
#include <utility>

#include "hypervisor/os/status_macros.h"
#include "testing/status_matchers.h"

namespace hv::testing {

absl::StatusOr<std::unique_ptr<AArch64Guest>>
AArch64GuestConformance::NewGuest(AArch64GuestOptions options) {
  return AArch64Guest::Create(*hypervisor_, options);
}

absl::StatusOr<std::unique_ptr<Vm>> AArch64GuestConformance::NewVm() {
  ASSIGN_OR_RETURN(std::unique_ptr<Vm> vm, hypervisor_->CreateVm());
  if (vm->AsAArch64() == nullptr) {
    return absl::FailedPreconditionError(
        "AArch64GuestConformance: the hypervisor's VM is not an aarch64 VM");
  }
  return vm;
}

absl::StatusOr<bool> AArch64GuestConformance::GicV3Offered() {
  ASSIGN_OR_RETURN(std::unique_ptr<Vm> vm, NewVm());
  VmAArch64* arm = vm->AsAArch64();
  if (arm->SupportsGic(GicConfig::Version::kV3)) return true;
  EXPECT_THAT(arm->CreateGic(LayoutGicV3()),
              StatusIs(absl::StatusCode::kUnimplemented));
  return false;
}

AArch64GuestOptions WithGic() {
  AArch64GuestOptions options;
  options.gic = true;
  return options;
}

GicConfig LayoutGicV3() {
  GicConfig v3;
  v3.version = GicConfig::Version::kV3;
  v3.distributor_base = HV_A64_GICD_BASE;
  v3.redistributor_or_cpu_base = HV_A64_GICR_BASE;
  return v3;
}

uint64_t Load64(const uint8_t* p) {
  uint64_t value;
  std::memcpy(&value, p, 8);
  return value;
}

void Store64(uint8_t* p, uint64_t value) { std::memcpy(p, &value, 8); }

void Answer(IoRequest& io, uint64_t value) {
  std::memcpy(io.data.data(), &value, io.data.size());
}

absl::StatusOr<bool> ItsOffered(Hypervisor& hypervisor) {
  ASSIGN_OR_RETURN(std::unique_ptr<Vm> vm, hypervisor.CreateVm());
  return vm->CheckCapability(VmCap::kGicIts);
}

}  // namespace hv::testing
