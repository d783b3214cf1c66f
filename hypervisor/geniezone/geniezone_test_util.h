// Test helpers for the Geniezone backend's tests: a backend over a fresh
// GeniezoneFake, and views of the calls the fake recorded.
//
// Example:
//   ASSERT_OK_AND_ASSIGN(hv::testing::GeniezoneTestEnv env,
//                        hv::testing::GeniezoneTestEnv::Create());
//   env.fake->ClearCalls();
//   ASSERT_OK(env.vm->AddMemoryRegion(0, std::move(ram), {}).status());
//   EXPECT_THAT(hv::testing::IoctlNames(*env.fake),
//               ElementsAre("GZVM_SET_USER_MEMORY_REGION"));
#ifndef HV_HYPERVISOR_GENIEZONE_GENIEZONE_TEST_UTIL_H_
#define HV_HYPERVISOR_GENIEZONE_GENIEZONE_TEST_UTIL_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "hypervisor/geniezone/geniezone_hypervisor.h"
#include "hypervisor/geniezone/geniezone_vm.h"
#include "hypervisor/os/status_macros.h"
#include "testing/fakes/geniezone_fake.h"

namespace hv::testing {

struct GeniezoneTestEnv {
  std::shared_ptr<GeniezoneFake> fake;
  std::unique_ptr<GeniezoneHypervisor> hypervisor;
  std::unique_ptr<Vm> vm;

  // GeniezoneTestEnv::arm(): the VM's aarch64 view.
  VmAArch64* arm() const { return vm->AsAArch64(); }

  // GeniezoneTestEnv::Create(): a hypervisor and a VM over a new fake.
  static absl::StatusOr<GeniezoneTestEnv> Create(
      GeniezoneFake::Options options = GeniezoneFake::Options()) {
    GeniezoneTestEnv env;
    env.fake = GeniezoneFake::Create(options);
    ASSIGN_OR_RETURN(env.hypervisor, GeniezoneHypervisor::Create(
                                         options.device_path, env.fake.get()));
    ASSIGN_OR_RETURN(env.vm, env.hypervisor->CreateVm());
    return env;
  }

  GeniezoneTestEnv() = default;
  GeniezoneTestEnv(GeniezoneTestEnv&&) = default;
  GeniezoneTestEnv& operator=(GeniezoneTestEnv&&) = default;
  // The VM and hypervisor go before the fake that serves them.
  ~GeniezoneTestEnv() {
    vm.reset();
    hypervisor.reset();
  }
};

// IoctlNames(): the names of the ioctls the fake recorded, in order.
inline std::vector<std::string> IoctlNames(const GeniezoneFake& fake) {
  std::vector<std::string> names;
  for (const GeniezoneFake::Call& call : fake.calls()) {
    if (call.kind == GeniezoneFake::Call::Kind::kIoctl)
      names.push_back(call.name);
  }
  return names;
}

// LastIoctl(): the last recorded ioctl named `name`.
inline GeniezoneFake::Call LastIoctl(const GeniezoneFake& fake,
                                     const std::string& name) {
  GeniezoneFake::Call last;
  for (const GeniezoneFake::Call& call : fake.calls()) {
    if (call.kind == GeniezoneFake::Call::Kind::kIoctl && call.name == name) {
      last = call;
    }
  }
  return last;
}

}  // namespace hv::testing

#endif  // HV_HYPERVISOR_GENIEZONE_GENIEZONE_TEST_UTIL_H_
