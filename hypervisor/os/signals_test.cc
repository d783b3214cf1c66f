#include "hypervisor/os/signals.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/eventfd.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::IsOk;

TEST(KickSignal, IsARealtimeSignal) {
  EXPECT_GE(KickSignal(), SIGRTMIN);
  EXPECT_LE(KickSignal(), SIGRTMAX);
}

TEST(KickThread, InterruptsABlockingRead) {
  ASSERT_THAT(InstallKickSignalHandler(), IsOk());
  ASSERT_THAT(InstallKickSignalHandler(), IsOk());  // idempotent
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  std::atomic<bool> started{false};
  std::atomic<int> read_errno{0};
  std::thread reader([&] {
    started = true;
    char byte;
    ssize_t n = ::read(pipe_fds[0], &byte, 1);  // blocks until kicked
    read_errno = n < 0 ? errno : 0;
  });
  while (!started) std::this_thread::yield();
  // The kick may land before the read starts; repeat until it returns.
  while (read_errno.load() == 0) {
    ASSERT_THAT(KickThread(reader.native_handle()), IsOk());
    ::usleep(1000);
  }
  reader.join();
  EXPECT_EQ(read_errno.load(), EINTR);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

}  // namespace
}  // namespace hv
