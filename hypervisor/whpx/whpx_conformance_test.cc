// The API conformance suite (testing/api_conformance.h) on the WHPX backend
// over the fake WHPX function table (testing/fakes/whpx_fake.h), which
// checks every call and plays the guest.
#include <memory>

#include "gtest/gtest.h"
#include "hypervisor/whpx/whpx_hypervisor.h"
#include "testing/api_conformance.h"
#include "testing/backend_under_test.h"
#include "testing/fakes/whpx_fake.h"

namespace hv::testing {
namespace {

absl::StatusOr<BackendInstance> NewFakeWhpx() {
  std::shared_ptr<WhpxFake> fake = WhpxFake::Create();
  return ScriptedBackend(WhpxHypervisor::Create(fake->api()), fake);
}

INSTANTIATE_TEST_SUITE_P(
    Whpx, ApiConformance,
    ::testing::Values(BackendUnderTest{"whpx_fake", NewFakeWhpx, ""}),
    BackendName);

}  // namespace
}  // namespace hv::testing
