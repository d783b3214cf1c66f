#include "hypervisor/os/run_kicker.h"

#include <atomic>
#include <cerrno>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/signals.h"
#include "testing/status_matchers.h"

#if !defined(_WIN32)
#include <poll.h>
#include <signal.h>
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

// Counts kick signals that land while the test's runner is outside Run().
std::atomic<bool> runner_outside{false};
std::atomic<int> stray_kicks{0};
void CountStrayKick(int) {
  if (runner_outside.load()) stray_kicks.fetch_add(1);
}

// Kicks racing with runs, from another thread, as fast as it can: every
// run ends (none is lost), and no kick signal lands while the thread is
// between two runs or after the last one (a Kick() that saw the thread
// inside Run() signals it before the thread can return).
TEST(RunKicker, KicksRacingWithRunsNeverSignalAThreadOutsideRun) {
  struct sigaction counting = {};
  counting.sa_handler = CountStrayKick;
  sigemptyset(&counting.sa_mask);
  struct sigaction previous = {};
  ASSERT_EQ(::sigaction(KickSignal(), &counting, &previous), 0);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  uint8_t byte = 0;
  RunKicker kicker(&byte);
  std::atomic<bool> done{false};
  std::thread runner([&] {
    for (int i = 0; i < 2000; ++i) {
      runner_outside = false;
      // A run call that waits until a kick, as KVM_RUN would: it ends at
      // once when an immediate exit is requested, and on a signal. (KVM
      // reads the byte inside the system call, so a signal handled just
      // before it is never missed; here, a signal handled between the
      // check and poll() is caught by the next check, 1 ms later.)
      kicker.Run([&]() -> int {
        for (;;) {
          if (__atomic_load_n(&byte, __ATOMIC_RELAXED) != 0) {
            errno = EINTR;
            return -1;
          }
          pollfd wait = {pipe_fds[0], POLLIN, 0};
          const int ready = ::poll(&wait, 1, /*timeout_ms=*/1);
          if (ready != 0) return ready;
        }
      });
      runner_outside = true;
      // A moment outside Run() for a stray signal to land in. (Few yields:
      // on a loaded machine each can cost another task's time slice.)
      for (int spin = 0; spin < 10; ++spin) std::this_thread::yield();
    }
    done = true;
  });
  while (!done.load()) ASSERT_THAT(kicker.Kick(), IsOk());
  runner.join();
  EXPECT_EQ(stray_kicks.load(), 0);
  EXPECT_FALSE(kicker.running());
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  ASSERT_EQ(::sigaction(KickSignal(), &previous, nullptr), 0);
}
#endif

}  // namespace
}  // namespace hv
