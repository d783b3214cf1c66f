#include "hypervisor/vm_checks.h"

#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/mmap_region.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

TEST(CheckRegionGiven, RefusesNullRegion) {
  EXPECT_THAT(CheckRegionGiven(nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "add memory region: region is null"));
  auto region = MemoryRegion::CreateShared("ram", HostPageSize());
  ASSERT_THAT(region.status(), IsOk());
  EXPECT_THAT(CheckRegionGiven(region->get()), IsOk());
}

TEST(FindSlot, WrapsMissingSlotAsNotFoundNamingTheOperation) {
  MemorySlotTable slots(4, uint64_t{1} << 30, HostPageSize());
  EXPECT_THAT(FindSlot("get dirty log", slots, 3).status(),
              StatusIs(absl::StatusCode::kNotFound,
                       ::testing::StartsWith("get dirty log: ")));
}

TEST(FindSlot, ReturnsTheEntry) {
  MemorySlotTable slots(4, uint64_t{1} << 30, HostPageSize());
  auto region = MemoryRegion::CreateShared("ram", HostPageSize());
  ASSERT_THAT(region.status(), IsOk());
  slots.Insert(0, 0x10000, std::move(*region), {});
  auto entry = FindSlot("remove memory region", slots, 0);
  ASSERT_THAT(entry.status(), IsOk());
  EXPECT_EQ((*entry)->guest_address, 0x10000u);
}

TEST(CheckDirtyLogging, RefusesSlotAddedWithoutLogging) {
  MemorySlotTable::Entry entry;
  EXPECT_THAT(CheckDirtyLogging(entry, 7),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "get dirty log: slot 7 was added without "
                       "log_dirty_pages (or SetDirtyLogging switched it "
                       "off)"));
  EXPECT_THAT(CheckDirtyLogging(entry, 7, "clear dirty log"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       ::testing::StartsWith("clear dirty log: slot 7 ")));
  entry.options.log_dirty_pages = true;
  EXPECT_THAT(CheckDirtyLogging(entry, 7), IsOk());
}

TEST(CheckDirtyLogRange, AcceptsWholeWordsAndTheRegionsTail) {
  // A region of 200 pages: [0, 64), [64, 200) (the tail) and [0, 200).
  EXPECT_THAT(CheckDirtyLogRange(3, 200, 0, 64, 1), IsOk());
  EXPECT_THAT(CheckDirtyLogRange(3, 200, 64, 136, 3), IsOk());
  EXPECT_THAT(CheckDirtyLogRange(3, 200, 0, 200, 4), IsOk());
  EXPECT_THAT(CheckDirtyLogRange(3, 200, 192, 8, 1), IsOk());
}

TEST(CheckDirtyLogRange, RefusesEachBadRangeNamingTheCall) {
  EXPECT_THAT(CheckDirtyLogRange(3, 200, 0, 0, 0),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "clear dirty log (slot 3): no pages (num_pages 0)"));
  EXPECT_THAT(CheckDirtyLogRange(3, 200, 32, 64, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "clear dirty log (slot 3): first_page 32 is not a "
                       "multiple of 64"));
  EXPECT_THAT(CheckDirtyLogRange(3, 200, 0, 10, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("num_pages 10 is not a multiple of 64")));
  EXPECT_THAT(CheckDirtyLogRange(3, 200, 128, 128, 2),
              StatusIs(absl::StatusCode::kOutOfRange,
                       "clear dirty log (slot 3): pages [128, 256) reach past "
                       "the region's 200 pages"));
  EXPECT_THAT(CheckDirtyLogRange(3, 200, 256, 64, 1),
              StatusIs(absl::StatusCode::kOutOfRange));
  // first_page + num_pages wraps around: still out of range.
  EXPECT_THAT(CheckDirtyLogRange(3, 200, 64, ~uint64_t{0} - 63, 1),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(CheckDirtyLogRange(3, 200, 0, 128, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "clear dirty log (slot 3): the bitmap has 1 words; 128 "
                       "pages need 2"));
}

TEST(CheckFdMappingArguments, RefusesNegativeFd) {
  EXPECT_THAT(CheckFdMappingArguments(-1, 0, 4096),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "add fd mapping: fd -1 is not a file descriptor"));
}

