#include "hypervisor/os/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

TEST(UniqueFd, ClosesOnDestruction) {
  int raw;
  {
    ASSERT_OK_AND_ASSIGN(UniqueFd fd, OpenFile("/dev/null", O_RDONLY));
    raw = fd.get();
    EXPECT_TRUE(IsOpen(raw));
    EXPECT_NE(::fcntl(raw, F_GETFD) & FD_CLOEXEC, 0);
  }
  EXPECT_FALSE(IsOpen(raw));
}

TEST(UniqueFd, MoveTransfersOwnership) {
  ASSERT_OK_AND_ASSIGN(UniqueFd a, OpenFile("/dev/null", O_RDONLY));
  int raw = a.get();
  UniqueFd b = std::move(a);
  EXPECT_FALSE(a.valid());
  EXPECT_EQ(b.get(), raw);
  UniqueFd c;
  c = std::move(b);
  EXPECT_EQ(c.get(), raw);
  EXPECT_TRUE(IsOpen(raw));
}

TEST(UniqueFd, ReleaseGivesUpOwnership) {
  ASSERT_OK_AND_ASSIGN(UniqueFd fd, OpenFile("/dev/null", O_RDONLY));
  int raw = fd.release();
  EXPECT_FALSE(fd.valid());
  EXPECT_TRUE(IsOpen(raw));
  ::close(raw);
}

TEST(UniqueFd, DuplicateIsIndependent) {
  ASSERT_OK_AND_ASSIGN(UniqueFd fd, OpenFile("/dev/null", O_RDONLY));
  ASSERT_OK_AND_ASSIGN(UniqueFd dup, fd.Duplicate());
  EXPECT_NE(dup.get(), fd.get());
  fd.reset();
  EXPECT_TRUE(IsOpen(dup.get()));
}

TEST(UniqueFd, DuplicateOfNothingFails) {
  UniqueFd none;
  EXPECT_THAT(none.Duplicate(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                         HasSubstr("F_DUPFD_CLOEXEC")));
}

TEST(OpenFile, MissingPathNamesPath) {
  EXPECT_THAT(OpenFile("/nonexistent/hv", O_RDONLY),
              StatusIs(absl::StatusCode::kNotFound,
                       "open /nonexistent/hv: No such file or directory"));
}

}  // namespace
}  // namespace hv
