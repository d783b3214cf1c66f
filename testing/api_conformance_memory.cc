// ApiConformance: memory regions, fd mappings and dirty logs.

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/status_macros.h"
#include "testing/api_conformance.h"
#include "testing/backend_expectations.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr uint64_t kRegionSize = 64 * 1024;
constexpr GuestAddress kBase = 0x100000;

uint64_t PageSize() { return HostPageSize(); }

// A memfd of `size` bytes that starts with `contents`.
absl::StatusOr<UniqueFd> NewBlob(uint64_t size, absl::string_view contents) {
  ASSIGN_OR_RETURN(UniqueFd blob, CreateMemfd("api-blob", size));
  ASSIGN_OR_RETURN(std::unique_ptr<MemoryRegion> view,
                   MemoryRegion::FromFd(blob.get(), 0, size,
                                        Protection::ReadWrite()));
  std::memcpy(view->data(), contents.data(), contents.size());
  return blob;
}

std::unique_ptr<MemoryRegion> NewRegion(uint64_t size = kRegionSize) {
  auto region = MemoryRegion::CreateShared("api-conformance", size);
  EXPECT_OK(region.status());
  return region.ok() ? *std::move(region) : nullptr;
}

// AddWhereOffered(): adds NewRegion() at kBase with `options`, which a VM
// not offering `cap` refuses: there, checks the refusal (UNIMPLEMENTED, no
// region added) and answers std::nullopt; elsewhere, what the add answered.
std::optional<absl::StatusOr<MemSlot>> AddWhereOffered(
    Vm& vm, VmCap cap, const MemoryRegionOptions& options) {
  absl::StatusOr<MemSlot> slot =
      vm.AddMemoryRegion(kBase, NewRegion(), options);
  if (vm.CheckCapability(cap)) return slot;
  EXPECT_THAT(slot, StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(vm.MemoryRegions(), SizeIs(0));
  return std::nullopt;
}

TEST_P(ApiConformance, SlotsAreLowestFreeAndReused) {
  ASSERT_OK_AND_ASSIGN(MemSlot a, vm_->AddMemoryRegion(kBase, NewRegion(), {}));
  ASSERT_OK_AND_ASSIGN(MemSlot b, vm_->AddMemoryRegion(kBase + kRegionSize,
                                                       NewRegion(), {}));
  ASSERT_OK_AND_ASSIGN(MemSlot c, vm_->AddMemoryRegion(kBase + 2 * kRegionSize,
                                                       NewRegion(), {}));
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  if (!vm_->CheckCapability(VmCap::kRemoveMemoryRegion)) {
    EXPECT_THAT(vm_->RemoveMemoryRegion(b),
                StatusIs(absl::StatusCode::kUnimplemented));
    EXPECT_THAT(vm_->MemoryRegions(), SizeIs(3));
    return;
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemoryRegion> removed,
                       vm_->RemoveMemoryRegion(b));
  ASSERT_NE(removed, nullptr);
  EXPECT_EQ(removed->size(), kRegionSize);
  ASSERT_OK_AND_ASSIGN(MemSlot reused, vm_->AddMemoryRegion(
                                           kBase + 8 * kRegionSize,
                                           std::move(removed), {}));
  EXPECT_EQ(reused, b);
}

TEST_P(ApiConformance, RegionsAreListedByAddress) {
  ASSERT_OK_AND_ASSIGN(MemSlot high, vm_->AddMemoryRegion(
                                         kBase + 4 * kRegionSize, NewRegion(),
                                         {}));
  ASSERT_OK_AND_ASSIGN(MemSlot low, vm_->AddMemoryRegion(kBase, NewRegion(), {}));
  std::vector<MemoryRegionInfo> regions = vm_->MemoryRegions();
  ASSERT_THAT(regions, SizeIs(2));
  EXPECT_EQ(regions[0].slot, low);
  EXPECT_EQ(regions[0].guest_address, kBase);
  EXPECT_EQ(regions[0].size, kRegionSize);
  EXPECT_EQ(regions[1].slot, high);
  EXPECT_EQ(regions[1].guest_address, kBase + 4 * kRegionSize);
}

TEST_P(ApiConformance, OverlapNamesBothRangesAndChangesNothing) {
  ASSERT_OK(vm_->AddMemoryRegion(kBase, NewRegion(), {}).status());
  const std::vector<MemoryRegionInfo> before = vm_->MemoryRegions();
  EXPECT_THAT(vm_->AddMemoryRegion(kBase + kRegionSize / 2, NewRegion(), {}),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       AllOf(HasSubstr("0x100000"), HasSubstr("0x108000"))));
  EXPECT_THAT(vm_->MemoryRegions(), SizeIs(before.size()));
  // The range next to it is still free.
  EXPECT_OK(vm_->AddMemoryRegion(kBase + kRegionSize, NewRegion(), {}).status());
}