TEST(CheckFdMappingArguments, RefusesUnalignedOffset) {
  EXPECT_THAT(CheckFdMappingArguments(3, 0x1800, 4096),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "add fd mapping: fd offset 0x1800 is not page "
                       "aligned"));
  EXPECT_THAT(CheckFdMappingArguments(3, 0x2000, 4096), IsOk());
}

TEST(CheckIoEventLength, AcceptsOnlyAccessSizesAndAny) {
  for (uint32_t length : {0u, 1u, 2u, 4u, 8u}) {
    EXPECT_THAT(CheckIoEventLength("ioeventfd", length), IsOk()) << length;
  }
  EXPECT_THAT(CheckIoEventLength("register ioevent", 3),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "register ioevent: length 3 is not 0, 1, 2, 4 or 8"));
}

TEST(CheckIoEventAnyLength, RefusesDatamatchWithAnyLength) {
  IoEventAddress address;
  address.space = IoEventAddress::Space::kMmio;
  address.length = 0;
  EXPECT_THAT(CheckIoEventAnyLength("ioeventfd", address), IsOk());
  address.datamatch = 1;
  EXPECT_THAT(CheckIoEventAnyLength("ioeventfd", address),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "ioeventfd: length 0 (any) cannot have a datamatch"));
  address.length = 4;
  EXPECT_THAT(CheckIoEventAnyLength("ioeventfd", address), IsOk());
}

MsiMessage AnyMsi() {
  MsiMessage msi;
  msi.address = 0xfee00000;
  msi.data = 0x40;
  return msi;
}

TEST(CheckGsiRoutes, AcceptsOneRoutePerChipAndLoneMsis) {
  // GSI 3 on both PICs' chip 0 and the IOAPIC (chip 2), as KVM's defaults.
  EXPECT_THAT(CheckGsiRoutes({IrqRoute::Pin(3, 0, 3), IrqRoute::Pin(3, 2, 3),
                              IrqRoute::Msi(30, AnyMsi())},
                             64),
              IsOk());
  EXPECT_THAT(CheckGsiRoutes({}, 64), IsOk());
}

TEST(CheckGsiRoutes, RefusesGsiAndTableBeyondTheLimit) {
  EXPECT_THAT(CheckGsiRoutes({IrqRoute::Pin(64, 2, 1)}, 64),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("route 0 has GSI 64, beyond the last GSI (63)")));
  std::vector<IrqRoute> routes(5, IrqRoute::Pin(1, 2, 1));
  EXPECT_THAT(CheckGsiRoutes(routes, 4),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("5 routes, more than the 4")));
  // No routing at all (limit 0): any route is too many.
  EXPECT_THAT(CheckGsiRoutes({IrqRoute::Pin(0, 2, 0)}, 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CheckGsiRoutes, RefusesAGsiRoutedTwiceToOneChip) {
  EXPECT_THAT(CheckGsiRoutes({IrqRoute::Pin(5, 2, 5), IrqRoute::Pin(5, 2, 6)},
                             64),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "set GSI routing: routes 0 and 1 both route GSI 5 to "
                       "irqchip 2"));
}

TEST(CheckGsiRoutes, RefusesAnMsiSharingItsGsi) {
  EXPECT_THAT(CheckGsiRoutes({IrqRoute::Msi(7, AnyMsi()),
                              IrqRoute::Msi(7, AnyMsi())},
                             64),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("route 0 made it an MSI")));
  EXPECT_THAT(CheckGsiRoutes({IrqRoute::Pin(7, 2, 7),
                              IrqRoute::Msi(7, AnyMsi())},
                             64),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("route 0 already routes it")));
}

