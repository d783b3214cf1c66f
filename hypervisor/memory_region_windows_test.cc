// MemoryRegion on Windows: shared regions are pagefile-backed sections with a
// view, arenas are VirtualAlloc'd read-only memory; mapping into an arena in
// place is unimplemented there and changes nothing.
#include <windows.h>

#include <cstring>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/mmap_prot.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/windows_handle.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

constexpr uint64_t kPage = 0x1000;
constexpr uint64_t kGranularity = 0x10000;

TEST(MemoryRegionWindows, SharedIsWritableAndVisibleThroughItsSection) {
  ASSERT_OK_AND_ASSIGN(auto region, MemoryRegion::CreateShared("ram", 4 * kPage));
  EXPECT_FALSE(region->is_arena());
  EXPECT_EQ(region->protection(), Protection::ReadWrite());
  std::memcpy(region->data() + kPage, "abc", 4);
  // A second view of the region's section sees the bytes.
  void* view = ::MapViewOfFile(FdToHandle(region->fd()), FILE_MAP_READ, 0, 0, 4 * kPage);
  ASSERT_NE(view, nullptr);
  EXPECT_STREQ(static_cast<const char*>(view) + kPage, "abc");
  ::UnmapViewOfFile(view);
}

TEST(MemoryRegionWindows, ArenaIsReadOnlyZerosAndMapFdIsUnimplemented) {
  ASSERT_OK_AND_ASSIGN(auto arena, MemoryRegion::CreateArena(4 * kPage));
  EXPECT_TRUE(arena->is_arena());
  EXPECT_EQ(arena->fd(), -1);
  EXPECT_EQ(arena->data()[kPage], 0);
  ASSERT_OK_AND_ASSIGN(UniqueFd blob, CreateMemfd("blob", kGranularity));
  EXPECT_THAT(arena->MapFd(0, kPage, blob.get(), 0, Protection::Read()),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("in place")));
  EXPECT_THAT(arena->MapFd(4 * kPage, kPage, blob.get(), 0, Protection::Read()),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(arena->Unmap(0, kPage),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("in place")));
  EXPECT_EQ(arena->data()[0], 0);
}

TEST(MemoryRegionWindows, FromFdKeepsItsOwnHandle) {
  ASSERT_OK_AND_ASSIGN(UniqueFd section, CreateMemfd("rom", 2 * kGranularity));
  {
    ASSERT_OK_AND_ASSIGN(MmapRegion writer,
                         MmapRegion::FromFd(section.get(), 0, 2 * kGranularity,
                                            kProtRead | kProtWrite));
    writer.data()[kGranularity] = 'R';
  }
  ASSERT_OK_AND_ASSIGN(auto region, MemoryRegion::FromFd(section.get(), kGranularity,
                                                         kPage, Protection::Read()));
  section.reset();
  EXPECT_EQ(region->data()[0], 'R');
  EXPECT_GE(region->fd(), 0);
  EXPECT_EQ(region->fd_offset(), kGranularity);
  EXPECT_THAT(MemoryRegion::FromFd(-1, 0, kPage, Protection::Read()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("MapViewOfFile fd -1")));
}

TEST(ProtectionWindows, MmapBitsAreHvBits) {
  EXPECT_EQ(ToMmapProt(Protection::Read()), kProtRead);
  EXPECT_EQ(ToMmapProt(Protection::ReadWrite()), kProtRead | kProtWrite);
  EXPECT_EQ(ToMmapProt(Protection::None()), 0);
}

}  // namespace
}  // namespace hv
