// The backend-agnostic conformance suite: one set of parameterised tests,
// written against hv::Hypervisor / hv::Vm / hv::Vcpu only, that every
// backend is instantiated with. Where a backend can run guest code the tests
// run real guest programs (testing/guest/*.S through GuestFixture); a test of
// a capability the backend lacks asserts the documented error instead.
//
// The tests live in conformance_*.cc of the `conformance_test_suite`
// library (alwayslink, so the linker keeps them); a backend's test binary
// only instantiates them.
//
// Example (a backend's test file):
//   INSTANTIATE_TEST_SUITE_P(
//       Kvm, Conformance,
//       ::testing::Values(hv::testing::BackendUnderTest{
//           "kvm", [] { return hv::CreateHypervisor("kvm"); },
//           "HV_ALLOW_MISSING_KVM"}),
//       hv::testing::BackendName);
#ifndef HV_TESTING_CONFORMANCE_TEST_SUITE_H_
#define HV_TESTING_CONFORMANCE_TEST_SUITE_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/vm.h"
#include "testing/guest_fixture.h"

namespace hv::testing {

// BackendUnderTest: how the suite gets a fresh hypervisor for each test.
struct BackendUnderTest {
  std::string name;  // a test-name suffix: [A-Za-z0-9_]
  std::function<absl::StatusOr<std::unique_ptr<Hypervisor>>()> create;
  // When `create` fails, every test fails, unless this environment variable
  // (which CI never sets) is "1": then they skip. Empty: always fail.
  std::string allow_missing_env;
};

// Both 64-bit modes: CPL0 (emulated on nested-PVM KVM) and CPL3 (native).
inline constexpr GuestMode kLongModes[] = {GuestMode::kLong,
                                           GuestMode::kLongUser};

// LowBytes(): the `n` low bytes of `value`, least significant first.
std::vector<uint8_t> LowBytes(uint64_t value, size_t n);

// Pattern(): `n` test bytes; byte i is (seed + 0x11 * (i + 1)) mod 256, so
// neighbouring bytes differ and patterns of different seeds differ at every
// position.
std::vector<uint8_t> Pattern(uint8_t seed, size_t n);

// Le64(): the 8 bytes at `p` as a little-endian integer.
uint64_t Le64(const uint8_t* p);

void PrintTo(const BackendUnderTest& backend, std::ostream* os);

// BackendName(): the name generator for INSTANTIATE_TEST_SUITE_P.
std::string BackendName(
    const ::testing::TestParamInfo<BackendUnderTest>& info);

// Conformance: each test gets a new hypervisor, an x86_64 VM without an
// irqchip and a GuestFixture on it (guest_); tests that need an irqchip make
// their own VM with NewVm().
class Conformance : public ::testing::TestWithParam<BackendUnderTest> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Conformance::NewVm(): another VM of the same hypervisor.
  absl::StatusOr<std::unique_ptr<Vm>> NewVm() { return hypervisor_->CreateVm(); }

  std::unique_ptr<Hypervisor> hypervisor_;
  std::unique_ptr<Vm> vm_;
  std::unique_ptr<GuestFixture> guest_;
};

}  // namespace hv::testing

#endif  // HV_TESTING_CONFORMANCE_TEST_SUITE_H_
