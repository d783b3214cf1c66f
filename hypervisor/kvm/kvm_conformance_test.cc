// The conformance suites on the x86_64 KVM backend, with a real /dev/kvm
// (the host's, or the QEMU VM's under hv_kvm_test): the x86 guest-code
// suite (testing/x86_guest_conformance.h) and the API suite
// (testing/api_conformance.h), whose scripted tests skip here because real
// guests cover them. Without /dev/kvm every test fails, unless
// HV_ALLOW_MISSING_KVM=1 asks them to skip.

#include "gtest/gtest.h"
#include "testing/api_conformance.h"
#include "testing/backend_under_test.h"
#include "testing/x86_guest_conformance.h"

namespace hv::testing {
namespace {

const BackendUnderTest kKvm =
    RegisteredBackend("kvm", "kvm", "HV_ALLOW_MISSING_KVM");

INSTANTIATE_TEST_SUITE_P(Kvm, X86GuestConformance, ::testing::Values(kKvm),
                         BackendName);

INSTANTIATE_TEST_SUITE_P(Kvm, ApiConformance, ::testing::Values(kKvm),
                         BackendName);

}  // namespace
}  // namespace hv::testing
