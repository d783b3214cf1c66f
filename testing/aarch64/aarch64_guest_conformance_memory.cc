// AArch64GuestConformance: read-only regions, region removal, dirty logging
// and fd mappings inside an arena, each observed by the guest; the guest
// address limit.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/mmap_region.h"
#include "testing/aarch64/aarch64_guest_conformance.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using a64::Routine;

TEST_P(AArch64GuestConformance, ReadOnlyRegionStoreIsMmioAndLoadReadsRom) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest());
  ASSERT_OK_AND_ASSIGN(auto rom, MemoryRegion::CreateShared("rom", 0x10000));
  uint8_t* rom_bytes = rom->data();
  Store64(rom_bytes + 0x100, 0x0badc0de0badc0de);
  MemoryRegionOptions options;
  options.read_only = true;
  HV_UNIMPLEMENTED_WITHOUT(guest->vm(), VmCap::kReadOnlyMemoryRegion,
                           guest->vm().AddMemoryRegion(HV_A64_EXTRA_BASE,
                                                       std::move(rom), options));
  ASSERT_OK(guest->vm().AddMemoryRegion(HV_A64_EXTRA_BASE, std::move(rom), options)
                .status());
  ASSERT_OK(guest->Start(0, Routine::kStoreLoad,
                         {{1, HV_A64_EXTRA_BASE + 0x100}, {2, 0x1111222233334444}}));
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0));
  EXPECT_EQ(run.end, GuestRun::End::kDone);
  ASSERT_THAT(run.mmio, SizeIs(1));
  EXPECT_EQ(run.mmio[0].address, HV_A64_EXTRA_BASE + 0x100);
  EXPECT_TRUE(run.mmio[0].is_write);
  EXPECT_EQ(run.mmio[0].value, 0x1111222233334444u);
  EXPECT_THAT(run.reports, ElementsAre(0x0badc0de0badc0deu));
  EXPECT_EQ(Load64(rom_bytes + 0x100), 0x0badc0de0badc0deu);
}

TEST_P(AArch64GuestConformance, RemovedRegionBecomesMmio) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest());
  ASSERT_OK_AND_ASSIGN(auto extra, MemoryRegion::CreateShared("extra", 0x10000));
  Store64(extra->data() + 0x40, 0x5555aaaa5555aaaa);
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       guest->vm().AddMemoryRegion(HV_A64_EXTRA_BASE, std::move(extra), {}));
  ASSERT_OK(guest->Start(0, Routine::kLoadReport, {{1, HV_A64_EXTRA_BASE + 0x40}}));
  ASSERT_OK_AND_ASSIGN(GuestRun before, guest->Run(0));
  EXPECT_THAT(before.reports, ElementsAre(0x5555aaaa5555aaaau));
  EXPECT_THAT(before.mmio, IsEmpty());

  HV_UNIMPLEMENTED_WITHOUT(guest->vm(), VmCap::kRemoveMemoryRegion,
                           guest->vm().RemoveMemoryRegion(slot));
  ASSERT_OK_AND_ASSIGN(auto region, guest->vm().RemoveMemoryRegion(slot));
  EXPECT_EQ(Load64(region->data() + 0x40), 0x5555aaaa5555aaaau);
  ASSERT_OK(guest->Start(0, Routine::kLoadReport, {{1, HV_A64_EXTRA_BASE + 0x40}}));
  ASSERT_OK_AND_ASSIGN(GuestRun after, guest->Run(0, [](IoRequest& io) {
    if (!io.is_write && io.address == HV_A64_EXTRA_BASE + 0x40) Answer(io, 0x77);
  }));
  ASSERT_THAT(after.mmio, SizeIs(1));
  EXPECT_FALSE(after.mmio[0].is_write);
  EXPECT_EQ(after.mmio[0].address, HV_A64_EXTRA_BASE + 0x40);
  EXPECT_THAT(after.reports, ElementsAre(0x77u));
}

