// The Example: block of fault_plan.h, pasted as it stands there and run, so
// an example that no longer matches the API stops the build.
#include <cerrno>
#include <optional>

#include "gtest/gtest.h"
#include "testing/fakes/fault_plan.h"

namespace hv {
namespace {

TEST(FakesExamples, FaultPlan) {
  hv::testing::FaultPlan plan;
  plan.FailCall(1, EIO);
  plan.Count("open");                       // call 0: std::nullopt
  std::optional<int> e = plan.Count("mmap");  // call 1: EIO
  // plan.last_fault() == "mmap", plan.faults_injected() == 1
  EXPECT_EQ(e, EIO);
  EXPECT_EQ(plan.last_fault(), "mmap");
  EXPECT_EQ(plan.faults_injected(), 1u);
}

}  // namespace
}  // namespace hv
