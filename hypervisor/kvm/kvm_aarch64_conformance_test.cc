// The conformance suites on the aarch64 KVM backend, with a real arm64
// /dev/kvm (on an x86_64 build machine, the arm64 VM's): the aarch64
// guest-code suite (testing/aarch64/aarch64_guest_conformance.h) and the API
// suite (testing/api_conformance.h), whose scripted tests skip here because
// real guests cover them. Without /dev/kvm every test fails, unless
// HV_ALLOW_MISSING_KVM=1 asks them to skip.

#include "gtest/gtest.h"
#include "testing/aarch64/aarch64_guest_conformance.h"
#include "testing/api_conformance.h"
#include "testing/backend_under_test.h"

namespace hv::testing {
namespace {

const BackendUnderTest kKvm =
    RegisteredBackend("kvm", "kvm", "HV_ALLOW_MISSING_KVM");

INSTANTIATE_TEST_SUITE_P(KvmAArch64, AArch64GuestConformance,
                         ::testing::Values(kKvm), BackendName);

INSTANTIATE_TEST_SUITE_P(KvmAArch64, ApiConformance, ::testing::Values(kKvm),
                         BackendName);

}  // namespace
}  // namespace hv::testing
