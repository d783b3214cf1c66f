// X86GuestConformance: read-only regions, region removal, dirty logging and
// file mappings inside an arena, each observed by a guest program.

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/memfd.h"
#include "testing/x86_guest_conformance.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr uint64_t kPage = 0x1000;
// Where the tests add their extra regions (above guest RAM, below 4 GiB).
constexpr GuestAddress kRegionAddress = 0x400000;

// A shared region of `size` bytes filled with Pattern(seed, size).
std::unique_ptr<MemoryRegion> PatternRegion(uint8_t seed, uint64_t size) {
  absl::StatusOr<std::unique_ptr<MemoryRegion>> region =
      MemoryRegion::CreateShared("hv-conformance", size);
  if (!region.ok()) return nullptr;
  const std::vector<uint8_t> bytes = Pattern(seed, size);
  std::memcpy((*region)->data(), bytes.data(), size);
  return *std::move(region);
}

TEST_P(X86GuestConformance, ReadOnlyRegionTurnsWritesIntoMmio) {
  MemoryRegionOptions read_only;
  read_only.read_only = true;
  HV_UNIMPLEMENTED_WITHOUT(*vm_, VmCap::kReadOnlyMemoryRegion,
                           vm_->AddMemoryRegion(kRegionAddress,
                                                PatternRegion(1, kPage),
                                                read_only));
  std::unique_ptr<MemoryRegion> rom = PatternRegion(0x30, 2 * kPage);
  ASSERT_NE(rom, nullptr);
  const uint8_t* rom_data = rom->data();
  const std::vector<uint8_t> before(rom_data, rom_data + rom->size());
  ASSERT_OK(vm_->AddMemoryRegion(kRegionAddress, std::move(rom), read_only));

  const uint64_t offset = kPage + 0x48;
  const uint64_t value = 0x0123456789abcdefull;
  for (GuestMode mode : kLongModes) {
    SCOPED_TRACE(GuestModeName(mode));
    ASSERT_OK(guest_->Load(guest::WriteCheck(), mode, [&](Regs& regs) {
      regs.rdi = kRegionAddress + offset;
      regs.rsi = value;
    }));
    ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest_->Run());
    // The write became an MMIO exit carrying the data.
    ASSERT_THAT(run.accesses, SizeIs(1));
    EXPECT_TRUE(run.accesses[0].mmio);
    EXPECT_TRUE(run.accesses[0].is_write);
    EXPECT_EQ(run.accesses[0].address, kRegionAddress + offset);
    EXPECT_THAT(run.accesses[0].data, ElementsAreArray(LowBytes(value, 8)));
    // Reads before and after the write return the ROM's bytes.
    EXPECT_THAT(run.reports, ElementsAre(Le64(&before[offset]),
                                         Le64(&before[offset])));
    // The memory itself is unchanged.
    EXPECT_TRUE(std::equal(before.begin(), before.end(), rom_data));
  }
}

TEST_P(X86GuestConformance, RemovedRegionBecomesMmio) {
  const uint64_t offset = 0x230;
  for (GuestMode mode : kLongModes) {
    SCOPED_TRACE(GuestModeName(mode));
    std::unique_ptr<MemoryRegion> region = PatternRegion(0x50, kPage);
    ASSERT_NE(region, nullptr);
    const uint64_t expected = Le64(region->data() + offset);
    ASSERT_OK_AND_ASSIGN(
        MemSlot slot, vm_->AddMemoryRegion(kRegionAddress, std::move(region), {}));
    ASSERT_OK(guest_->Load(guest::ReadReport(), mode, [&](Regs& regs) {
      regs.rdi = kRegionAddress + offset;
    }));
    ASSERT_OK_AND_ASSIGN(GuestRunResult mapped, guest_->Run());
    EXPECT_THAT(mapped.accesses, IsEmpty());
    EXPECT_THAT(mapped.reports, ElementsAre(expected));

    ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemoryRegion> back,
                         vm_->RemoveMemoryRegion(slot));
    EXPECT_EQ(Le64(back->data() + offset), expected);

    ASSERT_OK(guest_->Load(guest::ReadReport(), mode, [&](Regs& regs) {
      regs.rdi = kRegionAddress + offset;
    }));
    const std::vector<uint8_t> answer = Pattern(0x60, 8);
    GuestRunOptions options;
    options.on_read = [&](bool mmio, IoRequest& request) {
      std::copy(answer.begin(), answer.begin() + request.data.size(),
                request.data.begin());
    };
    ASSERT_OK_AND_ASSIGN(GuestRunResult removed, guest_->Run(options));
    ASSERT_THAT(removed.accesses, SizeIs(1));
    EXPECT_TRUE(removed.accesses[0].mmio);
    EXPECT_FALSE(removed.accesses[0].is_write);
    EXPECT_EQ(removed.accesses[0].address, kRegionAddress + offset);
    EXPECT_EQ(removed.accesses[0].data.size(), 8u);
    EXPECT_THAT(removed.reports, ElementsAre(Le64(answer.data())));
  }
}

