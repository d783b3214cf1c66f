// The API conformance suite: parameterised tests written against
// hv::Hypervisor / hv::Vm / hv::Vcpu only, that need no guest code. Every
// backend is instantiated with it: real ones (KVM, on its /dev/kvm) and the
// ones tested against ABI-faithful fakes of their kernel interfaces
// (Geniezone, Gunyah, WHPX, HAXM), which also hand the suite a
// ScriptedGuest (scripted_guest.h) to play the guest with. It covers memory
// region bookkeeping and its errors, fd mappings, dirty logs, ioeventfds,
// irqfds, vCPU creation, immediate exit and kicks, and -- with a script --
// MMIO / port I/O / system-event exit decoding and completion.
//
// Tests of a capability the backend lacks assert the documented error;
// scripted tests skip (saying why) on real backends, whose guest-code suite
// (conformance_test_suite.h) covers the same ground with real guests.
//
// Example (a backend's test file):
//   INSTANTIATE_TEST_SUITE_P(
//       Gunyah, ApiConformance,
//       ::testing::Values(hv::testing::ApiBackend{
//           "gunyah", [] { return hv::testing::NewFakeGunyahBackend(); }}),
//       hv::testing::ApiBackendName);
#ifndef HV_TESTING_API_CONFORMANCE_H_
#define HV_TESTING_API_CONFORMANCE_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/vcpu.h"
#include "hypervisor/vm.h"
#include "testing/scripted_guest.h"

namespace hv::testing {

// ApiBackendInstance: one fresh hypervisor, and for a fake its script (which
// must stay valid while the hypervisor and its VMs live).
struct ApiBackendInstance {
  std::unique_ptr<Hypervisor> hypervisor;
  std::shared_ptr<ScriptedGuest> script;  // nullptr for a real backend
};

struct ApiBackend {
  std::string name;  // a test-name suffix: [A-Za-z0-9_]
  std::function<absl::StatusOr<ApiBackendInstance>()> create;
  // As BackendUnderTest::allow_missing_env: when set to "1" in the
  // environment, an unavailable backend skips instead of failing.
  std::string allow_missing_env;
  // What the backend's VMs need before a vCPU may run that the hv API has
  // no call for (Gunyah: a devicetree in guest memory, GH_VM_SET_DTB_CONFIG).
  // NewRunnableVcpu() calls it once per test on vm_; null: nothing needed.
  std::function<absl::Status(Vm& vm)> prepare_to_run;
};

void PrintTo(const ApiBackend& backend, std::ostream* os);
std::string ApiBackendName(const ::testing::TestParamInfo<ApiBackend>& info);

// ApiConformance: each test gets a fresh hypervisor (hypervisor_), a VM
// (vm_) and the fake's script (script_, nullptr on real backends).
//
// Tests that need the script start with HV_REQUIRE_SCRIPT(), which skips
// them (saying why) on real backends.
class ApiConformance : public ::testing::TestWithParam<ApiBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // ApiConformance::NewRunnableVcpu(): vCPU `id` of vm_, initialised the
  // way its architecture needs before it may run (aarch64: Init with PSCI
  // 0.2).
  absl::StatusOr<std::unique_ptr<Vcpu>> NewRunnableVcpu(uint32_t id);
  // ApiConformance::EnsureIrqChip(): gives vm_ the in-kernel interrupt
  // controller its architecture needs for irqfds and irq lines (x86: the
  // kernel PIC/IOAPIC; aarch64: a GICv3, else v2), where the backend has
  // one to create; OK when it has none to create.
  absl::Status EnsureIrqChip();
  // ApiConformance::FinishIrqChip(): after the vCPUs are created: finalizes
  // the GIC EnsureIrqChip created (aarch64); OK when there is none.
  absl::Status FinishIrqChip();

  std::unique_ptr<Hypervisor> hypervisor_;
  std::shared_ptr<ScriptedGuest> script_;
  std::unique_ptr<Vm> vm_;
  bool prepared_to_run_ = false;
  bool gic_created_ = false;
};

}  // namespace hv::testing

#define HV_REQUIRE_SCRIPT()                                                \
  if (script_ == nullptr)                                                  \
  GTEST_SKIP() << GetParam().name                                          \
               << " runs real guests: its guest-code suite covers this"

#endif  // HV_TESTING_API_CONFORMANCE_H_
