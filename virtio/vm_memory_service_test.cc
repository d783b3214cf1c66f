#include "virtio/vm_memory_service.h"

#include <unistd.h>

#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/memory.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/mmap_region.h"
#include "testing/fakes/fake_vm.h"
#include "testing/status_matchers.h"

namespace hv::virtio {
namespace {

using ::hv::testing::FakeVm;
using ::hv::testing::IsOk;
using ::hv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Each;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using Method = FakeVm::Method;

constexpr GuestAddress kBar = uint64_t{1} << 32;
constexpr uint64_t kBarSize = 1 << 20;
const MemCacheType kCoherent = MemCacheType::kCacheCoherent;
const MemCacheType kNonCoherent = MemCacheType::kCacheNonCoherent;

uint64_t Page() { return HostPageSize(); }

// A memfd of `size` bytes, every byte `fill`.
UniqueFd Blob(uint8_t fill, uint64_t size = 0) {
  if (size == 0) size = Page();
  absl::StatusOr<UniqueFd> fd = CreateMemfd("blob", size);
  EXPECT_THAT(fd, IsOk());
  std::vector<uint8_t> bytes(size, fill);
  EXPECT_EQ(::pwrite(fd->get(), bytes.data(), size, 0),
            static_cast<ssize_t>(size));
  return *std::move(fd);
}

std::vector<uint8_t> Bytes(uint8_t fill, uint64_t size = 0) {
  return std::vector<uint8_t>(size == 0 ? Page() : size, fill);
}

// Matches a successful guest read of `size` bytes (a page by default), each
// `fill`: EXPECT_THAT(s.vm->ReadGuest(kBar, Page()), Reads(0xaa)).
auto Reads(uint8_t fill, uint64_t size = 0) {
  return ::hv::testing::IsOkAndHolds(Bytes(fill, size));
}

struct Env {
  std::unique_ptr<FakeVm> vm;
  std::unique_ptr<VmMemoryService> service;
  VmMemoryService::RegionId id = 0;
  std::vector<UniqueFd> blobs;  // MakeMapped's memfds
};

Env Make(PrepareType prepare, bool noncoherent_dma = false) {
  Env setup;
  FakeVm::Options options;
  if (noncoherent_dma) options.capabilities.insert(VmCap::kMemNoncoherentDma);
  absl::StatusOr<std::unique_ptr<FakeVm>> vm = FakeVm::Create(options);
  EXPECT_THAT(vm, IsOk());
  setup.vm = *std::move(vm);
  absl::StatusOr<std::unique_ptr<VmMemoryService>> service =
      VmMemoryService::Create(setup.vm.get());
  EXPECT_THAT(service, IsOk());
  setup.service = *std::move(service);
  absl::StatusOr<VmMemoryService::RegionId> id =
      setup.service->RegisterRegion(kBar, kBarSize, prepare);
  EXPECT_THAT(id, IsOk());
  setup.id = *id;
  return setup;
}

absl::Status Map(Env& s, const UniqueFd& fd, uint64_t offset,
                 MemCacheType cache = MemCacheType::kCacheCoherent,
                 Protection prot = Protection::ReadWrite()) {
  return s.service->AddMapping(s.id, MappingSource::Fd(fd.get(), 0, Page()),
                               offset, prot, cache);
}

std::vector<uint64_t> Offsets(const Env& s) {
  std::vector<uint64_t> offsets;
  absl::StatusOr<std::vector<VmMemoryService::MappingStatus>> mappings =
      s.service->GetMappings(s.id);
  EXPECT_THAT(mappings, IsOk());
  for (const auto& m : *mappings) offsets.push_back(m.offset);
  return offsets;
}

// Make(prepare), then one page mapped at each {offset, fill} of `pages`,
// in order, each from a memfd of its own (kept in the Env).
Env MakeMapped(PrepareType prepare,
               std::vector<std::pair<uint64_t, uint8_t>> pages) {
  Env s = Make(prepare);
  for (const auto& [offset, fill] : pages) {
    s.blobs.push_back(Blob(fill));
    EXPECT_OK(Map(s, s.blobs.back(), offset));
  }
  return s;
}

// The region of `s` is as registered: unprepared, without mappings, and the
// Vm has no memory region.
void ExpectUnprepared(const Env& s) {
  ASSERT_OK_AND_ASSIGN(VmMemoryService::RegionStatus status,
                       s.service->GetRegionStatus(s.id));
  EXPECT_FALSE(status.prepared_slot.has_value());
  EXPECT_EQ(status.mapping_count, 0u);
  EXPECT_THAT(s.vm->MemoryRegions(), IsEmpty());
}

TEST(VmMemoryService, FirstMappingPreparesWholeRegionWithDeclaredCacheType) {
  Env s = Make(PrepareType::SingleMappingOnFirst(kCoherent));
  UniqueFd blob = Blob(0xa5);
  ASSERT_OK(Map(s, blob, 2 * Page()));

  std::vector<FakeVm::Call> calls = s.vm->Calls();
  ASSERT_THAT(calls, SizeIs(2));
  EXPECT_EQ(calls[0].method, Method::kAddMemoryRegion);
  EXPECT_EQ(calls[0].guest_address, kBar);
  EXPECT_EQ(calls[0].size, kBarSize);
  EXPECT_EQ(calls[0].options.cache, kCoherent);
  EXPECT_FALSE(calls[0].options.read_only);
  EXPECT_EQ(calls[1].method, Method::kAddFdMapping);
  EXPECT_EQ(calls[1].slot, calls[0].slot);
  EXPECT_EQ(calls[1].offset, 2 * Page());
  EXPECT_EQ(calls[1].size, Page());
  EXPECT_EQ(calls[1].prot, Protection::ReadWrite());

  EXPECT_THAT(s.vm->ReadGuest(kBar + 2 * Page(), Page()), Reads(0xa5));
  // The rest of the prepared region is the empty state: zeros.
  EXPECT_THAT(s.vm->ReadGuest(kBar, Page()), Reads(0));
  ASSERT_OK_AND_ASSIGN(VmMemoryService::RegionStatus status,
                       s.service->GetRegionStatus(s.id));
  EXPECT_EQ(status.prepared_slot, calls[0].slot);
  EXPECT_EQ(status.mapping_count, 1u);
}

TEST(VmMemoryService, FirstMappingCacheTypeDoesNotDecideNonCoherentRegion) {
  Env s = Make(PrepareType::SingleMappingOnFirst(kNonCoherent),
                 /*noncoherent_dma=*/true);
  UniqueFd blob = Blob(1);
  // A coherent first mapping: the region is still prepared non-coherent.
  ASSERT_OK(Map(s, blob, 0, kCoherent));
  std::vector<FakeVm::Call> prepares = s.vm->CallsOf(Method::kAddMemoryRegion);
  ASSERT_THAT(prepares, SizeIs(1));
  EXPECT_EQ(prepares[0].options.cache, kNonCoherent);
  // A non-coherent mapping into a non-coherent region is fine.
  UniqueFd other = Blob(2);
  EXPECT_OK(Map(s, other, Page(), kNonCoherent));
}

TEST(VmMemoryService, NonCoherentFirstMappingIntoCoherentRegionPreparesNothing) {
  Env s = Make(PrepareType::SingleMappingOnFirst(kCoherent),
                 /*noncoherent_dma=*/true);
  UniqueFd blob = Blob(1);
  EXPECT_THAT(Map(s, blob, 0, kNonCoherent),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("declared coherent")));
  EXPECT_THAT(s.vm->Calls(), IsEmpty());
  ASSERT_OK_AND_ASSIGN(VmMemoryService::RegionStatus status,
                       s.service->GetRegionStatus(s.id));
  EXPECT_FALSE(status.prepared_slot.has_value());
  // A coherent mapping then prepares the region coherent.
  ASSERT_OK(Map(s, blob, 0, kCoherent));
  std::vector<FakeVm::Call> prepares = s.vm->CallsOf(Method::kAddMemoryRegion);
  ASSERT_THAT(prepares, SizeIs(1));
  EXPECT_EQ(prepares[0].options.cache, kCoherent);
}

TEST(VmMemoryService, NonCoherentMappingIntoCoherentRegionLeavesEarlierOnes) {
  Env s = Make(PrepareType::SingleMappingOnFirst(kCoherent),
                 /*noncoherent_dma=*/true);
  UniqueFd a = Blob(0xaa);
  UniqueFd b = Blob(0xbb);
  ASSERT_OK(Map(s, a, 0));
  const size_t calls_before = s.vm->Calls().size();
  EXPECT_THAT(Map(s, b, Page(), kNonCoherent),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(s.vm->Calls().size(), calls_before);
  EXPECT_THAT(Offsets(s), ElementsAre(0u));
  EXPECT_THAT(s.vm->ReadGuest(kBar, Page()), Reads(0xaa));
  EXPECT_THAT(s.vm->ReadGuest(kBar + Page(), Page()), Reads(0));
}

TEST(VmMemoryService, PrepareHappensExactlyOnce) {
  Env s = Make(PrepareType());
  std::vector<UniqueFd> blobs;
  for (int i = 0; i < 3; ++i) blobs.push_back(Blob(static_cast<uint8_t>(i)));
  for (int i = 0; i < 3; ++i) ASSERT_OK(Map(s, blobs[i], i * Page()));
  for (int i = 0; i < 3; ++i) ASSERT_OK(s.service->RemoveMapping(s.id, i * Page()));
  ASSERT_OK(Map(s, blobs[0], 0));
  EXPECT_THAT(s.vm->CallsOf(Method::kAddMemoryRegion), SizeIs(1));
  EXPECT_THAT(s.vm->CallsOf(Method::kRemoveMemoryRegion), IsEmpty());
  EXPECT_THAT(s.vm->CallsOf(Method::kAddFdMapping), SizeIs(4));
  EXPECT_THAT(s.vm->CallsOf(Method::kRemoveMapping), SizeIs(3));
}

TEST(VmMemoryService, UnmapLeavesZerosAndRemapShowsNewBytes) {
  Env s = Make(PrepareType());
  UniqueFd a = Blob(0xaa);
  UniqueFd b = Blob(0xbb);
  ASSERT_OK(Map(s, a, 4 * Page()));
  ASSERT_OK(s.service->RemoveMapping(s.id, 4 * Page()));
  EXPECT_THAT(s.vm->ReadGuest(kBar + 4 * Page(), Page()), Reads(0));
  std::vector<FakeVm::Call> removes = s.vm->CallsOf(Method::kRemoveMapping);
  ASSERT_THAT(removes, SizeIs(1));
  EXPECT_EQ(removes[0].offset, 4 * Page());
  EXPECT_EQ(removes[0].size, Page());
  ASSERT_OK(Map(s, b, 4 * Page()));
  EXPECT_THAT(s.vm->ReadGuest(kBar + 4 * Page(), Page()), Reads(0xbb));
  EXPECT_THAT(Offsets(s), ElementsAre(4 * Page()));
}

TEST(VmMemoryService, DynamicMappingsAreOwnRegionsWithOwnCacheType) {
  Env s = Make(PrepareType::DynamicPerMapping(), /*noncoherent_dma=*/true);
  UniqueFd a = Blob(0xaa);
  UniqueFd b = Blob(0xbb);
  ASSERT_OK(Map(s, a, 0, kCoherent));
  ASSERT_OK(Map(s, b, 8 * Page(), kNonCoherent, Protection::Read()));
  std::vector<FakeVm::Call> adds = s.vm->CallsOf(Method::kAddMemoryRegion);
  ASSERT_THAT(adds, SizeIs(2));
  EXPECT_EQ(adds[0].guest_address, kBar);
  EXPECT_EQ(adds[0].size, Page());
  EXPECT_EQ(adds[0].options.cache, kCoherent);
  EXPECT_FALSE(adds[0].options.read_only);
  EXPECT_EQ(adds[1].guest_address, kBar + 8 * Page());
  EXPECT_EQ(adds[1].options.cache, kNonCoherent);
  EXPECT_TRUE(adds[1].options.read_only);
  EXPECT_NE(adds[0].slot, adds[1].slot);
  EXPECT_THAT(s.vm->CallsOf(Method::kAddFdMapping), IsEmpty());
  EXPECT_THAT(s.vm->ReadGuest(kBar + 8 * Page(), Page()), Reads(0xbb));

  // Unmapping removes the region: the guest would take an MMIO exit there.
  ASSERT_OK(s.service->RemoveMapping(s.id, 8 * Page()));
  std::vector<FakeVm::Call> removes =
      s.vm->CallsOf(Method::kRemoveMemoryRegion);
  ASSERT_THAT(removes, SizeIs(1));
  EXPECT_EQ(removes[0].slot, adds[1].slot);
  EXPECT_THAT(s.vm->ReadGuest(kBar + 8 * Page(), 1),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(VmMemoryService::RegionStatus status,
                       s.service->GetRegionStatus(s.id));
  EXPECT_FALSE(status.prepared_slot.has_value());
}

// Without kMemNoncoherentDma, a non-coherent mapping into a region prepared
// the `prepare` way fails with UNIMPLEMENTED naming `why`, and the Vm is
// left without a region and the service without a mapping.
void ExpectNonCoherentRefusedWithoutCapability(PrepareType prepare,
                                               absl::string_view why) {
  Env s = Make(prepare, /*noncoherent_dma=*/false);
  UniqueFd a = Blob(0xaa);
  EXPECT_THAT(Map(s, a, 0, kNonCoherent),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr(why)));
  EXPECT_THAT(Offsets(s), IsEmpty());
  EXPECT_THAT(s.vm->MemoryRegions(), IsEmpty());
}

TEST(VmMemoryService, DynamicNonCoherentWithoutCapabilityFailsCleanly) {
  ExpectNonCoherentRefusedWithoutCapability(PrepareType::DynamicPerMapping(),
                                            "kMemNoncoherentDma");
}

TEST(VmMemoryService, PreparedNonCoherentWithoutCapabilityFailsCleanly) {
  ExpectNonCoherentRefusedWithoutCapability(
      PrepareType::SingleMappingOnFirst(kNonCoherent),
      "preparing shared memory region");
}

// The tests that hold for both ways of preparing a region: the default
// (SingleMappingOnFirst, coherent) and DynamicPerMapping.
class VmMemoryServiceEachPrepare : public ::testing::TestWithParam<PrepareType> {
};

INSTANTIATE_TEST_SUITE_P(
    Prepare, VmMemoryServiceEachPrepare,
    ::testing::Values(PrepareType(), PrepareType::DynamicPerMapping()),
    [](const ::testing::TestParamInfo<PrepareType>& info) {
      return info.param == PrepareType() ? std::string("SingleMappingOnFirst")
                                         : std::string("DynamicPerMapping");
    });

// Every invalid request fails with a clear status and changes nothing.
TEST_P(VmMemoryServiceEachPrepare, InvalidRequestsFailAndChangeNothing) {
  const PrepareType prepare = GetParam();
  Env s = Make(prepare);
  UniqueFd a = Blob(0xaa, 4 * Page());
  ASSERT_OK(s.service->AddMapping(
      s.id, MappingSource::Fd(a.get(), 0, 2 * Page()), 2 * Page(),
      Protection::ReadWrite(), kCoherent));
  const std::vector<FakeVm::Call> calls_before = s.vm->Calls();
  const std::vector<MemoryRegionInfo> regions_before = s.vm->MemoryRegions();

  auto add = [&](uint64_t fd_offset, uint64_t size, uint64_t offset) {
    return s.service->AddMapping(
        s.id, MappingSource::Fd(a.get(), fd_offset, size), offset,
        Protection::ReadWrite(), kCoherent);
  };
  // Overlaps: same start, straddling the start, inside, straddling the end.
  EXPECT_THAT(add(0, Page(), 2 * Page()),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("overlaps the mapping at")));
  EXPECT_THAT(add(0, 2 * Page(), Page()),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(add(0, Page(), 3 * Page()),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(add(0, 4 * Page(), 0),
              StatusIs(absl::StatusCode::kAlreadyExists));
  // Out of range, including an offset past the end and a wrap-around.
  EXPECT_THAT(add(0, 2 * Page(), kBarSize - Page()),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(add(0, Page(), kBarSize),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(add(0, Page(), ~uint64_t{0} - Page() + 1),
              StatusIs(absl::StatusCode::kOutOfRange));
  // Unaligned offset, size, file offset; zero size; bad fd.
  EXPECT_THAT(add(0, Page(), 8 * Page() + 16),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("page multiples")));
  EXPECT_THAT(add(0, Page() + 1, 8 * Page()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(add(8, Page(), 8 * Page()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("file offset")));
  EXPECT_THAT(add(0, 0, 8 * Page()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("size zero")));
  EXPECT_THAT(s.service->AddMapping(s.id, MappingSource::Fd(-1, 0, Page()),
                                    8 * Page(), Protection::Read(),
                                    kCoherent),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("invalid fd")));
  EXPECT_THAT(s.service->AddMapping(s.id, MappingSource::HostAllocation(nullptr),
                                    8 * Page(), Protection::Read(),
                                    kCoherent),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("null host allocation")));
  // Unknown region; unknown offset; an offset inside (not at) a mapping.
  EXPECT_THAT(s.service->AddMapping(s.id + 7,
                                    MappingSource::Fd(a.get(), 0, Page()), 0,
                                    Protection::Read(), kCoherent),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(s.service->RemoveMapping(s.id, 0),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("no mapping starts at offset 0")));
  EXPECT_THAT(s.service->RemoveMapping(s.id, 3 * Page()),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(s.service->RemoveMapping(s.id + 7, 2 * Page()),
              StatusIs(absl::StatusCode::kNotFound));

  EXPECT_EQ(s.vm->Calls().size(), calls_before.size());
  EXPECT_EQ(s.vm->MemoryRegions().size(), regions_before.size());
  EXPECT_THAT(Offsets(s), ElementsAre(2 * Page()));
  EXPECT_THAT(s.vm->ReadGuest(kBar + 2 * Page(), 2 * Page()),
              Reads(0xaa, 2 * Page()));

  // Adjacent mappings on both sides are fine.
  UniqueFd b = Blob(0xbb);
  EXPECT_OK(Map(s, b, Page()));
  EXPECT_OK(Map(s, b, 4 * Page()));
}

TEST_P(VmMemoryServiceEachPrepare, DoubleRemoveIsNotFound) {
  const PrepareType prepare = GetParam();
  Env s = Make(prepare);
  UniqueFd a = Blob(0xaa);
  ASSERT_OK(Map(s, a, 0));
  ASSERT_OK(s.service->RemoveMapping(s.id, 0));
  const size_t calls_before = s.vm->Calls().size();
  EXPECT_THAT(s.service->RemoveMapping(s.id, 0),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(s.vm->Calls().size(), calls_before);
}

TEST(VmMemoryService, FailedPrepareLeavesRegionUnprepared) {
  Env s = Make(PrepareType());
  s.vm->FailNext(Method::kAddMemoryRegion, absl::InternalError("injected"));
  UniqueFd a = Blob(0xaa);
  EXPECT_THAT(Map(s, a, 0), StatusIs(absl::StatusCode::kInternal,
                                     HasSubstr("injected")));
  ExpectUnprepared(s);
  // The next request prepares for real.
  ASSERT_OK(Map(s, a, 0));
  EXPECT_THAT(s.vm->MemoryRegions(), SizeIs(1));
}

TEST(VmMemoryService, FailedFirstFdMappingUndoesThePrepare) {
  Env s = Make(PrepareType());
  s.vm->FailNext(Method::kAddFdMapping, absl::InternalError("injected"));
  UniqueFd a = Blob(0xaa);
  EXPECT_THAT(Map(s, a, 0), StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(s.vm->CallsOf(Method::kRemoveMemoryRegion), SizeIs(1));
  ExpectUnprepared(s);
}

// With a page of 0xaa mapped at offset 0 of `s`'s region, the Vm fails its
// next `add` call (mapping another page at Page()) and then its next
// `remove` call (unmapping offset 0): both requests fail INTERNAL, and the
// mapping at 0 is still listed and still what the guest reads.
void ExpectFailedVmCallsKeepTheMapping(Env& s, Method add, Method remove) {
  UniqueFd a = Blob(0xaa);
  UniqueFd b = Blob(0xbb);
  ASSERT_OK(Map(s, a, 0));
  s.vm->FailNext(add, absl::InternalError("injected"));
  EXPECT_THAT(Map(s, b, Page()), StatusIs(absl::StatusCode::kInternal));
  s.vm->FailNext(remove, absl::InternalError("injected"));
  EXPECT_THAT(s.service->RemoveMapping(s.id, 0),
              StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(Offsets(s), ElementsAre(0u));
  EXPECT_THAT(s.vm->ReadGuest(kBar, Page()), Reads(0xaa));
}

TEST(VmMemoryService, FailingVmCallsLeaveEarlierMappingsIntact) {
  Env s = Make(PrepareType());
  ExpectFailedVmCallsKeepTheMapping(s, Method::kAddFdMapping,
                                    Method::kRemoveMapping);
  EXPECT_THAT(s.vm->CallsOf(Method::kAddMemoryRegion), SizeIs(1));
  EXPECT_THAT(s.vm->ReadGuest(kBar + Page(), Page()), Reads(0));
  // The same offset can be removed once the Vm works again.
  EXPECT_OK(s.service->RemoveMapping(s.id, 0));
}

TEST(VmMemoryService, FailingVmCallsLeaveDynamicStateUnchanged) {
  Env s = Make(PrepareType::DynamicPerMapping());
  ExpectFailedVmCallsKeepTheMapping(s, Method::kAddMemoryRegion,
                                    Method::kRemoveMemoryRegion);
  EXPECT_THAT(s.vm->MemoryRegions(), SizeIs(1));
}

TEST(VmMemoryService, HostAllocationSources) {
  Env prepared = Make(PrepareType());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemoryRegion> shared,
                       MemoryRegion::CreateShared("host", Page()));
  std::memset(shared->data(), 0x5c, Page());
  ASSERT_OK(prepared.service->AddMapping(
      prepared.id, MappingSource::HostAllocation(std::move(shared)), 0,
      Protection::ReadWrite(), kCoherent));
  EXPECT_THAT(prepared.vm->ReadGuest(kBar, Page()), Reads(0x5c));
  // An anonymous allocation has no file to map into the arena.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemoryRegion> anonymous,
                       MemoryRegion::CreateArena(Page()));
  EXPECT_THAT(prepared.service->AddMapping(
                  prepared.id, MappingSource::HostAllocation(std::move(anonymous)),
                  Page(), Protection::Read(), kCoherent),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("anonymous host allocation")));

  // Dynamic: the allocation itself becomes the hypervisor region.
  Env dynamic = Make(PrepareType::DynamicPerMapping());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemoryRegion> own,
                       MemoryRegion::CreateShared("host", 2 * Page()));
  std::memset(own->data(), 0x6d, 2 * Page());
  ASSERT_OK(dynamic.service->AddMapping(
      dynamic.id, MappingSource::HostAllocation(std::move(own)), 4 * Page(),
      Protection::ReadWrite(), kCoherent));
  EXPECT_THAT(dynamic.vm->ReadGuest(kBar + 4 * Page(), 2 * Page()),
              Reads(0x6d, 2 * Page()));
}

// Found by memory_service_fuzzer: a file range past the end of a memfd was
// mapped, and the first access to it, by the guest or by the VMM through the
// arena's host mapping, faulted (SIGBUS) instead of the request failing.
TEST_P(VmMemoryServiceEachPrepare, FileRangePastTheEndOfTheFileIsOutOfRange) {
  const PrepareType prepare = GetParam();
  Env s = Make(prepare);
  UniqueFd blob = Blob(0xaa, 2 * Page());
  const uint64_t huge = ~uint64_t{0} - Page() + 1;
  for (const auto& [fd_offset, size] :
       std::vector<std::pair<uint64_t, uint64_t>>{
           {Page(), 2 * Page()}, {3 * Page(), Page()}, {huge, Page()}}) {
    EXPECT_THAT(s.service->AddMapping(
                    s.id, MappingSource::Fd(blob.get(), fd_offset, size), 0,
                    Protection::ReadWrite(), kCoherent),
                StatusIs(absl::StatusCode::kOutOfRange,
                         HasSubstr("past the file's size")));
  }
  // A host allocation whose mapping runs past its file, likewise.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemoryRegion> past,
                       MemoryRegion::FromFd(blob.get(), Page(), 2 * Page(),
                                            Protection::ReadWrite()));
  EXPECT_THAT(s.service->AddMapping(
                  s.id, MappingSource::HostAllocation(std::move(past)), 0,
                  Protection::ReadWrite(), kCoherent),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(s.vm->MemoryRegions(), IsEmpty());
  EXPECT_THAT(s.vm->CallsOf(Method::kAddMemoryRegion), IsEmpty());
  EXPECT_THAT(Offsets(s), IsEmpty());
  // The file's last page, exactly, is fine.
  ASSERT_OK(s.service->AddMapping(
      s.id, MappingSource::Fd(blob.get(), Page(), Page()), 0,
      Protection::ReadWrite(), kCoherent));
  EXPECT_THAT(s.vm->ReadGuest(kBar, Page()), Reads(0xaa));
}

TEST(VmMemoryService, MapperForwardsToTheRegion) {
  Env s = Make(PrepareType());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SharedMemoryMapper> mapper,
                       s.service->CreateMapper(s.id));
  UniqueFd a = Blob(0x11);
  ASSERT_OK(mapper->AddMapping(MappingSource::Fd(a.get(), 0, Page()), Page(),
                               Protection::Read(), kCoherent));
  EXPECT_THAT(s.vm->ReadGuest(kBar + Page(), Page()), Reads(0x11));
  EXPECT_OK(mapper->RemoveMapping(Page()));
  EXPECT_THAT(mapper->RemoveMapping(Page()),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(s.service->CreateMapper(s.id + 1),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(VmMemoryService, RegisterRejectsBadPlacements) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeVm> vm, FakeVm::Create());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemoryRegion> ram,
                       MemoryRegion::CreateShared("ram", 16 * Page()));
  ASSERT_OK(vm->AddMemoryRegion(0, std::move(ram), {}).status());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<VmMemoryService> service,
                       VmMemoryService::Create(vm.get()));
  EXPECT_THAT(service->RegisterRegion(8 * Page(), 16 * Page(), PrepareType()),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("slot 0")));
  EXPECT_THAT(service->RegisterRegion(kBar + 1, kBarSize, PrepareType()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(service->RegisterRegion(kBar, 0, PrepareType()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(service->RegisterRegion(vm->GuestAddressLimit() - Page(),
                                      2 * Page(), PrepareType()),
              StatusIs(absl::StatusCode::kOutOfRange));
  ASSERT_OK(service->RegisterRegion(kBar, kBarSize, PrepareType()).status());
  EXPECT_THAT(service->RegisterRegion(kBar + Page(), kBarSize, PrepareType()),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("shared memory region 0")));
  EXPECT_THAT(VmMemoryService::Create(nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(VmMemoryService, MovingPreparedRegionKeepsItsMappings) {
  Env s = Make(PrepareType());
  UniqueFd a = Blob(0xaa);
  ASSERT_OK(Map(s, a, 3 * Page()));
  const MemSlot old_slot = s.vm->CallsOf(Method::kAddMemoryRegion)[0].slot;
  s.vm->ClearCalls();
  constexpr GuestAddress kNew = kBar + 16 * kBarSize;
  ASSERT_OK(s.service->MoveRegion(s.id, kNew));

  std::vector<FakeVm::Call> calls = s.vm->Calls();
  ASSERT_THAT(calls, SizeIs(2));
  EXPECT_EQ(calls[0].method, Method::kRemoveMemoryRegion);
  EXPECT_EQ(calls[0].slot, old_slot);
  EXPECT_EQ(calls[1].method, Method::kAddMemoryRegion);
  EXPECT_EQ(calls[1].guest_address, kNew);
  EXPECT_EQ(calls[1].size, kBarSize);
  EXPECT_EQ(calls[1].options.cache, kCoherent);
  EXPECT_THAT(s.vm->ReadGuest(kNew + 3 * Page(), Page()), Reads(0xaa));
  EXPECT_THAT(s.vm->ReadGuest(kBar + 3 * Page(), 1),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(VmMemoryService::RegionStatus status,
                       s.service->GetRegionStatus(s.id));
  EXPECT_EQ(status.guest_address, kNew);
  EXPECT_EQ(status.prepared_slot, calls[1].slot);
  // Later requests use the moved region.
  ASSERT_OK(s.service->RemoveMapping(s.id, 3 * Page()));
  EXPECT_THAT(s.vm->ReadGuest(kNew + 3 * Page(), Page()), Reads(0));
}

TEST(VmMemoryService, MovingDynamicRegionMovesEveryMapping) {
  Env s = MakeMapped(PrepareType::DynamicPerMapping(),
                     {{0, 0xaa}, {5 * Page(), 0xbb}});
  constexpr GuestAddress kNew = kBar + 4 * kBarSize;
  ASSERT_OK(s.service->MoveRegion(s.id, kNew));
  EXPECT_THAT(s.vm->CallsOf(Method::kRemoveMemoryRegion), SizeIs(2));
  EXPECT_THAT(s.vm->ReadGuest(kNew, Page()), Reads(0xaa));
  EXPECT_THAT(s.vm->ReadGuest(kNew + 5 * Page(), Page()), Reads(0xbb));
  EXPECT_THAT(s.vm->ReadGuest(kBar, 1), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Offsets(s), ElementsAre(0u, 5 * Page()));
}

TEST(VmMemoryService, MovingUnpreparedRegionOnlyChangesItsAddress) {
  Env s = Make(PrepareType());
  constexpr GuestAddress kNew = kBar + 2 * kBarSize;
  ASSERT_OK(s.service->MoveRegion(s.id, kNew));
  EXPECT_THAT(s.vm->Calls(), IsEmpty());
  UniqueFd a = Blob(0xaa);
  ASSERT_OK(Map(s, a, 0));
  EXPECT_EQ(s.vm->CallsOf(Method::kAddMemoryRegion)[0].guest_address, kNew);
}

TEST(VmMemoryService, RefusedMoveChangesNothing) {
  Env s = Make(PrepareType());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemoryRegion> ram,
                       MemoryRegion::CreateShared("ram", 16 * Page()));
  ASSERT_OK(s.vm->AddMemoryRegion(0, std::move(ram), {}).status());
  UniqueFd a = Blob(0xaa);
  ASSERT_OK(Map(s, a, 0));
  s.vm->ClearCalls();
  EXPECT_THAT(s.service->MoveRegion(s.id, 0),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(s.service->MoveRegion(s.id, s.vm->GuestAddressLimit()),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(s.service->MoveRegion(s.id, kBar + 1),
              StatusIs(absl::StatusCode::kInvalidArgument));
  s.vm->FailNext(Method::kRemoveMemoryRegion, absl::InternalError("injected"));
  EXPECT_THAT(s.service->MoveRegion(s.id, kBar + kBarSize),
              StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(s.vm->CallsOf(Method::kAddMemoryRegion), IsEmpty());
  EXPECT_THAT(s.vm->ReadGuest(kBar, Page()), Reads(0xaa));
  ASSERT_OK_AND_ASSIGN(VmMemoryService::RegionStatus status,
                       s.service->GetRegionStatus(s.id));
  EXPECT_EQ(status.guest_address, kBar);
  EXPECT_EQ(status.mapping_count, 1u);
}

TEST(VmMemoryService, MoveThatLosesTheArenaSaysSoAndMatchesTheVm) {
  Env s = Make(PrepareType());
  UniqueFd a = Blob(0xaa);
  ASSERT_OK(Map(s, a, 0));
  s.vm->FailNext(Method::kAddMemoryRegion, absl::InternalError("injected"));
  EXPECT_THAT(s.service->MoveRegion(s.id, kBar + kBarSize),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("1 mappings are gone")));
  ExpectUnprepared(s);
  // The region still works: the next mapping prepares it again.
  EXPECT_OK(Map(s, a, 0));
}

// Found by memory_service_fuzzer: moving a dynamic region to a range that
// overlaps its old one moved the first mapping onto the second's old place;
// the Vm refused the overlap and the first mapping was lost.
TEST(VmMemoryService, OverlappingDynamicMoveKeepsEveryMapping) {
  Env s = MakeMapped(PrepareType::DynamicPerMapping(),
                     {{0, 0xaa}, {Page(), 0xbb}, {3 * Page(), 0xcc}});
  for (GuestAddress to : {kBar + Page(), kBar + 3 * Page(), kBar - Page(),
                          kBar - kBarSize + Page()}) {
    SCOPED_TRACE(absl::StrFormat("to %#x", to));
    ASSERT_OK(s.service->MoveRegion(s.id, to));
    EXPECT_THAT(Offsets(s), ElementsAre(0u, Page(), 3 * Page()));
    EXPECT_THAT(s.vm->MemoryRegions(), SizeIs(3));
    EXPECT_THAT(s.vm->ReadGuest(to, Page()), Reads(0xaa));
    EXPECT_THAT(s.vm->ReadGuest(to + Page(), Page()), Reads(0xbb));
    EXPECT_THAT(s.vm->ReadGuest(to + 2 * Page(), 1),
                StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(s.vm->ReadGuest(to + 3 * Page(), Page()), Reads(0xcc));
  }
}

TEST(VmMemoryService, FailedDynamicMoveMovesBackWhatItMoved) {
  Env s = MakeMapped(PrepareType::DynamicPerMapping(),
                     {{0, 0xaa}, {Page(), 0xbb}});
  // The first mapping moves; removing the second fails: the first moves back.
  s.vm->FailNext(Method::kRemoveMemoryRegion, absl::InternalError("injected"),
                 /*skip=*/1);
  EXPECT_THAT(s.service->MoveRegion(s.id, kBar + kBarSize),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("0 mappings lost")));
  EXPECT_THAT(s.vm->ReadGuest(kBar, Page()), Reads(0xaa));
  EXPECT_THAT(s.vm->ReadGuest(kBar + Page(), Page()), Reads(0xbb));
  EXPECT_THAT(s.vm->ReadGuest(kBar + kBarSize, 1),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(VmMemoryService::RegionStatus status,
                       s.service->GetRegionStatus(s.id));
  EXPECT_EQ(status.guest_address, kBar);
  EXPECT_THAT(Offsets(s), ElementsAre(0u, Page()));

  // Re-adding the second at its new address fails: it is lost (the Vm
  // destroys a region it refuses), the first moves back.
  s.vm->FailNext(Method::kAddMemoryRegion, absl::InternalError("injected"),
                 /*skip=*/1);
  EXPECT_THAT(s.service->MoveRegion(s.id, kBar + kBarSize),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("1 mappings lost")));
  EXPECT_THAT(Offsets(s), ElementsAre(0u));
  EXPECT_THAT(s.vm->MemoryRegions(), SizeIs(1));
  EXPECT_THAT(s.vm->ReadGuest(kBar, Page()), Reads(0xaa));
}

TEST_P(VmMemoryServiceEachPrepare, UnregisterRemovesEverything) {
  const PrepareType prepare = GetParam();
  Env s = Make(prepare);
  UniqueFd a = Blob(0xaa);
  ASSERT_OK(Map(s, a, 0));
  ASSERT_OK(Map(s, a, 2 * Page()));
  ASSERT_OK(s.service->UnregisterRegion(s.id));
  EXPECT_THAT(s.vm->MemoryRegions(), IsEmpty());
  EXPECT_THAT(s.service->GetRegionStatus(s.id),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(VmMemoryService, ManyLiveMappings) {
  Env s = Make(PrepareType());
  UniqueFd a = Blob(0x42);
  const int n = static_cast<int>(kBarSize / Page());
  for (int i = 0; i < n; i += 2) ASSERT_OK(Map(s, a, i * Page()));
  EXPECT_THAT(Offsets(s), SizeIs(n / 2));
  for (int i = 1; i < n; i += 2) {
    EXPECT_THAT(s.vm->ReadGuest(kBar + i * Page(), 1),
                ::hv::testing::IsOkAndHolds(ElementsAre(0)));
  }
  for (int i = 0; i < n; i += 2) {
    ASSERT_OK(s.service->RemoveMapping(s.id, i * Page()));
  }
  EXPECT_THAT(Offsets(s), IsEmpty());
}

// Several device threads map and unmap at once (run under tsan too).
TEST_P(VmMemoryServiceEachPrepare, ConcurrentMappersKeepConsistentState) {
  const PrepareType prepare = GetParam();
  Env s = Make(prepare);
  constexpr int kThreads = 4;
  constexpr int kRounds = 40;
  std::vector<std::thread> threads;
  std::vector<absl::Status> failures(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&s, &failures, t] {
      UniqueFd blob = Blob(static_cast<uint8_t>(0x10 + t));
      ASSERT_OK_AND_ASSIGN(std::unique_ptr<SharedMemoryMapper> mapper,
                           s.service->CreateMapper(s.id));
      for (int round = 0; round < kRounds; ++round) {
        // Each thread owns its offsets; all threads contend for the lock.
        const uint64_t offset = (t * 8 + round % 8) * Page();
        absl::Status added =
            mapper->AddMapping(MappingSource::Fd(blob.get(), 0, Page()),
                               offset, Protection::ReadWrite(),
                               MemCacheType::kCacheCoherent);
        if (!added.ok()) { failures[t] = added; return; }
        absl::StatusOr<std::vector<uint8_t>> seen =
            s.vm->ReadGuest(kBar + offset, 1);
        if (!seen.ok() || (*seen)[0] != 0x10 + t) {
          failures[t] = absl::InternalError("guest view mismatch");
          return;
        }
        absl::Status removed = mapper->RemoveMapping(offset);
        if (!removed.ok()) { failures[t] = removed; return; }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(failures, Each(IsOk()));
  EXPECT_THAT(Offsets(s), IsEmpty());
  EXPECT_EQ(s.vm->CallsOf(Method::kAddMemoryRegion).size(),
            prepare == PrepareType() ? 1u : size_t{kThreads * kRounds});
}

}  // namespace
}  // namespace hv::virtio
