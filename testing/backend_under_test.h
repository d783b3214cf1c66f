// BackendUnderTest: the one parameter every conformance suite takes -- how
// a test gets a fresh hypervisor of the backend it checks, and what that
// backend needs that the hv API has no call for.
//
// The suites (each a library of TEST_Ps; a backend's test only
// instantiates them):
// - ApiConformance (api_conformance.h): no guest code; every backend, real
//   ones and those tested against a fake that plays the guest (`script`);
// - X86GuestConformance (x86_guest_conformance.h): real x86 guest programs,
//   for backends that run guest code;
// - AArch64GuestConformance (aarch64/aarch64_guest_conformance.h): the
//   aarch64 guest image, likewise.
// One BackendUnderTest value serves every suite a backend runs.
//
// Example (a backend's test file):
//   const hv::testing::BackendUnderTest kKvm = hv::testing::RegisteredBackend(
//       "kvm", "kvm", "HV_ALLOW_MISSING_KVM");
//   INSTANTIATE_TEST_SUITE_P(Kvm, ApiConformance, ::testing::Values(kKvm),
//                            hv::testing::BackendName);
//   INSTANTIATE_TEST_SUITE_P(Kvm, X86GuestConformance,
//                            ::testing::Values(kKvm), hv::testing::BackendName);
#ifndef HV_TESTING_BACKEND_UNDER_TEST_H_
#define HV_TESTING_BACKEND_UNDER_TEST_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/vm.h"
#include "testing/scripted_guest.h"
#include "testing/status_matchers.h"

namespace hv::testing {

// BackendInstance: one fresh hypervisor, and for a fake its script (which
// must stay valid while the hypervisor and its VMs live).
struct BackendInstance {
  std::unique_ptr<Hypervisor> hypervisor;
  std::shared_ptr<ScriptedGuest> script;  // nullptr for a real backend
};

struct BackendUnderTest {
  std::string name;  // a test-name suffix: [A-Za-z0-9_]
  std::function<absl::StatusOr<BackendInstance>()> create;
  // When `create` fails, every test fails, unless this environment variable
  // (which CI never sets) is "1": then they skip. Empty: always fail.
  std::string allow_missing_env;
};

// RegisteredBackend(): the real backend `spec` names in the registry
// (hv::CreateHypervisor(spec)), with no script.
BackendUnderTest RegisteredBackend(std::string name, std::string spec,
                                   std::string allow_missing_env);

// ScriptedBackend(): a BackendUnderTest::create result for a backend tested
// against a fake of its kernel interface: `hypervisor` (or its error), with
// the fake as `script`. Pass the fake by copy, not std::move, when
// `hypervisor` is created in the same call from a pointer to it:
//   auto fake = GeniezoneFake::Create();
//   return ScriptedBackend(
//       GeniezoneHypervisor::Create("/dev/gzvm", fake.get()), fake);
absl::StatusOr<BackendInstance> ScriptedBackend(
    absl::StatusOr<std::unique_ptr<Hypervisor>> hypervisor,
    std::shared_ptr<ScriptedGuest> script);

void PrintTo(const BackendUnderTest& backend, std::ostream* os);

// BackendName(): the name generator for INSTANTIATE_TEST_SUITE_P.
std::string BackendName(
    const ::testing::TestParamInfo<BackendUnderTest>& info);

// OpenBackend(): `backend.create()` into `*instance`. When it fails, FAILs
// the current test (fatally), or skips it when `allow_missing_env` is "1";
// the caller's SetUp returns after
//   ASSERT_NO_FATAL_FAILURE(OpenBackend(GetParam(), &instance));
//   if (IsSkipped()) return;
void OpenBackend(const BackendUnderTest& backend, BackendInstance* instance);

// BackendTest: the fixture every conformance suite derives from. SetUp()
// opens GetParam()'s backend (OpenBackend) into hypervisor_ and script_;
// a suite's own SetUp() calls it first and returns after
//   ASSERT_NO_FATAL_FAILURE(BackendTest::SetUp());
//   if (IsSkipped()) return;
// TearDown() releases the hypervisor before the script it may call; a
// suite's own TearDown() releases its VMs, then calls it.
class BackendTest : public ::testing::TestWithParam<BackendUnderTest> {
 protected:
  void SetUp() override;
  void TearDown() override;

  std::shared_ptr<ScriptedGuest> script_;  // nullptr on real backends
  std::unique_ptr<Hypervisor> hypervisor_;
};

}  // namespace hv::testing

// HV_UNIMPLEMENTED_WITHOUT(vm, cap, call): where `vm` (a Vm) lacks VmCap
// `cap`, expects `call` (which needs it) to fail UNIMPLEMENTED, as
// documented, and ends the test; where it has it, does nothing and `call`
// is not made. In a test body, before the test's own use of `cap`:
//   HV_UNIMPLEMENTED_WITHOUT(*vm_, VmCap::kIrqfd,
//                            vm_->RegisterIrqfd(event, 5));
#define HV_UNIMPLEMENTED_WITHOUT(vm, cap, call)                          \
  do {                                                                   \
    if (!(vm).CheckCapability(cap)) {                                    \
      EXPECT_THAT((call), ::hv::testing::StatusIs(                       \
                              ::absl::StatusCode::kUnimplemented));     \
      return;                                                            \
    }                                                                    \
  } while (0)

#endif  // HV_TESTING_BACKEND_UNDER_TEST_H_
