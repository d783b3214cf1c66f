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
// scripted tests skip (saying why) on real backends, whose guest-code suites
// (x86_guest_conformance.h, aarch64/aarch64_guest_conformance.h) cover the
// same ground with real guests. The parameter is a BackendUnderTest
// (backend_under_test.h), the same one the guest-code suites take.
//
// Example (a backend's test file, in namespace hv::testing):
//   absl::StatusOr<BackendInstance> NewFakeGeniezone() {
//     std::shared_ptr<GeniezoneFake> fake = GeniezoneFake::Create();
//     ASSIGN_OR_RETURN(auto hypervisor,
//                      GeniezoneHypervisor::Create("/dev/gzvm", fake.get()));
//     return BackendInstance{std::move(hypervisor), std::move(fake)};
//   }
//   INSTANTIATE_TEST_SUITE_P(
//       Geniezone, ApiConformance,
//       ::testing::Values(BackendUnderTest{"geniezone_fake", NewFakeGeniezone}),
//       BackendName);
#ifndef HV_TESTING_API_CONFORMANCE_H_
#define HV_TESTING_API_CONFORMANCE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/vcpu.h"
#include "hypervisor/vm.h"
#include "testing/backend_under_test.h"
#include "testing/scripted_guest.h"

namespace hv::testing {

// ApiConformance: each test gets a fresh hypervisor (hypervisor_), a VM
// (vm_) and the fake's script (script_, nullptr on real backends).
//
// Tests that need the script start with HV_REQUIRE_SCRIPT(), which skips
// them (saying why) on real backends.
class ApiConformance : public BackendTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  // ApiConformance::NewRunnableVcpu(): vCPU `id` of vm_, set up the way
  // its architecture needs before it may run. aarch64: before the VM's
  // first vCPU, a 64 KiB boot region at kBootRegionBase whose first page
  // stands for the devicetree, and VmAArch64::InitArch (Gunyah cannot start
  // a VM without one); each vCPU Init with PSCI 0.2.
  absl::StatusOr<std::unique_ptr<Vcpu>> NewRunnableVcpu(uint32_t id);
  // ApiConformance::EnsureIrqChip(): gives vm_ the in-kernel interrupt
  // controller its architecture needs for irqfds and irq lines (x86: the
  // kernel PIC/IOAPIC, else a split irqchip's local APICs where that is all
  // the backend has (WHPX); aarch64: a GICv3, else v2), where the backend
  // has one to create; OK when it has none to create.
  absl::Status EnsureIrqChip();
  // ApiConformance::FinishIrqChip(): after the vCPUs are created: finalizes
  // the GIC EnsureIrqChip created (aarch64); OK when there is none.
  absl::Status FinishIrqChip();

  // Where NewRunnableVcpu puts an aarch64 VM's boot region: away from
  // every address the suite's tests use.
  static constexpr GuestAddress kBootRegionBase = 0x40000000;
  static constexpr uint64_t kBootRegionSize = 64 * 1024;

  std::unique_ptr<Vm> vm_;
  bool boot_configured_ = false;
  bool gic_created_ = false;
};

}  // namespace hv::testing

#define HV_REQUIRE_SCRIPT()                                                \
  if (script_ == nullptr)                                                  \
  GTEST_SKIP() << GetParam().name                                          \
               << " runs real guests: its guest-code suite covers this"

#endif  // HV_TESTING_API_CONFORMANCE_H_
