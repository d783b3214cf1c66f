#include "hypervisor/memory_region.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/mmap_prot.h"
#include "hypervisor/os/memfd.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

constexpr uint64_t kPage = 0x1000;

TEST(MemoryRegion, SharedIsWritableAndVisibleThroughItsFd) {
  ASSERT_OK_AND_ASSIGN(auto region, MemoryRegion::CreateShared("ram", 4 * kPage));
  EXPECT_FALSE(region->is_arena());
  EXPECT_EQ(region->protection(), Protection::ReadWrite());
  std::memcpy(region->data() + kPage, "abc", 4);
  char buffer[4] = {};
  ASSERT_EQ(::pread(region->fd(), buffer, 4, kPage), 4);
  EXPECT_STREQ(buffer, "abc");
}

TEST(MemoryRegion, ArenaMapsFdsAndUnmapsToZeros) {
  ASSERT_OK_AND_ASSIGN(auto arena, MemoryRegion::CreateArena(16 * kPage));
  EXPECT_TRUE(arena->is_arena());
  EXPECT_EQ(arena->fd(), -1);
  ASSERT_OK_AND_ASSIGN(UniqueFd a, CreateMemfd("a", kPage));
  ASSERT_OK_AND_ASSIGN(UniqueFd b, CreateMemfd("b", kPage));
  ASSERT_EQ(::pwrite(a.get(), "A", 1, 0), 1);
  ASSERT_EQ(::pwrite(b.get(), "B", 1, 0), 1);

  ASSERT_THAT(arena->MapFd(3 * kPage, kPage, a.get(), 0, Protection::Read()), IsOk());
  EXPECT_EQ(arena->data()[3 * kPage], 'A');
  ASSERT_THAT(arena->MapFd(3 * kPage, kPage, b.get(), 0, Protection::Read()), IsOk());
  EXPECT_EQ(arena->data()[3 * kPage], 'B');
  ASSERT_THAT(arena->Unmap(3 * kPage, kPage), IsOk());
  EXPECT_EQ(arena->data()[3 * kPage], 0);
}

TEST(MemoryRegion, MapFdRejectsBadInputAndKeepsMapping) {
  ASSERT_OK_AND_ASSIGN(auto arena, MemoryRegion::CreateArena(4 * kPage));
  ASSERT_OK_AND_ASSIGN(UniqueFd a, CreateMemfd("a", kPage));
  ASSERT_EQ(::pwrite(a.get(), "A", 1, 0), 1);
  ASSERT_THAT(arena->MapFd(0, kPage, a.get(), 0, Protection::Read()), IsOk());
  EXPECT_THAT(arena->MapFd(0, kPage, -1, 0, Protection::Read()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(arena->MapFd(4 * kPage, kPage, a.get(), 0, Protection::Read()),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(arena->MapFd(0, 100, a.get(), 0, Protection::Read()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(arena->data()[0], 'A');
}

TEST(MemoryRegion, FromFdKeepsItsOwnDescriptor) {
  ASSERT_OK_AND_ASSIGN(UniqueFd fd, CreateMemfd("rom", 2 * kPage));
  ASSERT_EQ(::pwrite(fd.get(), "R", 1, kPage), 1);
  ASSERT_OK_AND_ASSIGN(auto region,
                       MemoryRegion::FromFd(fd.get(), kPage, kPage, Protection::Read()));
  fd.reset();
  EXPECT_EQ(region->data()[0], 'R');
  EXPECT_GE(region->fd(), 0);
  EXPECT_EQ(region->fd_offset(), kPage);
  EXPECT_THAT(MemoryRegion::FromFd(-1, 0, kPage, Protection::Read()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("mmap fd -1")));
}

TEST(Protection, NamesAndMmapBits) {
  EXPECT_EQ(ProtectionName(Protection::ReadWrite()), "rw");
  EXPECT_EQ(ProtectionName(Protection::None()), "--");
  EXPECT_EQ(ToMmapProt(Protection::Read()), PROT_READ);
  EXPECT_EQ(ToMmapProt(Protection::ReadWrite()), PROT_READ | PROT_WRITE);
}

}  // namespace
}  // namespace hv