TEST_P(ApiConformance, BadRegionArgumentsAreRejected) {
  EXPECT_THAT(vm_->AddMemoryRegion(kBase, nullptr, {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(vm_->AddMemoryRegion(kBase + 1, NewRegion(), {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  const uint64_t limit = vm_->GuestAddressLimit();
  ASSERT_GT(limit, kBase);
  EXPECT_THAT(vm_->AddMemoryRegion(limit - PageSize(), NewRegion(), {}),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(vm_->RemoveMemoryRegion(12345),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("12345")));
  EXPECT_THAT(vm_->MemoryRegions(), SizeIs(0));
}

TEST_P(ApiConformance, ReadOnlyFollowsTheCapability) {
  MemoryRegionOptions options;
  options.read_only = true;
  const std::optional<absl::StatusOr<MemSlot>> slot =
      AddWhereOffered(*vm_, VmCap::kReadOnlyMemoryRegion, options);
  if (!slot.has_value()) return;
  ASSERT_OK(slot->status());
  EXPECT_TRUE(vm_->MemoryRegions()[0].options.read_only);
}

TEST_P(ApiConformance, NonCoherentFollowsTheCapability) {
  MemoryRegionOptions options;
  options.cache = MemCacheType::kCacheNonCoherent;
  const std::optional<absl::StatusOr<MemSlot>> slot =
      AddWhereOffered(*vm_, VmCap::kMemNoncoherentDma, options);
  if (slot.has_value()) {
    EXPECT_OK(slot->status());
  }
}

TEST_P(ApiConformance, GuestAndHostShareRegionMemory) {
  HV_REQUIRE_SCRIPT();
  std::unique_ptr<MemoryRegion> region = NewRegion();
  uint8_t* host = region->data();
  std::memcpy(host + 0x20, "host", 4);
  ASSERT_OK(vm_->AddMemoryRegion(kBase, std::move(region), {}).status());
  EXPECT_THAT(script_->GuestRead(kBase + 0x20, 4),
              IsOkAndHolds(ElementsAre('h', 'o', 's', 't')));
  const uint8_t guest[] = {'g', 'u', 'e', 's', 't'};
  ASSERT_OK(script_->GuestWrite(kBase + 0x100, guest));
  EXPECT_EQ(std::memcmp(host + 0x100, "guest", 5), 0);
  EXPECT_THAT(script_->GuestRead(kBase + kRegionSize, 1),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(ApiConformance, ReadOnlyMemoryRefusesGuestWrites) {
  HV_REQUIRE_SCRIPT();
  if (!vm_->CheckCapability(VmCap::kReadOnlyMemoryRegion)) {
    GTEST_SKIP() << "no read-only regions (ReadOnlyFollowsTheCapability)";
  }
  std::unique_ptr<MemoryRegion> rom = NewRegion();
  rom->data()[0] = 0xa5;
  MemoryRegionOptions options;
  options.read_only = true;
  ASSERT_OK(vm_->AddMemoryRegion(kBase, std::move(rom), options).status());
  const uint8_t byte[] = {0x11};
  EXPECT_THAT(script_->GuestWrite(kBase, byte),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(script_->GuestRead(kBase, 1), IsOkAndHolds(ElementsAre(0xa5)));
}

TEST_P(ApiConformance, RemovedRegionIsGoneForTheGuest) {
  HV_REQUIRE_SCRIPT();
  ASSERT_OK_AND_ASSIGN(MemSlot slot, vm_->AddMemoryRegion(kBase, NewRegion(), {}));
  ASSERT_OK(script_->GuestRead(kBase, 1).status());
  if (!vm_->CheckCapability(VmCap::kRemoveMemoryRegion)) {
    EXPECT_THAT(vm_->RemoveMemoryRegion(slot),
                StatusIs(absl::StatusCode::kUnimplemented));
    EXPECT_OK(script_->GuestRead(kBase, 1).status()) << "the region stays";
    return;
  }
  ASSERT_OK(vm_->RemoveMemoryRegion(slot).status());
  EXPECT_THAT(script_->GuestRead(kBase, 1), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(ApiConformance, FdMappingIsSeenAndRemoved) {
  const uint64_t page = PageSize();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemoryRegion> arena,
                       MemoryRegion::CreateArena(kRegionSize));
  ASSERT_OK_AND_ASSIGN(MemSlot slot, vm_->AddMemoryRegion(kBase, std::move(arena), {}));
  ASSERT_OK_AND_ASSIGN(UniqueFd blob, NewBlob(2 * page, "blob"));
  if (!vm_->CheckCapability(VmCap::kFdMapping)) {
    EXPECT_THAT(vm_->AddFdMapping(slot, page, page, blob.get(), 0,
                                  Protection::Read()),
                StatusIs(absl::StatusCode::kUnimplemented));
    EXPECT_THAT(vm_->RemoveMapping(slot, page, page),
                StatusIs(absl::StatusCode::kUnimplemented));
    return;
  }
  ASSERT_OK(vm_->AddFdMapping(slot, page, page, blob.get(), 0,
                              Protection::Read()));
  if (script_ != nullptr) {
    EXPECT_THAT(script_->GuestRead(kBase + page, 4),
                IsOkAndHolds(ElementsAre('b', 'l', 'o', 'b')));
  }
  ASSERT_OK(vm_->RemoveMapping(slot, page, page));
  if (script_ != nullptr) {
    EXPECT_THAT(script_->GuestRead(kBase + page, 4),
                IsOkAndHolds(ElementsAre(0, 0, 0, 0)));
  }
}

TEST_P(ApiConformance, BadFdMappingsAreRejected) {
  const uint64_t page = PageSize();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemoryRegion> arena,
                       MemoryRegion::CreateArena(kRegionSize));
  ASSERT_OK_AND_ASSIGN(MemSlot slot, vm_->AddMemoryRegion(kBase, std::move(arena), {}));
  ASSERT_OK_AND_ASSIGN(UniqueFd blob, NewBlob(page, ""));
  if (!vm_->CheckCapability(VmCap::kFdMapping)) {
    GTEST_SKIP() << "no fd mappings (FdMappingIsSeenAndRemoved checks the error)";
  }
  ExpectFdMappingArgumentsRefused(*vm_, slot, slot + 100, kRegionSize,
                                  blob.get(), page);
  EXPECT_THAT(vm_->RemoveMapping(slot + 100, 0, page),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(ApiConformance, DirtyLogFollowsTheCapability) {
  const uint64_t page = PageSize();
  MemoryRegionOptions options;
  options.log_dirty_pages = true;
  const std::optional<absl::StatusOr<MemSlot>> added =
      AddWhereOffered(*vm_, VmCap::kDirtyLog, options);
  if (!added.has_value()) return;
  ASSERT_OK_AND_ASSIGN(MemSlot slot, *added);
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> first, vm_->GetDirtyLog(slot));
  EXPECT_THAT(first, SizeIs((kRegionSize / page + 63) / 64));
  if (script_ != nullptr) {
    const uint8_t byte[] = {1};
    ASSERT_OK(script_->GuestWrite(kBase + 3 * page + 8, byte));
    ASSERT_OK(script_->GuestWrite(kBase + 5 * page, byte));
    ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> log, vm_->GetDirtyLog(slot));
    EXPECT_EQ(log[0], (uint64_t{1} << 3) | (uint64_t{1} << 5));
    ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> again, vm_->GetDirtyLog(slot));
    EXPECT_EQ(again[0], 0u);
  }
}

TEST_P(ApiConformance, DirtyLogNeedsALoggedSlot) {
  ASSERT_OK_AND_ASSIGN(MemSlot slot, vm_->AddMemoryRegion(kBase, NewRegion(), {}));
  EXPECT_THAT(vm_->GetDirtyLog(slot + 100), StatusIs(absl::StatusCode::kNotFound));
  if (vm_->CheckCapability(VmCap::kDirtyLog)) {
    EXPECT_THAT(vm_->GetDirtyLog(slot),
                StatusIs(absl::StatusCode::kFailedPrecondition));
  } else {
    EXPECT_FALSE(vm_->GetDirtyLog(slot).ok());
  }
}

// The regions' (slot, address, size, read-only, logging) as one string, to
// show that a refused call changed nothing.
std::string Regions(const Vm& vm) {
  std::string out;
  for (const MemoryRegionInfo& info : vm.MemoryRegions()) {
    out += absl::StrFormat("slot %u [%#x +%#x) ro %d log %d; ", info.slot,
                           info.guest_address, info.size,
                           info.options.read_only, info.options.log_dirty_pages);
  }
  return out;
}

TEST_P(ApiConformance, DirtyLoggingSwitchesForALiveRegion) {
  const uint64_t page = PageSize();
  ASSERT_OK_AND_ASSIGN(MemSlot slot, vm_->AddMemoryRegion(kBase, NewRegion(), {}));
  HV_UNIMPLEMENTED_WITHOUT(*vm_, VmCap::kDirtyLogSwitch,
                           vm_->SetDirtyLogging(slot, true));
  const std::string plain = Regions(*vm_);
  EXPECT_THAT(vm_->SetDirtyLogging(slot + 100, true),
              StatusIs(absl::StatusCode::kNotFound,
                       absl::StrFormat("set dirty logging on: memory slot %u "
                                       "holds no region",
                                       slot + 100)));
  EXPECT_EQ(Regions(*vm_), plain);
  // Off is already the setting: nothing to do.
  EXPECT_OK(vm_->SetDirtyLogging(slot, false));
  EXPECT_THAT(vm_->GetDirtyLog(slot),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  ASSERT_OK(vm_->SetDirtyLogging(slot, true));
  ASSERT_THAT(vm_->MemoryRegions(), SizeIs(1));
  EXPECT_TRUE(vm_->MemoryRegions()[0].options.log_dirty_pages);
  EXPECT_EQ(vm_->MemoryRegions()[0].guest_address, kBase);
  EXPECT_EQ(vm_->MemoryRegions()[0].size, kRegionSize);
  EXPECT_OK(vm_->SetDirtyLogging(slot, true));
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> log, vm_->GetDirtyLog(slot));
  EXPECT_THAT(log, SizeIs((kRegionSize / page + 63) / 64));

  ASSERT_OK(vm_->SetDirtyLogging(slot, false));
  EXPECT_EQ(Regions(*vm_), plain);
  EXPECT_THAT(vm_->GetDirtyLog(slot),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("switched it off")));
}

TEST_P(ApiConformance, ManualDirtyLogProtectFollowsTheCapability) {
  const uint64_t pages = kRegionSize / PageSize();
  const std::vector<uint64_t> all((pages + 63) / 64, ~uint64_t{0});
  MemoryRegionOptions logged;
  logged.log_dirty_pages = true;
  if (!vm_->CheckCapability(VmCap::kDirtyLogManualProtect)) {
    EXPECT_THAT(vm_->EnableDirtyLogManualProtect(),
                StatusIs(absl::StatusCode::kUnimplemented,
                         HasSubstr("enable dirty log manual protect")));
    EXPECT_THAT(vm_->ClearDirtyLog(0, 0, pages, all),
                StatusIs(absl::StatusCode::kUnimplemented,
                         HasSubstr("clear dirty log")));
    return;
  }
  ASSERT_OK_AND_ASSIGN(MemSlot slot, vm_->AddMemoryRegion(kBase, NewRegion(), logged));
  // Logging already on: too late to change what the log means.
  EXPECT_THAT(vm_->EnableDirtyLogManualProtect(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(absl::StrFormat("slot %u already logs", slot))));
  EXPECT_THAT(vm_->ClearDirtyLog(slot, 0, pages, all),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("manual protection is off")));
  ASSERT_OK(vm_->RemoveMemoryRegion(slot).status());

  ASSERT_OK(vm_->EnableDirtyLogManualProtect());
  EXPECT_OK(vm_->EnableDirtyLogManualProtect());
  ASSERT_OK_AND_ASSIGN(slot, vm_->AddMemoryRegion(kBase, NewRegion(), logged));
  ASSERT_OK_AND_ASSIGN(MemSlot plain,
                       vm_->AddMemoryRegion(kBase + kRegionSize, NewRegion(), {}));
  const std::string before = Regions(*vm_);
  EXPECT_THAT(vm_->ClearDirtyLog(slot + 100, 0, pages, all),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("clear dirty log: memory slot")));
  EXPECT_THAT(vm_->ClearDirtyLog(plain, 0, pages, all),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("clear dirty log: slot")));
  EXPECT_THAT(vm_->ClearDirtyLog(slot, 1, pages - 1, all),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("first_page 1 is not a multiple of 64")));
  EXPECT_THAT(vm_->ClearDirtyLog(slot, 0, pages + 64, all),
              StatusIs(absl::StatusCode::kOutOfRange,
                       HasSubstr("reach past the region")));
  EXPECT_THAT(vm_->ClearDirtyLog(slot, 0, 0, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no pages")));
  EXPECT_THAT(vm_->ClearDirtyLog(slot, 0, pages, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the bitmap has 0 words")));
  EXPECT_EQ(Regions(*vm_), before);
  // The whole region (its last word partial), every page named, then none.
  EXPECT_OK(vm_->ClearDirtyLog(slot, 0, pages, all));
  EXPECT_OK(vm_->ClearDirtyLog(slot, 0, pages, std::vector<uint64_t>(all.size(), 0)));
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> log, vm_->GetDirtyLog(slot));
  EXPECT_THAT(log, SizeIs(all.size()));
  EXPECT_EQ(Regions(*vm_), before);
}

}  // namespace
}  // namespace hv::testing
