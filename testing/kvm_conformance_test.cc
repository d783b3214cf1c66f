// The conformance suites on the KVM backend, with the host's real /dev/kvm:
// the guest-code suite (conformance_test_suite.h) and the API suite
// (api_conformance.h), whose scripted tests skip here because real guests
// cover them. Without /dev/kvm every test fails, unless
// HV_ALLOW_MISSING_KVM=1 asks them to skip.

#include "gtest/gtest.h"
#include "hypervisor/hypervisor.h"
#include "testing/api_conformance.h"
#include "testing/conformance_test_suite.h"

namespace hv::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(
    Kvm, Conformance,
    ::testing::Values(BackendUnderTest{
        "kvm", [] { return CreateHypervisor("kvm"); }, "HV_ALLOW_MISSING_KVM"}),
    BackendName);

INSTANTIATE_TEST_SUITE_P(
    Kvm, ApiConformance,
    ::testing::Values(ApiBackend{
        "kvm",
        []() -> absl::StatusOr<ApiBackendInstance> {
          absl::StatusOr<std::unique_ptr<Hypervisor>> kvm =
              CreateHypervisor("kvm");
          if (!kvm.ok()) return kvm.status();
          return ApiBackendInstance{*std::move(kvm), nullptr};
        },
        "HV_ALLOW_MISSING_KVM"}),
    ApiBackendName);

}  // namespace
}  // namespace hv::testing
