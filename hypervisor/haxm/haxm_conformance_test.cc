// The API conformance suite (testing/api_conformance.h) on the HAXM backend
// over the fake driver (testing/fakes/haxm_fake.h), once per device
// interface: the POSIX port's numbering and Windows'.
#include <memory>

#include "gtest/gtest.h"
#include "hypervisor/haxm/haxm_hypervisor.h"
#include "testing/api_conformance.h"
#include "testing/backend_under_test.h"
#include "testing/fakes/haxm_fake.h"

namespace hv::testing {
namespace {

absl::StatusOr<BackendInstance> NewFakeHaxmBackend(
    const haxm_abi::Platform& platform) {
  HaxmFakeOptions options;
  options.platform = &platform;
  auto fake = std::make_shared<HaxmFake>(options);
  return ScriptedBackend(
      HaxmHypervisor::Create(HaxmHypervisor::DefaultDevicePath(*fake),
                             fake.get()),
      fake);
}

INSTANTIATE_TEST_SUITE_P(
    Haxm, ApiConformance,
    ::testing::Values(
        BackendUnderTest{"haxm_posix",
                         [] {
                           return NewFakeHaxmBackend(
                               haxm_abi::PosixPlatform());
                         }},
        BackendUnderTest{"haxm_windows",
                         [] {
                           return NewFakeHaxmBackend(
                               haxm_abi::WindowsPlatform());
                         }}),
    BackendName);

}  // namespace
}  // namespace hv::testing
