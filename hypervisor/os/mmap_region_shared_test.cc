// MmapRegion's contract where POSIX and Windows share it: the size checks
// and single ownership. Built into os_test on both (mmap_region_test.cc and
// mmap_region_windows_test.cc hold what differs).
#include <cstdint>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/mmap_region.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

TEST(MmapRegion, RejectsZeroOrUnalignedSize) {
  EXPECT_THAT(MmapRegion::Anonymous(0, kProtRead),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("size 0")));
  EXPECT_THAT(MmapRegion::Anonymous(HostPageSize() + 1, kProtRead),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("multiple of the page size")));
}

TEST(MmapRegion, MoveKeepsOneOwner) {
  ASSERT_OK_AND_ASSIGN(MmapRegion a, MmapRegion::Anonymous(
                                         HostPageSize(), kProtRead | kProtWrite));
  uint8_t* data = a.data();
  MmapRegion b = std::move(a);
  EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.data(), data);
  b.data()[0] = 1;
}

}  // namespace
}  // namespace hv
