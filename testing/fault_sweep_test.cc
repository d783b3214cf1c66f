#include "testing/fault_sweep.h"

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "testing/fakes/fault_plan.h"

namespace hv::testing {
namespace {

// Three calls that report their failure, then two teardown calls that
// cannot.
absl::Status Scenario(FaultPlan& plan) {
  for (const char* call : {"open", "ioctl", "mmap"}) {
    if (std::optional<int> error = plan.Count(call)) {
      return absl::UnknownError(absl::StrCat(call, ": errno ", *error));
    }
  }
  plan.Count("munmap");
  plan.Count("close");
  return absl::OkStatus();
}

TEST(SweepFaults, FailsEveryCallOnceAndCountsOutcomes) {
  std::vector<uint64_t> seen;
  const FaultSweep sweep = SweepFaults([&](uint64_t n) {
    seen.push_back(n);
    FaultPlan plan;
    plan.FailCall(n, EIO);
    const absl::Status status = Scenario(plan);
    return FaultRun{plan.faults_injected() == 1, status};
  });
  EXPECT_EQ(sweep.calls, 5u);
  EXPECT_EQ(sweep.reported, 3u);
  EXPECT_EQ(sweep.unreported, 2u);
  EXPECT_EQ(sweep.leaked, 0u);
  // Runs 0..4 injected a fault; run 5 found no call 5 and ended the sweep.
  EXPECT_EQ(seen, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5}));
}

TEST(SweepFaults, CountsRunsThatLeaked) {
  const FaultSweep sweep = SweepFaults([&](uint64_t n) {
    FaultPlan plan;
    plan.FailCall(n, EIO);
    const absl::Status status = Scenario(plan);
    // Pretend the failed ioctl (call 1) leaked; the run with no fault
    // injected leaks too, but ends the sweep uncounted.
    return FaultRun{plan.faults_injected() == 1, status, n == 1 || n == 5};
  });
  EXPECT_EQ(sweep.calls, 5u);
  EXPECT_EQ(sweep.leaked, 1u);
}

TEST(SweepFaults, StopsAtTheLimit) {
  uint64_t runs = 0;
  FaultSweep sweep;
  EXPECT_NONFATAL_FAILURE(
      sweep = SweepFaults(
          [&](uint64_t) {
            ++runs;
            return FaultRun{true, absl::OkStatus()};
          },
          /*limit=*/7),
      "ran 7 times");
  EXPECT_EQ(runs, 7u);
  EXPECT_EQ(sweep.calls, 7u);
}

}  // namespace
}  // namespace hv::testing