TEST_P(X86GuestConformance, DirtyLogReportsExactlyWrittenPages) {
  constexpr uint64_t kPages = 16;
  MemoryRegionOptions logged;
  logged.log_dirty_pages = true;
  HV_UNIMPLEMENTED_WITHOUT(*vm_, VmCap::kDirtyLog,
                           vm_->AddMemoryRegion(
                               kRegionAddress,
                               PatternRegion(0, kPages * kPage), logged));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemoryRegion> region,
                       MemoryRegion::CreateShared("hv-dirty", kPages * kPage));
  uint8_t* data = region->data();
  ASSERT_OK_AND_ASSIGN(MemSlot slot, vm_->AddMemoryRegion(
                                         kRegionAddress, std::move(region), logged));
  // Nothing was written by the guest since the region was added.
  EXPECT_THAT(vm_->GetDirtyLog(slot), IsOkAndHolds(ElementsAre(0u)));

  const uint64_t masks[] = {0b1000'0010'0001'1001, 0b0100'0000'0000'0110};
  for (size_t m = 0; m < 2; ++m) {
    const GuestMode mode = kLongModes[m];
    SCOPED_TRACE(GuestModeName(mode));
    std::memset(data, 0, kPages * kPage);
    ASSERT_OK(guest_->Load(guest::TouchPages(), mode, [&](Regs& regs) {
      regs.rdi = kRegionAddress;
      regs.rsi = masks[m];
      regs.rcx = kPages;
    }));
    ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest_->Run());
    EXPECT_THAT(run.accesses, IsEmpty());
    EXPECT_THAT(vm_->GetDirtyLog(slot), IsOkAndHolds(ElementsAre(masks[m])));
    // Reading the log reset it.
    EXPECT_THAT(vm_->GetDirtyLog(slot), IsOkAndHolds(ElementsAre(0u)));
    for (uint64_t page = 0; page < kPages; ++page) {
      const bool written = (masks[m] >> page) & 1;
      EXPECT_EQ(data[page * kPage], written ? page + 1 : 0) << "page " << page;
    }
  }
}

// Runs touch_pages in 64-bit mode over the 16 pages at kRegionAddress:
// each page whose bit is set in `mask` gets its number + 1 in its first byte.
void TouchPagesOnce(GuestFixture& guest, uint64_t mask) {
  ASSERT_OK(guest.Load(guest::TouchPages(), kLongModes[0], [&](Regs& regs) {
    regs.rdi = kRegionAddress;
    regs.rsi = mask;
    regs.rcx = 16;
  }));
  ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest.Run());
  EXPECT_THAT(run.accesses, IsEmpty());
}

