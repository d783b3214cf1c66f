// MmapRegion and CreateMemfd on Windows: VirtualAlloc'd anonymous memory,
// pagefile-backed sections and their views, and the in-place replacements
// Windows cannot do.
#include <windows.h>

#include <cstring>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/windows_handle.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

const size_t kPage = HostPageSize();
// View offsets into a section are multiples of this on Windows.
constexpr size_t kGranularity = 64 * 1024;

// The kind of memory (MEM_PRIVATE, MEM_MAPPED) at `p`, or 0 when free.
DWORD MemoryType(const void* p) {
  MEMORY_BASIC_INFORMATION info = {};
  if (::VirtualQuery(p, &info, sizeof(info)) != sizeof(info)) return 0;
  return info.State == MEM_FREE ? 0 : info.Type;
}

TEST(MmapRegionWindows, PageSizeIsTheSystemPageSize) {
  SYSTEM_INFO info;
  ::GetSystemInfo(&info);
  EXPECT_EQ(kPage, info.dwPageSize);
}

TEST(MmapRegionWindows, AnonymousReadsZeroIsWritableAndIsFreed) {
  const void* where;
  {
    ASSERT_OK_AND_ASSIGN(MmapRegion region,
                         MmapRegion::Anonymous(4 * kPage, kProtRead | kProtWrite));
    where = region.data();
    EXPECT_EQ(MemoryType(where), static_cast<DWORD>(MEM_PRIVATE));
    EXPECT_EQ(region.data()[kPage + 3], 0);
    region.data()[kPage + 3] = 42;
    EXPECT_EQ(region.data()[kPage + 3], 42);
  }
  EXPECT_EQ(MemoryType(where), 0u);
}

TEST(MmapRegionWindows, ReadOnlyAnonymousIsReadOnly) {
  ASSERT_OK_AND_ASSIGN(MmapRegion region, MmapRegion::Anonymous(kPage, kProtRead));
  MEMORY_BASIC_INFORMATION info = {};
  ASSERT_EQ(::VirtualQuery(region.data(), &info, sizeof(info)), sizeof(info));
  EXPECT_EQ(info.Protect, static_cast<DWORD>(PAGE_READONLY));
}

TEST(CreateMemfdWindows, SectionViewsShareContents) {
  ASSERT_OK_AND_ASSIGN(UniqueFd section, CreateMemfd("shared", 2 * kGranularity));
  ASSERT_OK_AND_ASSIGN(MmapRegion writer,
                       MmapRegion::FromFd(section.get(), 0, 2 * kGranularity,
                                          kProtRead | kProtWrite));
  ASSERT_OK_AND_ASSIGN(MmapRegion reader,
                       MmapRegion::FromFd(section.get(), kGranularity, kPage, kProtRead));
  EXPECT_EQ(MemoryType(reader.data()), static_cast<DWORD>(MEM_MAPPED));
  EXPECT_EQ(reader.data()[5], 0);
  writer.data()[kGranularity + 5] = 'x';
  EXPECT_EQ(reader.data()[5], 'x');
}

TEST(CreateMemfdWindows, ViewIsUnmappedOnDestruction) {
  ASSERT_OK_AND_ASSIGN(UniqueFd section, CreateMemfd("unmap", kGranularity));
  const void* where;
  {
    ASSERT_OK_AND_ASSIGN(MmapRegion view,
                         MmapRegion::FromFd(section.get(), 0, kPage, kProtRead));
    where = view.data();
    EXPECT_EQ(MemoryType(where), static_cast<DWORD>(MEM_MAPPED));
  }
  EXPECT_EQ(MemoryType(where), 0u);
}

TEST(CreateMemfdWindows, EmptySectionIsRefused) {
  EXPECT_THAT(CreateMemfd("empty", 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cannot be empty")));
}

TEST(MmapRegionWindows, FromFdRejectsBadHandleAndOffsets) {
  EXPECT_THAT(MmapRegion::FromFd(-1, 0, kPage, kProtRead),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("MapViewOfFile fd -1 offset 0 size 0x1000")));
  ASSERT_OK_AND_ASSIGN(UniqueFd section, CreateMemfd("offsets", 2 * kGranularity));
  EXPECT_THAT(MmapRegion::FromFd(section.get(), 3, kPage, kProtRead),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not page aligned")));
  // Page aligned, but not on the allocation granularity.
  EXPECT_THAT(MmapRegion::FromFd(section.get(), kPage, kPage, kProtRead),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("ERROR_MAPPED_ALIGNMENT")));
}

TEST(MmapRegionWindows, InPlaceReplacementIsUnimplementedAndChangesNothing) {
  ASSERT_OK_AND_ASSIGN(MmapRegion arena,
                       MmapRegion::Anonymous(4 * kPage, kProtRead | kProtWrite));
  arena.data()[0] = 9;
  ASSERT_OK_AND_ASSIGN(UniqueFd blob, CreateMemfd("blob", kGranularity));
  EXPECT_THAT(arena.MapFdAt(0, kPage, blob.get(), 0, kProtRead),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("in place")));
  EXPECT_THAT(arena.MapAnonymousAt(0, kPage, kProtRead),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("in place")));
  // Bad arguments are reported as on Linux, before that.
  EXPECT_THAT(arena.MapFdAt(3 * kPage, 2 * kPage, blob.get(), 0, kProtRead),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("outside the region")));
  EXPECT_THAT(arena.MapAnonymousAt(1, kPage, kProtRead),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not page aligned")));
  EXPECT_EQ(arena.data()[0], 9);
}

// What MoveKeepsOneOwner (mmap_region_shared_test.cc) adds on Windows: a
// move assignment frees the memory the target held.
TEST(MmapRegionWindows, MoveAssignmentFreesTheOldMemory) {
  ASSERT_OK_AND_ASSIGN(MmapRegion b, MmapRegion::Anonymous(kPage, kProtRead | kProtWrite));
  b.data()[0] = 1;
  ASSERT_OK_AND_ASSIGN(MmapRegion c, MmapRegion::Anonymous(kPage, kProtRead));
  const void* old_c = c.data();
  c = std::move(b);  // Frees c's old memory.
  EXPECT_EQ(MemoryType(old_c), 0u);
  EXPECT_EQ(c.data()[0], 1);
}

}  // namespace
}  // namespace hv
