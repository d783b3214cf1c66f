#include "testing/fakes/fault_plan.h"

#include <cerrno>
#include <optional>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hv::testing {
namespace {

using ::testing::Eq;
using ::testing::Optional;

TEST(FaultPlan, ExampleFromTheHeader) {
  FaultPlan plan;
  plan.FailCall(1, EIO);
  EXPECT_EQ(plan.Count("open"), std::nullopt);
  std::optional<int> e = plan.Count("mmap");
  EXPECT_THAT(e, Optional(Eq(EIO)));
  EXPECT_EQ(plan.last_fault(), "mmap");
  EXPECT_EQ(plan.faults_injected(), 1u);
}

TEST(FaultPlan, CallNumbersAreZeroBasedAndFireOnce) {
  FaultPlan plan;
  plan.FailCall(0, EPERM);
  plan.FailCall(2, ENOMEM);
  EXPECT_THAT(plan.Count("a"), Optional(Eq(EPERM)));
  EXPECT_EQ(plan.Count("b"), std::nullopt);
  EXPECT_THAT(plan.Count("c"), Optional(Eq(ENOMEM)));
  EXPECT_EQ(plan.Count("d"), std::nullopt);
  EXPECT_EQ(plan.calls(), 4u);
  EXPECT_EQ(plan.faults_injected(), 2u);
  EXPECT_EQ(plan.last_fault(), "c");
}

TEST(FaultPlan, FailNextCallIsTheNextNumber) {
  FaultPlan plan;
  plan.Count("a");
  plan.FailNextCall(EINTR);
  EXPECT_THAT(plan.Count("b"), Optional(Eq(EINTR)));
}

TEST(FaultPlan, FailNextSkipsMatchingCallsOnly) {
  FaultPlan plan;
  plan.FailNext("ioctl", EBUSY, /*skip=*/1);
  EXPECT_EQ(plan.Count("ioctl"), std::nullopt);
  EXPECT_EQ(plan.Count("close"), std::nullopt);
  EXPECT_THAT(plan.Count("ioctl"), Optional(Eq(EBUSY)));
  EXPECT_EQ(plan.Count("ioctl"), std::nullopt);
}

TEST(FaultPlan, CallNumberWinsAndTheNamedPlanStaysPending) {
  FaultPlan plan;
  plan.FailCall(0, EIO);
  plan.FailNext("x", EINVAL);
  EXPECT_THAT(plan.Count("x"), Optional(Eq(EIO)));
  EXPECT_THAT(plan.Count("x"), Optional(Eq(EINVAL)));
}

TEST(FaultPlan, ResetRestartsNumbersAndDropsNumberedPlans) {
  FaultPlan plan;
  plan.Count("a");
  plan.FailCall(5, EIO);
  plan.FailNext("b", EPERM);
  plan.Reset();
  EXPECT_EQ(plan.calls(), 0u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(plan.Count("a"), std::nullopt);
  EXPECT_THAT(plan.Count("b"), Optional(Eq(EPERM)));
}

TEST(FaultPlan, ClearDropsEveryPlanAndKeepsCounts) {
  FaultPlan plan;
  plan.FailCall(1, EIO);
  plan.FailNext("a", EIO);
  plan.Count("b");
  plan.Clear();
  EXPECT_EQ(plan.Count("a"), std::nullopt);
  EXPECT_EQ(plan.calls(), 2u);
  EXPECT_EQ(plan.last_fault(), "");
}

TEST(FaultPlan, CountsFromManyThreadsFireOneFault) {
  FaultPlan plan;
  plan.FailCall(500, EIO);
  std::vector<std::thread> threads;
  std::vector<int> fired(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&plan, &fired, t] {
      for (int i = 0; i < 250; ++i) fired[t] += plan.Count("c").has_value();
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(plan.calls(), 1000u);
  EXPECT_EQ(fired[0] + fired[1] + fired[2] + fired[3], 1);
}

}  // namespace
}  // namespace hv::testing