TEST(CheckGsiRoutes, RefusesAnUnknownKind) {
  IrqRoute route = IrqRoute::Pin(1, 2, 1);
  route.kind = static_cast<IrqRoute::Kind>(9);
  EXPECT_THAT(CheckGsiRoutes({route}, 64),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown kind 9")));
}

MsrRange Msrs(uint32_t first, uint32_t count, bool reads = true,
               bool writes = true) {
  MsrRange range;
  range.first = first;
  range.count = count;
  range.reads = reads;
  range.writes = writes;
  return range;
}

TEST(CheckUserSpaceMsrRanges, AcceptsDisjointRangesAndNone) {
  EXPECT_OK(CheckUserSpaceMsrRanges({}));
  EXPECT_OK(CheckUserSpaceMsrRanges(
      {Msrs(0xc0000100, 3), Msrs(0x10, 1, true, false), Msrs(0x11, 0x7ef)}));
  EXPECT_OK(CheckUserSpaceMsrRanges({Msrs(0xfffff000, 0x1000)}));
  EXPECT_OK(CheckUserSpaceMsrRanges({Msrs(0x900, 0x3000)}));
}

TEST(CheckUserSpaceMsrRanges, RefusesEmptyUselessAndWrappingRanges) {
  EXPECT_THAT(CheckUserSpaceMsrRanges({Msrs(0x10, 1), Msrs(0x1a0, 0)}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("range 1 (from MSR 0x1a0) is empty")));
  EXPECT_THAT(CheckUserSpaceMsrRanges({Msrs(0x1a0, 2, false, false)}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("neither reads nor writes")));
  EXPECT_THAT(CheckUserSpaceMsrRanges({Msrs(0xffffffff, 2)}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("runs past MSR 0xffffffff")));
  EXPECT_THAT(CheckUserSpaceMsrRanges({Msrs(0x1000, 0x3001)}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("more than the 12288 one range takes")));
}

TEST(CheckUserSpaceMsrRanges, RefusesOverlapsNamingBothRanges) {
  EXPECT_THAT(
      CheckUserSpaceMsrRanges({Msrs(0x100, 0x10), Msrs(0x10, 1),
                               Msrs(0x10f, 2, true, false)}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("range 2 (MSRs 0x10f-0x110) overlaps range 0 (MSRs "
                         "0x100-0x10f)")));
}

TEST(CheckUserSpaceMsrRanges, RefusesTheX2ApicMsrsAndTooManyRanges) {
  EXPECT_THAT(CheckUserSpaceMsrRanges({Msrs(0x7f0, 0x11)}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("x2APIC MSRs 0x800-0x8ff")));
  std::vector<MsrRange> many;
  for (uint32_t i = 0; i < 17; ++i) many.push_back(Msrs(0x10 + 2 * i, 1));
  EXPECT_THAT(CheckUserSpaceMsrRanges(many),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("17 ranges, more than the 16")));
  many.pop_back();
  EXPECT_OK(CheckUserSpaceMsrRanges(many));
}

TEST(RangesOverlap, SharesAByteOrNot) {
  EXPECT_TRUE(RangesOverlap(0x1000, 0x1000, 0x1fff, 1));
  EXPECT_FALSE(RangesOverlap(0x1000, 0x1000, 0x2000, 0x1000));  // adjacent
  EXPECT_FALSE(RangesOverlap(0x2000, 0x1000, 0x1000, 0x1000));
  EXPECT_TRUE(RangesOverlap(0x1000, 0x10000, 0x4000, 0x10));   // inside
}

TEST(DeviceFrames, ClearOfRegionsNamesTheFramesAndTheRegion) {
  MemoryRegionInfo ram;
  ram.slot = 3;
  ram.guest_address = 0x40000000;
  ram.size = 0x100000;
  const std::vector<MemoryRegionInfo> regions = {ram};
  const DeviceFrame below = {"the distributor", 0x3fff0000, 0x10000};
  const DeviceFrame across = {"the redistributor", 0x400f0000, 0x20000};
  EXPECT_THAT(CheckFramesClearOfRegions("create GIC", {below}, regions),
              IsOk());
  // The first frame that overlaps is named.
  EXPECT_THAT(CheckFramesClearOfRegions("create GIC", {below, across}, regions),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "create GIC: the redistributor [0x400f0000, 0x40110000) "
                       "would overlap memory region [0x40000000, 0x40100000) "
                       "(slot 3)"));
}

TEST(DeviceFrames, RegionClearOfFramesNamesBoth) {
  const std::vector<DeviceFrame> frames = {
      {"the distributor", 0x7000000, 0x10000}, {"the ITS", 0x8010000, 0x20000}};
  EXPECT_THAT(CheckRegionClearOfFrames(0x8000000, 0x10000, frames), IsOk());
  EXPECT_THAT(CheckRegionClearOfFrames(0x8000000, 0x10000, {}), IsOk());
  EXPECT_THAT(CheckRegionClearOfFrames(0x8000000, 0x11000, frames),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       "add memory region [0x8000000, 0x8011000): overlaps "
                       "the ITS [0x8010000, 0x8030000)"));
}

}  // namespace
}  // namespace hv
