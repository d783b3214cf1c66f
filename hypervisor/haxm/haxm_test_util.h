// What the HAXM backend's tests share: a hypervisor, a VM and a vCPU over a
// fresh HaxmFake speaking either platform's device interface, the two
// interfaces to run a test on, and a count of the fake's recorded calls.
// Test-only.
#ifndef HV_HYPERVISOR_HAXM_HAXM_TEST_UTIL_H_
#define HV_HYPERVISOR_HAXM_HAXM_TEST_UTIL_H_

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "hypervisor/haxm/haxm_abi.h"
#include "hypervisor/haxm/haxm_hypervisor.h"
#include "hypervisor/haxm/haxm_vm.h"
#include "hypervisor/vm.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"
#include "testing/fakes/haxm_fake.h"
#include "testing/status_matchers.h"

namespace hv::testing {

// HaxmPlatforms(): both device interfaces (POSIX _IOx, Windows CTL_CODE).
inline std::vector<const haxm_abi::Platform*> HaxmPlatforms() {
  return {&haxm_abi::PosixPlatform(), &haxm_abi::WindowsPlatform()};
}

// HaxmOptionsFor(): a fake speaking `platform`'s interface.
inline HaxmFakeOptions HaxmOptionsFor(const haxm_abi::Platform* platform) {
  HaxmFakeOptions options;
  options.platform = platform;
  return options;
}

// HaxmTestEnv: members in creation order, so they are destroyed vCPU
// first and the fake last.
struct HaxmTestEnv {
  std::unique_ptr<HaxmFake> fake;
  std::unique_ptr<HaxmHypervisor> haxm;
  std::unique_ptr<Vm> vm;
  HaxmVm* haxm_vm = nullptr;  // `vm` as the backend's type
  std::unique_ptr<VcpuX86_64> vcpu;  // NewHaxmVcpu() only
};

// NewHaxmVm(): a fake with `options`, a hypervisor on its default device
// path and a VM, with the fake's calls cleared. A failure is a test failure
// and leaves the later members null.
inline HaxmTestEnv NewHaxmVm(HaxmFakeOptions options = {}) {
  HaxmTestEnv env;
  env.fake = std::make_unique<HaxmFake>(options);
  auto haxm = HaxmHypervisor::Create(
      HaxmHypervisor::DefaultDevicePath(*env.fake), env.fake.get());
  EXPECT_OK(haxm.status());
  if (!haxm.ok()) return env;
  env.haxm = *std::move(haxm);
  auto vm = env.haxm->CreateVm();
  EXPECT_OK(vm.status());
  if (!vm.ok()) return env;
  env.vm = *std::move(vm);
  env.haxm_vm = static_cast<HaxmVm*>(env.vm.get());
  env.fake->ClearCalls();
  return env;
}

// NewHaxmVcpu(): NewHaxmVm() and its vCPU 0, with the calls cleared again.
inline HaxmTestEnv NewHaxmVcpu(HaxmFakeOptions options = {}) {
  HaxmTestEnv env = NewHaxmVm(options);
  if (env.vm == nullptr) return env;
  auto vcpu = env.vm->AsX86_64()->CreateVcpuX86_64(0);
  EXPECT_OK(vcpu.status());
  if (!vcpu.ok()) return env;
  env.vcpu = *std::move(vcpu);
  env.fake->ClearCalls();
  return env;
}

// CountHaxmCalls(): how many recorded calls are named `name`.
inline size_t CountHaxmCalls(HaxmFake& fake, const std::string& name) {
  size_t n = 0;
  for (const HaxmCall& call : fake.Calls()) n += call.name == name;
  return n;
}

}  // namespace hv::testing

#endif  // HV_HYPERVISOR_HAXM_HAXM_TEST_UTIL_H_
