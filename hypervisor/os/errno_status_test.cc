#include "hypervisor/os/errno_status.h"

#include <cerrno>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::Eq;

TEST(ErrnoStatus, NamesOperationAndErrnoText) {
  EXPECT_THAT(ErrnoStatus("KVM_SET_USER_MEMORY_REGION", EINVAL),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("KVM_SET_USER_MEMORY_REGION: Invalid argument")));
}

TEST(ErrnoStatus, MapsCodes) {
  EXPECT_THAT(ErrnoStatus("open", ENOENT), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ErrnoStatus("ioctl", EBUSY),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(ErrnoStatus("mmap", ENOMEM),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(ErrnoStatus("open", EACCES),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(ErrnoStatus, ReadsCurrentErrno) {
  errno = EBADF;
  EXPECT_THAT(ErrnoStatus("close"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       Eq("close: Bad file descriptor")));
}

TEST(ErrnoStatus, ZeroErrnoIsInternalAndSaysSo) {
  EXPECT_THAT(ErrnoStatus("ioctl", 0),
              StatusIs(absl::StatusCode::kInternal,
                       Eq("ioctl: failed without setting errno")));
}

}  // namespace
}  // namespace hv
