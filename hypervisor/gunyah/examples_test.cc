// The Example: block of gunyah_test_util.h, pasted as it stands there and
// run, so an example that no longer matches the helpers stops the build.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/gunyah/gunyah_test_util.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::testing::Contains;

TEST(GunyahExamples, TestUtil) {
  ASSERT_OK_AND_ASSIGN(hv::testing::GunyahTestEnv gunyah,
                       hv::testing::NewGunyahTestEnv());
  ASSERT_OK_AND_ASSIGN(auto vm, hv::testing::NewBootableVm(*gunyah.hypervisor));
  EXPECT_THAT(hv::testing::CallNames(*gunyah.fake), Contains("GH_CREATE_VM"));
}

}  // namespace
}  // namespace hv
