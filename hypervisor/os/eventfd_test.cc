#include "hypervisor/os/eventfd.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::StatusIs;

TEST(EventFd, CountsWritesAndResetsOnRead) {
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  ASSERT_THAT(event.Write(), IsOk());
  ASSERT_THAT(event.Write(4), IsOk());
  ASSERT_OK_AND_ASSIGN(uint64_t count, event.Read());
  EXPECT_EQ(count, 5u);
  EXPECT_THAT(event.Read(), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(EventFd, WaitTimesOut) {
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  EXPECT_THAT(event.Wait(absl::Milliseconds(10)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST(EventFd, WaitSeesWriteFromAnotherThread) {
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  std::thread writer([&] { ASSERT_THAT(event.Write(3), IsOk()); });
  ASSERT_OK_AND_ASSIGN(uint64_t count, event.Wait(absl::Seconds(10)));
  EXPECT_EQ(count, 3u);
  writer.join();
}

}  // namespace
}  // namespace hv
