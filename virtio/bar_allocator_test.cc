#include "virtio/bar_allocator.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/mmap_region.h"
#include "testing/status_matchers.h"

namespace hv::virtio {
namespace {

using ::hv::testing::IsOkAndHolds;
using ::hv::testing::StatusIs;

TEST(BarAllocator, SizesRoundUpToPowersOfTwoOfAtLeastAPage) {
  EXPECT_EQ(BarSizeFor(0), 0u);
  EXPECT_EQ(BarSizeFor(1), HostPageSize());
  EXPECT_EQ(BarSizeFor(HostPageSize()), HostPageSize());
  EXPECT_EQ(BarSizeFor(3 << 20), uint64_t{4} << 20);
  EXPECT_EQ(BarSizeFor((uint64_t{1} << 32) + 1), uint64_t{1} << 33);
  EXPECT_EQ(BarSizeFor((uint64_t{1} << 63) + 1), 0u);
}

TEST(BarAllocator, PlacesNaturallyAlignedRangesLowestFirst) {
  constexpr uint64_t kBase = uint64_t{1} << 32;
  ASSERT_OK_AND_ASSIGN(auto bars, BarAllocator::Create(kBase, uint64_t{1} << 32));
  EXPECT_THAT(bars->Allocate(1 << 20), IsOkAndHolds(kBase));
  EXPECT_THAT(bars->Allocate(1 << 30), IsOkAndHolds(kBase + (1 << 30)));
  EXPECT_THAT(bars->Allocate(1 << 20), IsOkAndHolds(kBase + (1 << 20)));
  EXPECT_OK(bars->Free(kBase));
  EXPECT_THAT(bars->Free(kBase), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(bars->Allocate(1 << 20), IsOkAndHolds(kBase));
  EXPECT_THAT(bars->Allocate(uint64_t{1} << 31),
              IsOkAndHolds(kBase + (uint64_t{1} << 31)));
  EXPECT_THAT(bars->Allocate(1 << 30),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(bars->Allocate(3 << 20),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(BarAllocator, AlignsInsideAnUnalignedWindow) {
  ASSERT_OK_AND_ASSIGN(auto bars, BarAllocator::Create(0x3000, 0x10000));
  EXPECT_THAT(bars->Allocate(0x4000), IsOkAndHolds(0x4000u));
  EXPECT_THAT(bars->Allocate(0x1000), IsOkAndHolds(0x3000u));
  EXPECT_THAT(bars->Allocate(0x8000), IsOkAndHolds(0x8000u));
  EXPECT_THAT(bars->Allocate(0x8000),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(BarAllocator::Create(0x3001, 0x1000),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(BarAllocator::Create(0, 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace hv::virtio
