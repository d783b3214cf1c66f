#include "hypervisor/whpx/whpx_vm.h"

#if !defined(_WIN32)
#include <unistd.h>
#endif

#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/whpx/whpx_test_util.h"
#include "testing/backend_expectations.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::NewTestRegion;
using ::hv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace whpx_abi;  // NOLINT

TEST(WhpxVm, AddMemoryRegionMapsTheHostMemory) {
  WhpxTestBed bed;
  ASSERT_OK(bed.Init());
  auto ram = NewTestRegion(0x4000);
  uint8_t* host = ram->data();
  bed.fake->ClearCalls();
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       bed.vm->AddMemoryRegion(0x10000, std::move(ram), {}));
  EXPECT_EQ(slot, 0u);
  // The first mapping sets the partition up.
  EXPECT_THAT(bed.fake->CallNames(),
              ElementsAre("WHvSetupPartition", "WHvMapGpaRange"));
  const auto mappings = bed.fake->Mappings();
  ASSERT_EQ(mappings.size(), 1u);
  EXPECT_EQ(mappings[0].gpa, 0x10000u);
  EXPECT_EQ(mappings[0].size, 0x4000u);
  EXPECT_EQ(mappings[0].host, host);
  EXPECT_EQ(mappings[0].flags, WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite |
                                   WHvMapGpaRangeFlagExecute);
  // The guest sees the host's bytes and the host the guest's.
  host[5] = 0x42;
  ASSERT_OK_AND_ASSIGN(auto bytes, bed.fake->GuestRead(0x10005, 1));
  EXPECT_EQ(bytes[0], 0x42);
  const uint8_t data[] = {1, 2};
  ASSERT_OK(bed.fake->GuestWrite(0x10010, data));
  EXPECT_EQ(host[0x10], 1);
}

TEST(WhpxVm, ReadOnlyRegionIsMappedWithoutWrite) {
  WhpxTestBed bed;
  ASSERT_OK(bed.Init());
  MemoryRegionOptions options;
  options.read_only = true;
  ASSERT_OK(bed.vm->AddMemoryRegion(0x0, NewTestRegion(0x1000), options));
  EXPECT_EQ(bed.fake->Mappings()[0].flags,
            WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagExecute);
  const uint8_t data[] = {1};
  EXPECT_THAT(bed.fake->GuestWrite(0x10, data),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(WhpxVm, DirtyLogReportsGuestWritesAndResets) {
  WhpxTestBed bed;
  ASSERT_OK(bed.Init());
  MemoryRegionOptions options;
  options.log_dirty_pages = true;
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       bed.vm->AddMemoryRegion(0x100000, NewTestRegion(0x42000), options));
  EXPECT_EQ(bed.fake->Mappings()[0].flags & WHvMapGpaRangeFlagTrackDirtyPages,
            WHvMapGpaRangeFlagTrackDirtyPages);
  const uint8_t data[] = {7};
  ASSERT_OK(bed.fake->GuestWrite(0x100000 + 3 * 0x1000, data));
  ASSERT_OK(bed.fake->GuestWrite(0x100000 + 65 * 0x1000 + 8, data));
  bed.fake->ClearCalls();
  ASSERT_OK_AND_ASSIGN(auto log, bed.vm->GetDirtyLog(slot));
  EXPECT_THAT(log, ElementsAre(uint64_t{1} << 3, uint64_t{1} << 1));
  const auto calls = bed.fake->calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_THAT(calls[0].args,
              HasSubstr("gpa 0x100000, size 0x42000, bitmap 16 bytes"));
  ASSERT_OK_AND_ASSIGN(log, bed.vm->GetDirtyLog(slot));
  EXPECT_THAT(log, ElementsAre(0u, 0u));
}

TEST(WhpxVm, DirtyLogErrors) {
  WhpxTestBed bed;
  ASSERT_OK(bed.Init());
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       bed.vm->AddMemoryRegion(0x0, NewTestRegion(0x1000), {}));
  EXPECT_THAT(bed.vm->GetDirtyLog(slot),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("without log_dirty_pages")));
  EXPECT_THAT(bed.vm->GetDirtyLog(9),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("slot 9")));
}

TEST(WhpxVm, DirtyLogWithoutTheFeatureIsUnimplemented) {
  ::hv::testing::WhpxFake::Options options;
  options.features = kFeaturePartialUnmap;
  WhpxTestBed bed(options);
  ASSERT_OK(bed.Init());
  EXPECT_FALSE(bed.vm->CheckCapability(VmCap::kDirtyLog));
  MemoryRegionOptions region_options;
  region_options.log_dirty_pages = true;
  bed.fake->ClearCalls();
  EXPECT_THAT(bed.vm->AddMemoryRegion(0x0, NewTestRegion(0x1000), region_options),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("DirtyPageTracking")));
  EXPECT_TRUE(bed.fake->calls().empty());
  EXPECT_THAT(bed.vm->MemoryRegions(), IsEmpty());
}