TEST_P(AArch64GuestConformance, DirtyLogNamesExactlyTheWrittenPages) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest());
  const uint64_t page = HostPageSize();
  ASSERT_OK_AND_ASSIGN(auto logged, MemoryRegion::CreateShared("logged", 64 * page));
  uint8_t* bytes = logged->data();
  MemoryRegionOptions options;
  options.log_dirty_pages = true;
  HV_UNIMPLEMENTED_WITHOUT(guest->vm(), VmCap::kDirtyLog,
                           guest->vm().AddMemoryRegion(
                               HV_A64_EXTRA_BASE, std::move(logged), options));
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       guest->vm().AddMemoryRegion(HV_A64_EXTRA_BASE, std::move(logged), options));
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> initial, guest->vm().GetDirtyLog(slot));
  ASSERT_THAT(initial, SizeIs(1));
  EXPECT_EQ(initial[0], 0u);

  // The guest writes at 4 KiB strides; with larger host pages several
  // guest pages share a bit.
  auto expected_bits = [&](uint64_t mask) {
    uint64_t bits = 0;
    for (int i = 0; i < 64; ++i) {
      if (mask & (1ull << i)) bits |= 1ull << ((i * 4096ull) / page);
    }
    return bits;
  };
  const uint64_t first = (1 << 1) | (1 << 3) | (1 << 7) | (1ull << 40);
  ASSERT_OK(guest->Start(0, Routine::kTouchPages, {{1, HV_A64_EXTRA_BASE}, {2, first}}));
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0));
  EXPECT_EQ(run.end, GuestRun::End::kDone);
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> log, guest->vm().GetDirtyLog(slot));
  ASSERT_THAT(log, SizeIs(1));
  EXPECT_EQ(log[0], expected_bits(first));
  EXPECT_EQ(Load64(bytes + 3 * 4096), 4u);
  EXPECT_EQ(Load64(bytes + 40 * 4096), 41u);

  const uint64_t second = (1 << 0) | (1 << 14);
  ASSERT_OK(guest->Start(0, Routine::kTouchPages, {{1, HV_A64_EXTRA_BASE}, {2, second}}));
  ASSERT_OK(guest->Run(0).status());
  ASSERT_OK_AND_ASSIGN(log, guest->vm().GetDirtyLog(slot));
  EXPECT_EQ(log[0], expected_bits(second));
}

