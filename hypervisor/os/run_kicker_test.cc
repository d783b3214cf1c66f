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

TEST(RunKicker, KickWithNoThreadInsideOnlyRequests) {
  uint8_t byte = 0;
  RunKicker kicker(&byte);
  EXPECT_THAT(kicker.Kick(), IsOk());
  EXPECT_EQ(byte, 1);
  EXPECT_FALSE(kicker.running());
  EXPECT_TRUE(kicker.TakeImmediateExit());
  EXPECT_EQ(byte, 0);
  EXPECT_FALSE(kicker.TakeImmediateExit());
}

TEST(RunKicker, RunWritesTheRequestAndPublishesTheThread) {
  uint8_t byte = 0;
  RunKicker kicker(&byte);
  kicker.SetImmediateExit(true);
  byte = 0;  // as a driver's copy-out of the run struct would
  uint8_t seen = 0;
  bool running = false;
  EXPECT_EQ(kicker.Run([&] {
    seen = byte;
    running = kicker.running();
    return 0;
  }),
            0);
  EXPECT_EQ(seen, 1);
  EXPECT_TRUE(running);
  EXPECT_FALSE(kicker.running());
  // A kick after Run() signals nobody.
  EXPECT_THAT(kicker.Kick(), IsOk());
}

TEST(RunKicker, AnInterruptedRunTakesTheRequest) {
  uint8_t byte = 0;
  RunKicker kicker(&byte);
  ASSERT_THAT(kicker.Kick(), IsOk());
  EXPECT_EQ(kicker.Run([] {
    errno = EAGAIN;
    return -1;
  }),
            EINTR);
  EXPECT_EQ(byte, 0);
  EXPECT_FALSE(kicker.TakeImmediateExit());
  EXPECT_EQ(kicker.Run([] {
    errno = EFAULT;
    return -1;
  }),
            EFAULT);
}

TEST(RunKicker, SetImmediateExitSetsAndClears) {
  uint8_t byte = 0;
  RunKicker kicker(&byte);
  kicker.SetImmediateExit(true);
  EXPECT_EQ(byte, 1);
  kicker.SetImmediateExit(false);
  EXPECT_EQ(byte, 0);
  EXPECT_FALSE(kicker.TakeImmediateExit());
}

#if defined(_WIN32)
TEST(RunKicker, KickOfARunningThreadIsUnimplementedOnWindows) {
  uint8_t byte = 0;
  RunKicker kicker(&byte);
  absl::Status kicked;
  kicker.Run([&] {
    kicked = kicker.Kick();
    return 0;
  });
  EXPECT_THAT(kicked, StatusIs(absl::StatusCode::kUnimplemented, ::testing::_));
}
#else
TEST(RunKicker, KickInterruptsTheThreadInsideRun) {
  ASSERT_THAT(InstallKickSignalHandler(), IsOk());
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  uint8_t byte = 0;
  RunKicker kicker(&byte);
  std::atomic<int> read_errno{0};
  std::atomic<bool> returned{false};
  std::thread runner([&] {
    char data;
    // Blocks until kicked.
    read_errno = kicker.Run([&] { return ::read(pipe_fds[0], &data, 1); });
    returned = true;
  });
  while (!kicker.running()) std::this_thread::yield();
  // The signal may land before read() starts; repeat until it returns.
  while (!returned.load()) {
    ASSERT_THAT(kicker.Kick(), IsOk());
    ::usleep(1000);
  }
  runner.join();
  EXPECT_EQ(read_errno.load(), EINTR);
  EXPECT_FALSE(kicker.running());
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}
#endif

}  // namespace
}  // namespace hv