TEST(WhpxVm, BadRegionsChangeNothing) {
  WhpxTestBed bed;
  ASSERT_OK(bed.Init());
  ASSERT_OK(bed.vm->AddMemoryRegion(0x10000, NewTestRegion(0x2000), {}));
  const auto before = bed.vm->MemoryRegions();
  bed.fake->ClearCalls();
  EXPECT_THAT(bed.vm->AddMemoryRegion(0x11000, NewTestRegion(0x2000), {}),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(bed.vm->AddMemoryRegion(0x20800, NewTestRegion(0x1000), {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bed.vm->AddMemoryRegion(bed.vm->GuestAddressLimit(), NewTestRegion(0x1000),
                                      {}),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(bed.vm->AddMemoryRegion(0x40000, nullptr, {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  MemoryRegionOptions noncoherent;
  noncoherent.cache = MemCacheType::kCacheNonCoherent;
  EXPECT_FALSE(bed.vm->CheckCapability(VmCap::kMemNoncoherentDma));
  EXPECT_THAT(bed.vm->AddMemoryRegion(0x40000, NewTestRegion(0x1000), noncoherent),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("non-coherent")));
  EXPECT_THAT(bed.vm->RemoveMemoryRegion(5),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(bed.fake->calls().empty());
  EXPECT_EQ(bed.vm->MemoryRegions().size(), before.size());
  EXPECT_EQ(bed.fake->Mappings().size(), 1u);
}

TEST(WhpxVm, MapFailureLeavesNothing) {
  WhpxTestBed bed;
  ASSERT_OK(bed.Init());
  bed.fake->FailNext("WHvMapGpaRange", kEOutOfMemory);
  EXPECT_THAT(bed.vm->AddMemoryRegion(0x10000, NewTestRegion(0x2000), {}),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("WHvMapGpaRange ([0x10000, 0x12000), flags "
                                 "0x7): E_OUTOFMEMORY (HRESULT 0x8007000e)")));
  EXPECT_THAT(bed.vm->MemoryRegions(), IsEmpty());
  EXPECT_THAT(bed.fake->Mappings(), IsEmpty());
  // The slot is still free.
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       bed.vm->AddMemoryRegion(0x10000, NewTestRegion(0x2000), {}));
  EXPECT_EQ(slot, 0u);
}

TEST(WhpxVm, RemoveMemoryRegionUnmapsAndHandsTheRegionBack) {
  WhpxTestBed bed;
  ASSERT_OK(bed.Init());
  auto ram = NewTestRegion(0x2000);
  uint8_t* host = ram->data();
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       bed.vm->AddMemoryRegion(0x10000, std::move(ram), {}));
  bed.fake->FailNext("WHvUnmapGpaRange", kEFail);
  EXPECT_THAT(bed.vm->RemoveMemoryRegion(slot),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("WHvUnmapGpaRange ([0x10000, 0x12000))")));
  EXPECT_EQ(bed.vm->MemoryRegions().size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto region, bed.vm->RemoveMemoryRegion(slot));
  EXPECT_EQ(region->data(), host);
  EXPECT_THAT(bed.fake->Mappings(), IsEmpty());
  EXPECT_THAT(bed.fake->GuestRead(0x10000, 1),
              StatusIs(absl::StatusCode::kNotFound));
}

// Fd mappings swap pages in place, which hv's Windows OS layer does not do
// (UNIMPLEMENTED there); these run where it does.
#if !defined(_WIN32)
TEST(WhpxVm, FdMappingRemapsThatRange) {
  WhpxTestBed bed;
  ASSERT_OK(bed.Init());
  ASSERT_OK_AND_ASSIGN(auto arena, MemoryRegion::CreateArena(0x4000));
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       bed.vm->AddMemoryRegion(0x80000, std::move(arena), {}));
  ASSERT_OK_AND_ASSIGN(UniqueFd blob, CreateMemfd("blob", 0x1000));
  const char text[] = "hello";
  ASSERT_EQ(pwrite(blob.get(), text, sizeof(text), 0),
            static_cast<ssize_t>(sizeof(text)));
  bed.fake->ClearCalls();
  ASSERT_OK(bed.vm->AddFdMapping(slot, 0x2000, 0x1000, blob.get(), 0,
                                 Protection::ReadWrite()));
  EXPECT_THAT(bed.fake->CallNames(),
              ElementsAre("WHvUnmapGpaRange", "WHvMapGpaRange"));
  EXPECT_THAT(bed.fake->calls()[0].args, HasSubstr("gpa 0x82000, size 0x1000"));
  ASSERT_OK_AND_ASSIGN(auto bytes, bed.fake->GuestRead(0x82000, 5));
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "hello");
  EXPECT_EQ(bed.fake->Mappings().size(), 3u);  // before, the blob, after
  ASSERT_OK(bed.vm->RemoveMapping(slot, 0x2000, 0x1000));
  ASSERT_OK_AND_ASSIGN(bytes, bed.fake->GuestRead(0x82000, 1));
  EXPECT_EQ(bytes[0], 0);
  // Removing the region unmaps every piece.
  ASSERT_OK(bed.vm->RemoveMemoryRegion(slot));
  EXPECT_THAT(bed.fake->Mappings(), IsEmpty());
}

TEST(WhpxVm, FdMappingErrorsChangeNothing) {
  WhpxTestBed bed;
  ASSERT_OK(bed.Init());
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       bed.vm->AddMemoryRegion(0x80000, NewTestRegion(0x4000), {}));
  ASSERT_OK_AND_ASSIGN(UniqueFd blob, CreateMemfd("blob", 0x1000));
  bed.fake->ClearCalls();
  EXPECT_THAT(bed.vm->AddFdMapping(7, 0, 0x1000, blob.get(), 0, {}),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(bed.vm->AddFdMapping(slot, 0x800, 0x1000, blob.get(), 0, {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bed.vm->AddFdMapping(slot, 0x4000, 0x1000, blob.get(), 0, {}),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(bed.vm->AddFdMapping(slot, 0, 0x1000, -1, 0, {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(bed.fake->calls().empty());
  // The host refuses the fd: the range is mapped again as it was.
  EXPECT_FALSE(bed.vm->AddFdMapping(slot, 0, 0x1000, 1 << 20, 0, {}).ok());
  EXPECT_THAT(bed.fake->CallNames(),
              ElementsAre("WHvUnmapGpaRange", "WHvMapGpaRange"));
  ASSERT_OK(bed.fake->GuestRead(0x80000, 0x4000));
}
#endif  // !defined(_WIN32)

TEST(WhpxVm, FdMappingWithoutPartialUnmapIsUnimplemented) {
  ::hv::testing::WhpxFake::Options options;
  options.features = kFeatureDirtyPageTracking;
  WhpxTestBed bed(options);
  ASSERT_OK(bed.Init());
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       bed.vm->AddMemoryRegion(0x80000, NewTestRegion(0x4000), {}));
  ASSERT_OK_AND_ASSIGN(UniqueFd blob, CreateMemfd("blob", 0x1000));
  bed.fake->ClearCalls();
  EXPECT_THAT(bed.vm->AddFdMapping(slot, 0, 0x1000, blob.get(), 0, {}),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("PartialUnmap")));
  EXPECT_TRUE(bed.fake->calls().empty());
}

TEST(WhpxVm, WhatWhpxLacksIsUnimplemented) {
  WhpxTestBed bed;
  ASSERT_OK(bed.Init());
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  EXPECT_FALSE(bed.vm->CheckCapability(VmCap::kIoEventfd));
  EXPECT_FALSE(bed.vm->CheckCapability(VmCap::kIrqfd));
  EXPECT_THAT(bed.vm->RegisterIoEvent(event, {}),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("ioeventfd")));
  EXPECT_THAT(bed.vm->RegisterIrqfd(event, 4),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("gsi 4")));
  EXPECT_THAT(bed.vm->SetIrqLine(4, true),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("PIC")));
  EXPECT_THAT(bed.vm->CreateIrqChip(IrqChipKind::kKernel, 24),
              StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(bed.vm->GetClock(), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(bed.vm->GetSupportedCpuid(),
              StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_OK(bed.vm->SetTssAddress(0xfffbd000));
}

TEST(WhpxVm, VcpuIdsBeyondTheProcessorCountAreRefused) {
  WhpxTestBed bed(::hv::testing::WhpxFake::Options(), /*max_vcpus=*/2);
  ASSERT_OK(bed.Init());
  bed.fake->ClearCalls();
  EXPECT_THAT(bed.vm->CreateVcpu(2),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("set up for 2 vCPUs")));
  EXPECT_TRUE(bed.fake->calls().empty());
  ASSERT_OK_AND_ASSIGN(auto vcpu, bed.vm->CreateVcpu(1));
  EXPECT_THAT(bed.vm->CreateVcpu(1),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("WHvCreateVirtualProcessor (vCPU 1)")));
  EXPECT_EQ(bed.fake->LiveVps(), 1);
  EXPECT_EQ(bed.fake->LiveEmulators(), 1);
}

TEST(WhpxVm, DestroyingTheVmUnmapsAndDeletesInOrder) {
  WhpxTestBed bed;
  ASSERT_OK(bed.Init());
  ASSERT_OK(bed.vm->AddMemoryRegion(0x0, NewTestRegion(0x1000), {}));
  ASSERT_OK_AND_ASSIGN(auto vcpu, bed.vm->CreateVcpu(0));
  bed.vm.reset();
  // The vCPU keeps the partition, but its memory is already unmapped.
  EXPECT_EQ(bed.fake->LivePartitions(), 1);
  vcpu.reset();
  EXPECT_EQ(bed.fake->LivePartitions(), 0);
  EXPECT_EQ(bed.fake->LiveVps(), 0);
  EXPECT_EQ(bed.fake->LiveEmulators(), 0);
  EXPECT_THAT(bed.fake->violations(), IsEmpty());
}

}  // namespace
}  // namespace hv
