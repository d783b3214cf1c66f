#include "hypervisor/fd_mapping.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/mmap_region.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

// The real seam, except that every mmap fails with ENOMEM.
class FailingMmapSeam final : public IoctlSeam {
 public:
  int Open(const char* path, int flags) override {
    return RealSeam<IoctlSeam>()->Open(path, flags);
  }
  int Ioctl(int fd, unsigned long request, uintptr_t arg) override {
    return RealSeam<IoctlSeam>()->Ioctl(fd, request, arg);
  }
  void* Mmap(void*, size_t, int, int, int, off_t) override {
    errno = ENOMEM;
    return MAP_FAILED;
  }
  int Munmap(void* addr, size_t length) override {
    return RealSeam<IoctlSeam>()->Munmap(addr, length);
  }
  int Close(int fd) override { return RealSeam<IoctlSeam>()->Close(fd); }
};

class FdMappingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    page_ = HostPageSize();
    auto arena = MemoryRegion::CreateArena(4 * page_);
    ASSERT_THAT(arena.status(), IsOk());
    arena_ = std::move(*arena);
    auto blob = CreateMemfd("blob", page_);
    ASSERT_THAT(blob.status(), IsOk());
    blob_ = std::move(*blob);
    ASSERT_EQ(pwrite(blob_.get(), "hv", 2, 0), 2);
  }

  uint64_t page_ = 0;
  std::unique_ptr<MemoryRegion> arena_;
  UniqueFd blob_;
  IoctlSeam& seam_ = *RealSeam<IoctlSeam>();
};

TEST_F(FdMappingTest, MapShowsTheFileAndRestoreEmptiesIt) {
  ASSERT_THAT(ReplaceHostPages(seam_, 0, *arena_,
                               HostPageChange::Map(page_, page_, blob_.get(), 0,
                                                   Protection::Read())),
              IsOk());
  EXPECT_EQ(std::memcmp(arena_->data() + page_, "hv", 2), 0);
  ASSERT_THAT(ReplaceHostPages(seam_, 0, *arena_,
                               HostPageChange::Restore(page_, page_)),
              IsOk());
  EXPECT_EQ(arena_->data()[page_], 0);
}

TEST_F(FdMappingTest, ClosedFdIsInvalidArgument) {
  const int closed = dup(blob_.get());
  ASSERT_GE(closed, 0);
  close(closed);
  EXPECT_THAT(
      ReplaceHostPages(
          seam_, 0, *arena_,
          HostPageChange::Map(0, page_, closed, 0, Protection::Read())),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("mmap fd")));
}

TEST_F(FdMappingTest, MmapFailuresNameTheOperation) {
  FailingMmapSeam failing;
  EXPECT_THAT(
      ReplaceHostPages(
          failing, 0, *arena_,
          HostPageChange::Map(0, page_, blob_.get(), 0, Protection::Read())),
      StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("mmap fd")));
  EXPECT_THAT(
      ReplaceHostPages(failing, 0, *arena_, HostPageChange::Restore(0, page_)),
      StatusIs(absl::StatusCode::kResourceExhausted,
               HasSubstr("mmap (remove mapping) slot 0")));
}

TEST(ReplaceHostPages, RestorePutsBackAFileBackedRegionsOwnFile) {
  const uint64_t page = HostPageSize();
  auto ram = MemoryRegion::CreateShared("ram", 2 * page);
  ASSERT_THAT(ram.status(), IsOk());
  MemoryRegion& region = **ram;
  region.data()[0] = 7;
  auto blob = CreateMemfd("blob", page);
  ASSERT_THAT(blob.status(), IsOk());
  IoctlSeam& seam = *RealSeam<IoctlSeam>();
  ASSERT_THAT(ReplaceHostPages(seam, 0, region,
                               HostPageChange::Map(0, page, blob->get(), 0,
                                                   Protection::ReadWrite())),
              IsOk());
  EXPECT_EQ(region.data()[0], 0);
  ASSERT_THAT(
      ReplaceHostPages(seam, 0, region, HostPageChange::Restore(0, page)),
      IsOk());
  EXPECT_EQ(region.data()[0], 7);
}

}  // namespace
}  // namespace hv
