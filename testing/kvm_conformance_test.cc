// The conformance suite (conformance_test_suite.h) on the KVM backend, with
// the host's real /dev/kvm. Without it every test fails, unless
// HV_ALLOW_MISSING_KVM=1 asks them to skip.

#include "gtest/gtest.h"
#include "hypervisor/hypervisor.h"
#include "testing/conformance_test_suite.h"

namespace hv::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(
    Kvm, Conformance,
    ::testing::Values(BackendUnderTest{
        "kvm", [] { return CreateHypervisor("kvm"); }, "HV_ALLOW_MISSING_KVM"}),
    BackendName);

}  // namespace
}  // namespace hv::testing
