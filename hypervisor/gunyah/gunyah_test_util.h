// Helpers shared by the Gunyah backend's tests: a GunyahHypervisor over a
// fresh GunyahFake, a VM that can start (RAM holding its devicetree), and
// readers for the calls the fake recorded. Test-only.
//
// Example:
//   ASSERT_OK_AND_ASSIGN(hv::testing::GunyahTestEnv gunyah,
//                        hv::testing::NewGunyahTestEnv());
//   ASSERT_OK_AND_ASSIGN(auto vm, hv::testing::NewBootableVm(*gunyah.hypervisor));
//   EXPECT_THAT(gunyah.fake->CallNames(), Contains("GH_CREATE_VM"));
#ifndef HV_HYPERVISOR_GUNYAH_GUNYAH_TEST_UTIL_H_
#define HV_HYPERVISOR_GUNYAH_GUNYAH_TEST_UTIL_H_

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/gunyah/gunyah_hypervisor.h"
#include "hypervisor/gunyah/gunyah_vm.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/status_macros.h"
#include "testing/fakes/gunyah_fake.h"

namespace hv::testing {

// Where NewBootableVm() puts RAM and the devicetree.
inline constexpr uint64_t kRamBase = 0x80000000;
inline constexpr uint64_t kRamSize = 1 << 20;
inline constexpr uint64_t kDtbSize = 0x1000;

// GunyahTestEnv: a GunyahHypervisor over its own GunyahFake.
struct GunyahTestEnv {
  std::shared_ptr<GunyahFake> fake;
  std::unique_ptr<GunyahHypervisor> hypervisor;
};

inline absl::StatusOr<GunyahTestEnv> NewGunyahTestEnv() {
  GunyahTestEnv result;
  result.fake = std::make_shared<GunyahFake>();
  ASSIGN_OR_RETURN(result.hypervisor,
                   GunyahHypervisor::Create("/dev/gunyah", result.fake.get()));
  return result;
}

// The aarch64 VM of a fresh VM of `hypervisor` (a GunyahVm).
inline absl::StatusOr<std::unique_ptr<VmAArch64>> NewArmVm(
    GunyahHypervisor& hypervisor) {
  ASSIGN_OR_RETURN(std::unique_ptr<Vm> vm, hypervisor.CreateVm());
  if (vm->AsAArch64() == nullptr) {
    return absl::InternalError("a Gunyah VM is not a VmAArch64");
  }
  return std::unique_ptr<VmAArch64>(vm.release()->AsAArch64());
}

// A VM with kRamSize bytes of RAM at kRamBase whose first page is the
// devicetree (InitArch: GH_VM_SET_DTB_CONFIG), so its first vCPU run can
// start it.
inline absl::StatusOr<std::unique_ptr<VmAArch64>> NewBootableVm(
    GunyahHypervisor& hypervisor) {
  ASSIGN_OR_RETURN(std::unique_ptr<VmAArch64> vm, NewArmVm(hypervisor));
  ASSIGN_OR_RETURN(auto ram, MemoryRegion::CreateShared("gunyah-ram", kRamSize));
  RETURN_IF_ERROR(vm->AddMemoryRegion(kRamBase, std::move(ram), {}).status());
  RETURN_IF_ERROR(vm->InitArch(kRamBase + kDtbSize, kRamBase, kDtbSize));
  return vm;
}

// Whether the fake's latest VM has started (GH_VM_START succeeded).
inline bool LatestVmRunning(const GunyahFake& fake) {
  auto vm = fake.LatestVm();
  return vm.has_value() && vm->status == GunyahFake::VmState::Status::kRunning;
}

// The struct a recorded call's argument (or function argument) held.
template <typename T>
T ArgAs(const std::vector<uint8_t>& bytes) {
  T value = {};
  if (bytes.size() == sizeof(T)) std::memcpy(&value, bytes.data(), sizeof(T));
  return value;
}

// The last recorded call named `name` (a default Call when there is none).
inline GunyahFake::Call LastCall(const GunyahFake& fake,
                                 const std::string& name) {
  std::vector<GunyahFake::Call> calls = fake.Calls();
  for (auto it = calls.rbegin(); it != calls.rend(); ++it) {
    if (it->name == name) return *it;
  }
  return {};
}

}  // namespace hv::testing

#endif  // HV_HYPERVISOR_GUNYAH_GUNYAH_TEST_UTIL_H_
