#include "hypervisor/memory_slot_table.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::IsOkAndHolds;
using ::hv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t kPage = 0x1000;

std::unique_ptr<MemoryRegion> Region(uint64_t size) {
  auto region = MemoryRegion::CreateArena(size);
  EXPECT_THAT(region, IsOk());
  return *std::move(region);
}

// Adds a region through Check + Insert as a backend would.
absl::StatusOr<MemSlot> Add(MemorySlotTable& table, GuestAddress address,
                            uint64_t size) {
  absl::StatusOr<MemSlot> slot = table.Check(address, size);
  if (slot.ok()) table.Insert(*slot, address, Region(size), {});
  return slot;
}

TEST(MemorySlotTable, PicksLowestFreeSlot) {
  MemorySlotTable table(8, 1ull << 40, kPage);
  EXPECT_THAT(Add(table, 0x0000, kPage), IsOkAndHolds(0u));
  EXPECT_THAT(Add(table, 0x1000, kPage), IsOkAndHolds(1u));
  EXPECT_THAT(Add(table, 0x2000, kPage), IsOkAndHolds(2u));
  ASSERT_THAT(table.Remove(1), IsOk());
  ASSERT_THAT(table.Remove(0), IsOk());
  EXPECT_THAT(Add(table, 0x8000, kPage), IsOkAndHolds(0u));
  EXPECT_THAT(Add(table, 0x9000, kPage), IsOkAndHolds(1u));
  EXPECT_THAT(Add(table, 0xa000, kPage), IsOkAndHolds(3u));
}

TEST(MemorySlotTable, FindRangeChecksSlotAlignmentAndBounds) {
  MemorySlotTable table(8, 1ull << 40, kPage);
  ASSERT_THAT(Add(table, 0x10000, 4 * kPage), IsOkAndHolds(0u));
  absl::StatusOr<MemorySlotTable::Entry*> entry =
      table.FindRange("map", 0, kPage, 2 * kPage);
  ASSERT_THAT(entry, IsOk());
  EXPECT_EQ((*entry)->guest_address, 0x10000u);
  EXPECT_THAT(table.FindRange("map", 0, 3 * kPage, kPage), IsOk());
  EXPECT_THAT(table.FindRange("map", 5, 0, kPage),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("map: ")));
  EXPECT_THAT(table.FindRange("map", 0, 1, kPage),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("aligned")));
  EXPECT_THAT(table.FindRange("map", 0, 0, 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(table.FindRange("map", 0, 3 * kPage, 2 * kPage),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("slot 0")));
  EXPECT_THAT(table.FindRange("map", 0, 8 * kPage, kPage),
              StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(MemorySlotTable, RemovingTheHighestSlotsShrinksTheUsedRange) {
  MemorySlotTable table(3, 1ull << 40, kPage);
  ASSERT_THAT(Add(table, 0x0000, kPage), IsOk());
  ASSERT_THAT(Add(table, 0x1000, kPage), IsOk());
  ASSERT_THAT(Add(table, 0x2000, kPage), IsOk());
  ASSERT_THAT(table.Remove(1), IsOk());
  ASSERT_THAT(table.Remove(2), IsOk());
  EXPECT_THAT(Add(table, 0x5000, kPage), IsOkAndHolds(1u));
  EXPECT_THAT(Add(table, 0x6000, kPage), IsOkAndHolds(2u));
  EXPECT_THAT(Add(table, 0x7000, kPage),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("all 3 memory slots are in use")));
}

TEST(MemorySlotTable, OverlapNamesBothRanges) {
  MemorySlotTable table(8, 1ull << 40, kPage);
  ASSERT_THAT(Add(table, 0x10000, 4 * kPage), IsOk());
  EXPECT_THAT(table.Check(0x12000, 4 * kPage),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       "add memory region [0x12000, 0x16000): overlaps region "
                       "[0x10000, 0x14000) in slot 0"));
  EXPECT_THAT(table.Check(0xf000, 2 * kPage),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(table.Check(0x0, 0x100000),
              StatusIs(absl::StatusCode::kAlreadyExists));
  // Touching ranges do not overlap.
  EXPECT_THAT(table.Check(0xf000, kPage), IsOk());
  EXPECT_THAT(table.Check(0x14000, kPage), IsOk());
}

TEST(MemorySlotTable, RejectsBadRanges) {
  MemorySlotTable table(8, 0x100000, kPage);
  EXPECT_THAT(table.Check(0x1000, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("size is 0")));
  EXPECT_THAT(table.Check(0x1001, kPage),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("multiples of 0x1000")));
  EXPECT_THAT(table.Check(0x1000, kPage + 1),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(table.Check(0xff000, 2 * kPage),
              StatusIs(absl::StatusCode::kOutOfRange,
                       HasSubstr("past the guest address limit 0x100000")));
  EXPECT_THAT(table.Check(~0ull - kPage + 1, kPage),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_EQ(table.size(), 0u);
}

TEST(MemorySlotTable, UnknownAndDoubleRemove) {
  MemorySlotTable table(8, 1ull << 40, kPage);
  EXPECT_THAT(table.Remove(5), StatusIs(absl::StatusCode::kNotFound,
                                        HasSubstr("slot 5")));
  ASSERT_THAT(Add(table, 0, kPage), IsOk());
  ASSERT_THAT(table.Remove(0), IsOk());
  EXPECT_THAT(table.Remove(0), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(table.Find(0), StatusIs(absl::StatusCode::kNotFound));
}

TEST(MemorySlotTable, FindByAddressAndList) {
  MemorySlotTable table(8, 1ull << 40, kPage);
  ASSERT_THAT(Add(table, 0x20000, 2 * kPage), IsOk());
  ASSERT_THAT(Add(table, 0x0, kPage), IsOk());
  EXPECT_THAT(table.FindByAddress(0x21fff), IsOkAndHolds(0u));
  EXPECT_THAT(table.FindByAddress(0x22000), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(table.FindByAddress(0x0), IsOkAndHolds(1u));
  std::vector<MemoryRegionInfo> list = table.List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].guest_address, 0x0u);
  EXPECT_EQ(list[0].slot, 1u);
  EXPECT_EQ(list[1].guest_address, 0x20000u);
  EXPECT_EQ(list[1].size, 2 * kPage);
}

TEST(MemorySlotTable, ManyRegionsStayConsistent) {
  MemorySlotTable table(20000, 1ull << 40, kPage);
  for (uint64_t i = 0; i < 10000; ++i) {
    ASSERT_THAT(Add(table, i * 2 * kPage, kPage), IsOkAndHolds(i));
  }
  for (MemSlot slot = 0; slot < 10000; slot += 2) ASSERT_THAT(table.Remove(slot), IsOk());
  EXPECT_EQ(table.size(), 5000u);
  EXPECT_THAT(Add(table, 0, kPage), IsOkAndHolds(0u));
  EXPECT_THAT(Add(table, 4 * kPage, kPage), IsOkAndHolds(2u));
}

}  // namespace
}  // namespace hv
