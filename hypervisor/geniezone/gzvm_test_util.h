// Test helpers for the Geniezone backend's tests: a backend over a fresh
// FakeGzvm, and views of the calls the fake recorded.
//
// Example:
//   ASSERT_OK_AND_ASSIGN(hv::testing::GzvmTestEnv env,
//                        hv::testing::GzvmTestEnv::Create());
//   env.fake->ClearCalls();
//   ASSERT_OK(env.vm->AddMemoryRegion(0, std::move(ram), {}).status());
//   EXPECT_THAT(hv::testing::IoctlNames(*env.fake),
//               ElementsAre("GZVM_SET_USER_MEMORY_REGION"));
#ifndef HV_HYPERVISOR_GENIEZONE_GZVM_TEST_UTIL_H_
#define HV_HYPERVISOR_GENIEZONE_GZVM_TEST_UTIL_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "hypervisor/geniezone/gzvm_hypervisor.h"
#include "hypervisor/geniezone/gzvm_vm.h"
#include "hypervisor/os/status_macros.h"
#include "testing/fakes/gzvm_fake.h"

namespace hv::testing {

struct GzvmTestEnv {
  std::shared_ptr<FakeGzvm> fake;
  std::unique_ptr<GeniezoneHypervisor> hypervisor;
  std::unique_ptr<Vm> vm;

  // GzvmTestEnv::arm(): the VM's aarch64 view.
  VmAArch64* arm() const { return vm->AsAArch64(); }

  // GzvmTestEnv::Create(): a hypervisor and a VM over a new fake.
  static absl::StatusOr<GzvmTestEnv> Create(
      FakeGzvm::Options options = FakeGzvm::Options()) {
    GzvmTestEnv env;
    env.fake = FakeGzvm::Create(options);
    ASSIGN_OR_RETURN(env.hypervisor, GeniezoneHypervisor::Create(
                                         options.device_path, env.fake.get()));
    ASSIGN_OR_RETURN(env.vm, env.hypervisor->CreateVm());
    return env;
  }

  GzvmTestEnv() = default;
  GzvmTestEnv(GzvmTestEnv&&) = default;
  GzvmTestEnv& operator=(GzvmTestEnv&&) = default;
  // The VM and hypervisor go before the fake that serves them.
  ~GzvmTestEnv() {
    vm.reset();
    hypervisor.reset();
  }
};

// IoctlNames(): the names of the ioctls the fake recorded, in order.
inline std::vector<std::string> IoctlNames(const FakeGzvm& fake) {
  std::vector<std::string> names;
  for (const FakeGzvm::Call& call : fake.calls()) {
    if (call.kind == FakeGzvm::Call::Kind::kIoctl) names.push_back(call.name);
  }
  return names;
}

// CallNames(): every recorded seam call's name, in order.
inline std::vector<std::string> CallNames(const FakeGzvm& fake) {
  std::vector<std::string> names;
  for (const FakeGzvm::Call& call : fake.calls()) names.push_back(call.name);
  return names;
}

// LastIoctl(): the last recorded ioctl named `name`.
inline FakeGzvm::Call LastIoctl(const FakeGzvm& fake, const std::string& name) {
  FakeGzvm::Call last;
  for (const FakeGzvm::Call& call : fake.calls()) {
    if (call.kind == FakeGzvm::Call::Kind::kIoctl && call.name == name) {
      last = call;
    }
  }
  return last;
}

}  // namespace hv::testing

#endif  // HV_HYPERVISOR_GENIEZONE_GZVM_TEST_UTIL_H_
