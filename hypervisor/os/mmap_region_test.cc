#include "hypervisor/os/mmap_region.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/memfd.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

const size_t kPage = HostPageSize();

TEST(MmapRegion, AnonymousReadsZeroAndIsWritable) {
  ASSERT_OK_AND_ASSIGN(MmapRegion region,
                       MmapRegion::Anonymous(4 * kPage, PROT_READ | PROT_WRITE));
  EXPECT_EQ(region.size(), 4 * kPage);
  EXPECT_EQ(region.data()[kPage + 3], 0);
  region.data()[kPage + 3] = 42;
  EXPECT_EQ(region.data()[kPage + 3], 42);
}

TEST(MmapRegion, FromFdSharesContents) {
  ASSERT_OK_AND_ASSIGN(UniqueFd fd, CreateMemfd("shared", 2 * kPage));
  ASSERT_OK_AND_ASSIGN(MmapRegion region,
                       MmapRegion::FromFd(fd.get(), kPage, kPage, PROT_READ));
  const char byte = 'x';
  ASSERT_EQ(::pwrite(fd.get(), &byte, 1, kPage + 5), 1);
  EXPECT_EQ(region.data()[5], 'x');
}

TEST(MmapRegion, FromFdRejectsBadFdAndOffset) {
  EXPECT_THAT(MmapRegion::FromFd(-1, 0, kPage, PROT_READ),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("mmap fd -1")));
  ASSERT_OK_AND_ASSIGN(UniqueFd fd, CreateMemfd("shared", 2 * kPage));
  EXPECT_THAT(MmapRegion::FromFd(fd.get(), 3, kPage, PROT_READ),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not page aligned")));
}

TEST(MmapRegion, MapFdAtReplacesRangeThenAnonymousRestoresZeros) {
  ASSERT_OK_AND_ASSIGN(MmapRegion arena,
                       MmapRegion::Anonymous(8 * kPage, PROT_READ));
  ASSERT_OK_AND_ASSIGN(UniqueFd blob, CreateMemfd("blob", 2 * kPage));
  const char text[] = "hello";
  ASSERT_EQ(::pwrite(blob.get(), text, sizeof(text), 0), sizeof(text));

  ASSERT_THAT(arena.MapFdAt(2 * kPage, 2 * kPage, blob.get(), 0, PROT_READ), IsOk());
  EXPECT_STREQ(reinterpret_cast<const char*>(arena.data() + 2 * kPage), "hello");

  ASSERT_THAT(arena.MapAnonymousAt(2 * kPage, 2 * kPage, PROT_READ), IsOk());
  EXPECT_EQ(arena.data()[2 * kPage], 0);
}

TEST(MmapRegion, MapFdAtRejectsBadRangesAndKeepsOldMapping) {
  ASSERT_OK_AND_ASSIGN(MmapRegion arena,
                       MmapRegion::Anonymous(4 * kPage, PROT_READ | PROT_WRITE));
  arena.data()[0] = 9;
  ASSERT_OK_AND_ASSIGN(UniqueFd blob, CreateMemfd("blob", kPage));
  EXPECT_THAT(arena.MapFdAt(3 * kPage, 2 * kPage, blob.get(), 0, PROT_READ),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("outside the region")));
  EXPECT_THAT(arena.MapFdAt(1, kPage, blob.get(), 0, PROT_READ),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not page aligned")));
  EXPECT_THAT(arena.MapFdAt(0, kPage, -1, 0, PROT_READ),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("mmap fd -1")));
  EXPECT_EQ(arena.data()[0], 9);  // The failed calls left the page alone.
}

}  // namespace
}  // namespace hv
