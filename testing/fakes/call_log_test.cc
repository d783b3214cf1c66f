#include "testing/fakes/call_log.h"

#include <cerrno>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;

struct Call {
  std::string name;
  int result = 0;
};

TEST(CallLog, RecordsCallsAndCountsThemInThePlan) {
  CallLog<Call> log;
  log.plan().FailCall(1, EIO);
  EXPECT_EQ(log.Count("open"), std::nullopt);
  log.Add(Call{"open"});
  log.UpdateLast([](Call& call) { call.result = 3; });
  EXPECT_THAT(log.Count("mmap"), Optional(EIO));
  log.Add(Call{"mmap", -1});
  EXPECT_THAT(log.Names(), ElementsAre("open", "mmap"));
  EXPECT_EQ(log.Calls()[0].result, 3);
  EXPECT_EQ(log.count(), 2u);
}

TEST(CallLog, ClearKeepsThePlanAndItsCount) {
  CallLog<Call> log;
  log.plan().FailNext("close", EBADF);
  log.Count("open");
  log.Add(Call{"open"});
  log.Clear();
  EXPECT_TRUE(log.Calls().empty());
  EXPECT_EQ(log.count(), 1u);
  EXPECT_THAT(log.Count("close"), Optional(EBADF));
  log.UpdateLast([](Call& call) { call.result = 1; });  // none: no effect
  EXPECT_TRUE(log.Calls().empty());
}

}  // namespace
}  // namespace hv::testing
