// EventFd on Windows (a semaphore): the counter's limit, adding zero, and
// the handle as a waitable object.
#include <windows.h>

#include <climits>
#include <cstdint>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/windows_handle.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

TEST(EventFdWindows, WritePastTheLimitFailsAndChangesNothing) {
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  ASSERT_THAT(event.Write(2), IsOk());
  EXPECT_THAT(event.Write(uint64_t{1} << 40),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("counter limit")));
  // The semaphore's own limit: LONG_MAX in total.
  EXPECT_THAT(event.Write(LONG_MAX),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("ERROR_TOO_MANY_POSTS")));
  ASSERT_OK_AND_ASSIGN(uint64_t count, event.Read());
  EXPECT_EQ(count, 2u);
}

TEST(EventFdWindows, WritingZeroAddsNothing) {
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  ASSERT_THAT(event.Write(0), IsOk());
  EXPECT_THAT(event.Read(), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(EventFdWindows, HandleIsWaitable) {
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  HANDLE handle = FdToHandle(event.fd());
  EXPECT_EQ(::WaitForSingleObject(handle, 0), static_cast<DWORD>(WAIT_TIMEOUT));
  ASSERT_THAT(event.Write(3), IsOk());
  EXPECT_EQ(::WaitForSingleObject(handle, 0), static_cast<DWORD>(WAIT_OBJECT_0));
  // That wait took one unit.
  ASSERT_OK_AND_ASSIGN(uint64_t count, event.Read());
  EXPECT_EQ(count, 2u);
}

TEST(EventFdWindows, WaitReturnsTheWholeCounter) {
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  ASSERT_THAT(event.Write(5), IsOk());
  ASSERT_OK_AND_ASSIGN(uint64_t count, event.Wait(absl::InfiniteDuration()));
  EXPECT_EQ(count, 5u);
  EXPECT_THAT(event.Wait(absl::ZeroDuration()),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

}  // namespace
}  // namespace hv
