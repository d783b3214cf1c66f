// The API conformance suite (testing/api_conformance.h) on the Geniezone
// backend over the ABI-faithful fake of /dev/gzvm, which plays the guest.
#include <memory>

#include "gtest/gtest.h"
#include "hypervisor/geniezone/geniezone_hypervisor.h"
#include "testing/api_conformance.h"
#include "testing/backend_under_test.h"
#include "testing/fakes/geniezone_fake.h"

namespace hv::testing {
namespace {

absl::StatusOr<BackendInstance> NewFakeGeniezone() {
  std::shared_ptr<GeniezoneFake> fake = GeniezoneFake::Create();
  return ScriptedBackend(GeniezoneHypervisor::Create("/dev/gzvm", fake.get()),
                         fake);
}

INSTANTIATE_TEST_SUITE_P(
    Geniezone, ApiConformance,
    ::testing::Values(BackendUnderTest{"geniezone_fake", NewFakeGeniezone, ""}),
    BackendName);

}  // namespace
}  // namespace hv::testing