TEST_P(AArch64GuestConformance, DirtyLogSwitchedLiveAndManuallyProtected) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest());
  Vm& vm = guest->vm();
  const uint64_t page = HostPageSize();
  ASSERT_OK_AND_ASSIGN(auto region, MemoryRegion::CreateShared("live", 64 * page));
  uint8_t* bytes = region->data();
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       vm.AddMemoryRegion(HV_A64_EXTRA_BASE, std::move(region), {}));
  HV_UNIMPLEMENTED_WITHOUT(vm, VmCap::kDirtyLogSwitch,
                           vm.SetDirtyLogging(slot, true));
  // Guest writes at 4 KiB strides; with larger host pages several share a bit.
  auto bits = [&](uint64_t mask) {
    uint64_t out = 0;
    for (int i = 0; i < 64; ++i) {
      if (mask & (1ull << i)) out |= 1ull << ((i * 4096ull) / page);
    }
    return out;
  };
  auto touch = [&](uint64_t mask) {
    ASSERT_OK(guest->Start(0, Routine::kTouchPages,
                           {{1, HV_A64_EXTRA_BASE}, {2, mask}}));
    ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0));
    EXPECT_EQ(run.end, GuestRun::End::kDone);
  };
  EXPECT_THAT(vm.GetDirtyLog(slot),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_NO_FATAL_FAILURE(touch(1ull << 2));  // before logging: never reported

  ASSERT_OK(vm.SetDirtyLogging(slot, true));
  EXPECT_EQ(Load64(bytes + 2 * 4096), 3u);  // the region kept its memory
  EXPECT_THAT(vm.GetDirtyLog(slot), IsOkAndHolds(ElementsAre(0u)));
  ASSERT_NO_FATAL_FAILURE(touch(1ull << 5));
  EXPECT_THAT(vm.GetDirtyLog(slot), IsOkAndHolds(ElementsAre(bits(1ull << 5))));
  EXPECT_THAT(vm.GetDirtyLog(slot), IsOkAndHolds(ElementsAre(0u)));
  ASSERT_OK(vm.SetDirtyLogging(slot, false));
  EXPECT_THAT(vm.GetDirtyLog(slot),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  // Which half ran, in the log.
  std::printf("manual dirty-log protection: %s\n",
              vm.CheckCapability(VmCap::kDirtyLogManualProtect) ? "yes" : "no");
  if (!vm.CheckCapability(VmCap::kDirtyLogManualProtect)) {
    EXPECT_THAT(vm.EnableDirtyLogManualProtect(),
                StatusIs(absl::StatusCode::kUnimplemented));
    return;
  }
  ASSERT_OK(vm.EnableDirtyLogManualProtect());
  ASSERT_OK(vm.SetDirtyLogging(slot, true));
  const uint64_t first = (1ull << 1) | (1ull << 4);
  ASSERT_NO_FATAL_FAILURE(touch(first));
  EXPECT_THAT(vm.GetDirtyLog(slot), IsOkAndHolds(ElementsAre(bits(first))));
  // Not reset by reading; only ClearDirtyLog resets (and re-protects).
  EXPECT_THAT(vm.GetDirtyLog(slot), IsOkAndHolds(ElementsAre(bits(first))));
  const std::vector<uint64_t> page4 = {bits(1ull << 4)};
  ASSERT_OK(vm.ClearDirtyLog(slot, 0, 64, page4));
  EXPECT_THAT(vm.GetDirtyLog(slot),
              IsOkAndHolds(ElementsAre(bits(first) & ~bits(1ull << 4))));
  ASSERT_NO_FATAL_FAILURE(touch(1ull << 4));
  EXPECT_THAT(vm.GetDirtyLog(slot), IsOkAndHolds(ElementsAre(bits(first))));
}

TEST_P(AArch64GuestConformance, FdMappingIntoArenaAndRemoval) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest());
  const uint64_t page = HostPageSize();
  ASSERT_OK_AND_ASSIGN(auto arena, MemoryRegion::CreateArena(16 * page));
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       guest->vm().AddMemoryRegion(HV_A64_EXTRA_BASE, std::move(arena), {}));
  ASSERT_OK_AND_ASSIGN(UniqueFd blob, CreateMemfd("blob", page));
  const uint64_t value = 0x0123456789abcdef;
  ASSERT_EQ(::pwrite(blob.get(), &value, sizeof(value), 8), 8);
  HV_UNIMPLEMENTED_WITHOUT(guest->vm(), VmCap::kFdMapping,
                           guest->vm().AddFdMapping(slot, 2 * page, page,
                                                    blob.get(), 0,
                                                    Protection::Read()));
  ASSERT_OK(guest->vm().AddFdMapping(slot, 2 * page, page, blob.get(), 0,
                                     Protection::Read()));
  const uint64_t address = HV_A64_EXTRA_BASE + 2 * page + 8;
  ASSERT_OK(guest->Start(0, Routine::kLoadReport, {{1, address}}));
  ASSERT_OK_AND_ASSIGN(GuestRun mapped, guest->Run(0));
  EXPECT_THAT(mapped.reports, ElementsAre(value));
  EXPECT_THAT(mapped.mmio, IsEmpty());

  ASSERT_OK(guest->vm().RemoveMapping(slot, 2 * page, page));
  ASSERT_OK(guest->Start(0, Routine::kLoadReport, {{1, address}}));
  ASSERT_OK_AND_ASSIGN(GuestRun removed, guest->Run(0));
  EXPECT_THAT(removed.reports, ElementsAre(0u));
  EXPECT_THAT(removed.mmio, IsEmpty());
}

TEST_P(AArch64GuestConformance, AddressLimitAndCounterOffset) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest());
  const uint64_t limit = guest->vm().GuestAddressLimit();
  EXPECT_GE(limit, 1ull << 32);
  ASSERT_OK_AND_ASSIGN(auto region, MemoryRegion::CreateShared("high", 0x10000));
  EXPECT_THAT(guest->vm().AddMemoryRegion(limit, std::move(region), {}),
              StatusIs(absl::StatusCode::kOutOfRange));
  // The highest page below the limit is usable.
  ASSERT_OK_AND_ASSIGN(region, MemoryRegion::CreateShared("top", 0x10000));
  EXPECT_OK(guest->vm().AddMemoryRegion(limit - 0x10000, std::move(region), {}).status());
  // A VM-wide counter offset is optional (KVM: Linux 6.4 and later).
  const absl::Status offset = guest->vm().SetCounterOffset(0x1000);
  EXPECT_TRUE(offset.ok() || absl::IsUnimplemented(offset)) << offset;
  // The fixture's vCPUs were initialised with it.
  EXPECT_TRUE(guest->vcpu(0).SupportsFeature(VcpuFeature::kPsci0_2));
}

}  // namespace
}  // namespace hv::testing