TEST_P(X86GuestConformance, DirtyLoggingSwitchedOnAndOffForALiveRegion) {
  constexpr uint64_t kPages = 16;
  std::unique_ptr<MemoryRegion> region = PatternRegion(0x60, kPages * kPage);
  ASSERT_NE(region, nullptr);
  uint8_t* data = region->data();
  const std::vector<uint8_t> pattern = Pattern(0x60, kPages * kPage);
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       vm_->AddMemoryRegion(kRegionAddress, std::move(region), {}));
  HV_UNIMPLEMENTED_WITHOUT(*vm_, VmCap::kDirtyLogSwitch,
                           vm_->SetDirtyLogging(slot, true));
  EXPECT_THAT(vm_->GetDirtyLog(slot),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // A write before logging starts is never reported.
  ASSERT_NO_FATAL_FAILURE(TouchPagesOnce(*guest_, uint64_t{1} << 2));

  ASSERT_OK(vm_->SetDirtyLogging(slot, true));
  bool listed = false;
  for (const MemoryRegionInfo& info : vm_->MemoryRegions()) {
    if (info.slot != slot) continue;
    listed = true;
    EXPECT_TRUE(info.options.log_dirty_pages);
    EXPECT_EQ(info.guest_address, kRegionAddress);
    EXPECT_EQ(info.size, kPages * kPage);
  }
  EXPECT_TRUE(listed);
  // The region's memory is as it was: the pattern, and the guest's byte.
  for (uint64_t i = 0; i < kPages * kPage; ++i) {
    const uint8_t want = i == 2 * kPage ? 3 : pattern[i];
    ASSERT_EQ(data[i], want) << "byte " << i;
  }
  EXPECT_THAT(vm_->GetDirtyLog(slot), IsOkAndHolds(ElementsAre(0u)));
  for (uint64_t k : {5u, 11u}) {
    SCOPED_TRACE(k);
    ASSERT_NO_FATAL_FAILURE(TouchPagesOnce(*guest_, uint64_t{1} << k));
    EXPECT_EQ(data[k * kPage], k + 1);
    EXPECT_THAT(vm_->GetDirtyLog(slot),
                IsOkAndHolds(ElementsAre(uint64_t{1} << k)));
    EXPECT_THAT(vm_->GetDirtyLog(slot), IsOkAndHolds(ElementsAre(0u)));
  }

  // Off: the log is gone, the guest still writes the memory.
  ASSERT_NO_FATAL_FAILURE(TouchPagesOnce(*guest_, uint64_t{1} << 7));
  ASSERT_OK(vm_->SetDirtyLogging(slot, false));
  EXPECT_THAT(vm_->GetDirtyLog(slot),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_NO_FATAL_FAILURE(TouchPagesOnce(*guest_, uint64_t{1} << 9));
  EXPECT_EQ(data[9 * kPage], 10);
  // On again: a new, empty log (page 7's write went with the old one).
  ASSERT_OK(vm_->SetDirtyLogging(slot, true));
  EXPECT_THAT(vm_->GetDirtyLog(slot), IsOkAndHolds(ElementsAre(0u)));
  ASSERT_NO_FATAL_FAILURE(TouchPagesOnce(*guest_, uint64_t{1} << 9));
  EXPECT_THAT(vm_->GetDirtyLog(slot),
              IsOkAndHolds(ElementsAre(uint64_t{1} << 9)));
}

TEST_P(X86GuestConformance, ManualProtectKeepsPagesDirtyUntilCleared) {
  constexpr uint64_t kPages = 16;
  HV_UNIMPLEMENTED_WITHOUT(*vm_, VmCap::kDirtyLogManualProtect,
                           vm_->EnableDirtyLogManualProtect());
  ASSERT_OK(vm_->EnableDirtyLogManualProtect());
  MemoryRegionOptions logged;
  logged.log_dirty_pages = true;
  ASSERT_OK_AND_ASSIGN(
      MemSlot slot, vm_->AddMemoryRegion(kRegionAddress,
                                         PatternRegion(0x70, kPages * kPage),
                                         logged));
  // The log starts empty (not every page set).
  EXPECT_THAT(vm_->GetDirtyLog(slot), IsOkAndHolds(ElementsAre(0u)));

  const uint64_t first = (uint64_t{1} << 1) | (uint64_t{1} << 4);
  ASSERT_NO_FATAL_FAILURE(TouchPagesOnce(*guest_, first));
  EXPECT_THAT(vm_->GetDirtyLog(slot), IsOkAndHolds(ElementsAre(first)));
  // Reading did not reset it: the pages stay dirty until cleared.
  EXPECT_THAT(vm_->GetDirtyLog(slot), IsOkAndHolds(ElementsAre(first)));

  // Clear page 4 only: page 1 stays, page 4 is protected again and its
  // next write reports it once more.
  const std::vector<uint64_t> page4 = {uint64_t{1} << 4};
  ASSERT_OK(vm_->ClearDirtyLog(slot, 0, kPages, page4));
  EXPECT_THAT(vm_->GetDirtyLog(slot),
              IsOkAndHolds(ElementsAre(uint64_t{1} << 1)));
  ASSERT_NO_FATAL_FAILURE(TouchPagesOnce(*guest_, uint64_t{1} << 4));
  EXPECT_THAT(vm_->GetDirtyLog(slot), IsOkAndHolds(ElementsAre(first)));

  // Clear everything; a new write shows up alone.
  const std::vector<uint64_t> all = {(uint64_t{1} << kPages) - 1};
  ASSERT_OK(vm_->ClearDirtyLog(slot, 0, kPages, all));
  EXPECT_THAT(vm_->GetDirtyLog(slot), IsOkAndHolds(ElementsAre(0u)));
  ASSERT_NO_FATAL_FAILURE(TouchPagesOnce(*guest_, uint64_t{1} << 13));
  EXPECT_THAT(vm_->GetDirtyLog(slot),
              IsOkAndHolds(ElementsAre(uint64_t{1} << 13)));

  // Refused calls change nothing: the page stays dirty.
  EXPECT_THAT(vm_->ClearDirtyLog(slot, 64, kPages, all),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(vm_->ClearDirtyLog(slot, 0, kPages, {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(vm_->GetDirtyLog(slot),
              IsOkAndHolds(ElementsAre(uint64_t{1} << 13)));
}

// A memfd of `size` bytes holding Pattern(seed, size).
absl::StatusOr<UniqueFd> PatternMemfd(uint8_t seed, uint64_t size) {
  absl::StatusOr<UniqueFd> fd = CreateMemfd("hv-conformance", size);
  if (!fd.ok()) return fd;
  const std::vector<uint8_t> bytes = Pattern(seed, size);
  if (pwrite(fd->get(), bytes.data(), size, 0) != static_cast<ssize_t>(size)) {
    return absl::InternalError("pwrite to memfd failed");
  }
  return fd;
}

TEST_P(X86GuestConformance, FdMappingIsSeenReplacedAndRemoved) {
  constexpr uint64_t kArenaSize = 16 * kPage;
  constexpr uint64_t kWindow = 4 * kPage;  // where the files are mapped
  constexpr uint64_t kSize = 2 * kPage;
  constexpr uint64_t kRead = kPage + 0x38;  // what the guest reads, in the window
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemoryRegion> arena,
                       MemoryRegion::CreateArena(kArenaSize));
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       vm_->AddMemoryRegion(kRegionAddress, std::move(arena), {}));
  ASSERT_OK_AND_ASSIGN(UniqueFd a, PatternMemfd(0xa0, kSize));
  ASSERT_OK_AND_ASSIGN(UniqueFd b, PatternMemfd(0xb0, kSize));
  const std::vector<uint8_t> a_bytes = Pattern(0xa0, kSize);
  const std::vector<uint8_t> b_bytes = Pattern(0xb0, kSize);

  auto guest_reads = [&](GuestMode mode) -> absl::StatusOr<GuestRunResult> {
    absl::Status loaded = guest_->Load(guest::ReadReport(), mode, [&](Regs& regs) {
      regs.rdi = kRegionAddress + kWindow + kRead;
    });
    if (!loaded.ok()) return loaded;
    return guest_->Run();
  };
  for (GuestMode mode : kLongModes) {
    SCOPED_TRACE(GuestModeName(mode));
    ASSERT_OK(vm_->AddFdMapping(slot, kWindow, kSize, a.get(), 0,
                                Protection::Read()));
    ASSERT_OK_AND_ASSIGN(GuestRunResult run_a, guest_reads(mode));
    EXPECT_THAT(run_a.accesses, IsEmpty());
    EXPECT_THAT(run_a.reports, ElementsAre(Le64(&a_bytes[kRead])));

    ASSERT_OK(vm_->AddFdMapping(slot, kWindow, kSize, b.get(), 0,
                                Protection::Read()));
    ASSERT_OK_AND_ASSIGN(GuestRunResult run_b, guest_reads(mode));
    EXPECT_THAT(run_b.accesses, IsEmpty());
    EXPECT_THAT(run_b.reports, ElementsAre(Le64(&b_bytes[kRead])));

    ASSERT_OK(vm_->RemoveMapping(slot, kWindow, kSize));
    ASSERT_OK_AND_ASSIGN(GuestRunResult run_empty, guest_reads(mode));
    EXPECT_THAT(run_empty.accesses, IsEmpty());
    EXPECT_THAT(run_empty.reports, ElementsAre(0u));
  }
  EXPECT_THAT(vm_->MemoryRegions(), SizeIs(2)) << "no slot was added";
}

}  // namespace
}  // namespace hv::testing
