// UniqueFd, OpenFile and DuplicateFd on Windows (handles held as ints).
#include <fcntl.h>
#include <windows.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/unique_fd.h"
#include "hypervisor/os/windows_handle.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

bool IsOpen(int fd) {
  DWORD flags = 0;
  return ::GetHandleInformation(FdToHandle(fd), &flags) != 0;
}

// A file in the test's temporary directory (TEST_TMPDIR, a Unix path that
// wine reaches through Z:).
std::string TempPath(const char* name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string base = dir != nullptr ? std::string("Z:") + dir : ".";
  return base + "/" + name;
}

TEST(UniqueFdWindows, HandleRoundTripsThroughInt) {
  HANDLE event = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
  ASSERT_NE(event, nullptr);
  UniqueFd fd(HandleToFd(event));
  EXPECT_EQ(FdToHandle(fd.get()), event);
  EXPECT_EQ(FdToHandle(-1), INVALID_HANDLE_VALUE);
}

TEST(UniqueFdWindows, ClosesOnDestruction) {
  int raw;
  {
    ASSERT_OK_AND_ASSIGN(UniqueFd fd,
                         OpenFile(TempPath("closes"), O_RDWR | O_CREAT));
    raw = fd.get();
    EXPECT_TRUE(IsOpen(raw));
  }
  EXPECT_FALSE(IsOpen(raw));
}

TEST(UniqueFdWindows, MoveAndReleaseKeepOneOwner) {
  ASSERT_OK_AND_ASSIGN(UniqueFd a, OpenFile(TempPath("move"), O_RDWR | O_CREAT));
  int raw = a.get();
  UniqueFd b = std::move(a);
  EXPECT_FALSE(a.valid());
  EXPECT_EQ(b.get(), raw);
  int released = b.release();
  EXPECT_FALSE(b.valid());
  EXPECT_TRUE(IsOpen(released));
  ::CloseHandle(FdToHandle(released));
}

TEST(UniqueFdWindows, DuplicateIsIndependent) {
  ASSERT_OK_AND_ASSIGN(UniqueFd fd, OpenFile(TempPath("dup"), O_RDWR | O_CREAT));
  ASSERT_OK_AND_ASSIGN(UniqueFd dup, fd.Duplicate());
  EXPECT_NE(dup.get(), fd.get());
  fd.reset();
  EXPECT_TRUE(IsOpen(dup.get()));
}

TEST(UniqueFdWindows, DuplicateOfNothingNamesTheCall) {
  UniqueFd none;
  EXPECT_THAT(none.Duplicate(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("DuplicateHandle(-1): ERROR_INVALID_HANDLE")));
}

TEST(OpenFileWindows, MissingPathNamesPath) {
  EXPECT_THAT(OpenFile("C:/nonexistent-hv/file", O_RDONLY),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("open C:/nonexistent-hv/file: ERROR_PATH_NOT_FOUND")));
}

TEST(OpenFileWindows, ExclusiveCreateOfExistingFileFails) {
  std::string path = TempPath("excl");
  ASSERT_OK_AND_ASSIGN(UniqueFd first, OpenFile(path, O_RDWR | O_CREAT | O_EXCL));
  EXPECT_THAT(OpenFile(path, O_RDWR | O_CREAT | O_EXCL),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("ERROR_FILE_EXISTS")));
}

}  // namespace
}  // namespace hv
