// The Example: block of geniezone_test_util.h, pasted as it stands there and
// run, so an example that no longer matches the helpers stops the build.
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/geniezone/geniezone_test_util.h"
#include "hypervisor/memory_region.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::testing::ElementsAre;

TEST(GeniezoneExamples, TestUtil) {
  ASSERT_OK_AND_ASSIGN(auto ram, MemoryRegion::CreateShared("ram", 1 << 20));
  ASSERT_OK_AND_ASSIGN(hv::testing::GeniezoneTestEnv env,
                       hv::testing::GeniezoneTestEnv::Create());
  env.fake->ClearCalls();
  ASSERT_OK(env.vm->AddMemoryRegion(0, std::move(ram), {}).status());
  EXPECT_THAT(hv::testing::IoctlNames(*env.fake),
              ElementsAre("GZVM_SET_USER_MEMORY_REGION"));
}

}  // namespace
}  // namespace hv
