#include "testing/fakes/eventfd_check.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "gtest/gtest.h"

namespace hv::testing {
namespace {

TEST(CheckEventfd, AcceptsAnEventfd) {
  const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(CheckEventfd(fd), 0);
  ::close(fd);
}

TEST(CheckEventfd, OtherFilesAreEinvalAndClosedOnesEbadf) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  EXPECT_EQ(CheckEventfd(pipe_fds[0]), EINVAL);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  EXPECT_EQ(CheckEventfd(pipe_fds[0]), EBADF);
  EXPECT_EQ(CheckEventfd(-1), EBADF);
}

TEST(SignalEventfd, EachSignalIsOneUnitDrainedOnce) {
  const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(DrainEventfd(fd), 0u);
  SignalEventfd(fd);
  SignalEventfd(fd);
  EXPECT_EQ(DrainEventfd(fd), 2u);
  EXPECT_EQ(DrainEventfd(fd), 0u);
  ::close(fd);
}

}  // namespace
}  // namespace hv::testing
