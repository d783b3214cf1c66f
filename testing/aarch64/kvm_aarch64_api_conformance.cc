// The API conformance suite (testing/api_conformance.h) on the aarch64 KVM
// backend, linked into kvm_aarch64_test so it runs on the same real arm64
// /dev/kvm (the VM's). Its scripted tests skip: the guest-code tests of
// kvm_aarch64_test.cc cover that ground with a real guest.

#include "hypervisor/hypervisor.h"
#include "testing/api_conformance.h"

namespace hv::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(
    KvmAArch64, ApiConformance,
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
