#include "hypervisor/os/run_kicker.h"

#include <atomic>
#include <cerrno>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/signals.h"
#include "testing/status_matchers.h"

#if !defined(_WIN32)
#include <unistd.h>
#endif

namespace hv {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::StatusIs;

TEST(RunKicker, KickWithNoThreadInsideOnlyMarks) {
  RunKicker kicker;
  int marks = 0;
  EXPECT_THAT(kicker.Kick([&] { ++marks; }), IsOk());
  EXPECT_EQ(marks, 1);
  EXPECT_FALSE(kicker.running());
}

TEST(RunKicker, EnterRunsItsCallbackAndLeaveClears) {
  RunKicker kicker;
  bool ran = false;
  kicker.Enter([&] { ran = true; });
  EXPECT_TRUE(ran);
  EXPECT_TRUE(kicker.running());
  kicker.Leave();
  EXPECT_FALSE(kicker.running());
  // A kick after Leave() signals nobody.
  EXPECT_THAT(kicker.Kick([] {}), IsOk());
}

TEST(RunKicker, LockedRunsTheFunction) {
  RunKicker kicker;
  int value = 0;
  kicker.Locked([&] { value = 7; });
  EXPECT_EQ(value, 7);
}

#if defined(_WIN32)
TEST(RunKicker, KickOfARunningThreadIsUnimplementedOnWindows) {
  RunKicker kicker;
  kicker.Enter();
  EXPECT_THAT(kicker.Kick([] {}),
              StatusIs(absl::StatusCode::kUnimplemented, ::testing::_));
  kicker.Leave();
}
#else
TEST(RunKicker, KickInterruptsTheThreadInsideRun) {
  ASSERT_THAT(InstallKickSignalHandler(), IsOk());
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  RunKicker kicker;
  int marks = 0;
  std::atomic<int> read_errno{0};
  std::thread runner([&] {
    char byte;
    kicker.Enter();
    ssize_t n = ::read(pipe_fds[0], &byte, 1);  // blocks until kicked
    read_errno = n < 0 ? errno : 0;
    kicker.Leave();
  });
  while (!kicker.running()) std::this_thread::yield();
  // The signal may land before read() starts; repeat until it returns.
  while (read_errno.load() == 0) {
    ASSERT_THAT(kicker.Kick([&] { ++marks; }), IsOk());
    ::usleep(1000);
  }
  runner.join();
  EXPECT_EQ(read_errno.load(), EINTR);
  EXPECT_FALSE(kicker.running());
  EXPECT_GE(marks, 1);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}
#endif

}  // namespace
}  // namespace hv
