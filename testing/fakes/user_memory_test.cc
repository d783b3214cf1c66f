#include "testing/fakes/user_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "gtest/gtest.h"

namespace hv::testing {
namespace {

uintptr_t Address(const void* p) { return reinterpret_cast<uintptr_t>(p); }

// Two pages, the second PROT_NONE.
class Pages {
 public:
  Pages() {
    size_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    base_ = static_cast<uint8_t*>(::mmap(nullptr, 2 * size_,
                                         PROT_READ | PROT_WRITE,
                                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ::mprotect(base_ + size_, size_, PROT_NONE);
  }
  ~Pages() { ::munmap(base_, 2 * size_); }
  uint8_t* good() const { return base_; }
  uint8_t* bad() const { return base_ + size_; }
  size_t page() const { return size_; }

 private:
  uint8_t* base_ = nullptr;
  size_t size_ = 0;
};

TEST(UserMemory, CopiesBothWays) {
  uint64_t user = 0x1122334455667788;
  uint64_t got = 0;
  EXPECT_EQ(CopyFromUser(Address(&user), got), 0);
  EXPECT_EQ(got, user);
  const uint32_t value = 7;
  EXPECT_EQ(CopyToUser(Address(&user), &value, sizeof(value)), 0);
  EXPECT_EQ(static_cast<uint32_t>(user), 7u);
}

TEST(UserMemory, NullAndProtectedMemoryAreEfault) {
  Pages pages;
  uint64_t out = 0;
  EXPECT_EQ(CopyFromUser(0, out), EFAULT);
  EXPECT_EQ(CopyToUser(0, &out, sizeof(out)), EFAULT);
  EXPECT_EQ(CopyFromUser(Address(pages.bad()), out), EFAULT);
  EXPECT_EQ(CopyToUser(Address(pages.bad()), &out, sizeof(out)), EFAULT);
  // A copy that runs off the end of the good page.
  EXPECT_EQ(CopyFromUser(Address(pages.bad() - 4), out), EFAULT);
}

TEST(UserMemory, RangeAccessFollowsTheMappingsProtection) {
  Pages pages;
  const uint64_t good = Address(pages.good());
  EXPECT_TRUE(UserRangeMapped(good, pages.page(), UserAccess::kReadWrite));
  EXPECT_TRUE(UserRangeMapped(good, 2 * pages.page(), UserAccess::kMapped));
  EXPECT_FALSE(UserRangeMapped(good, 2 * pages.page(), UserAccess::kRead));
  ::mprotect(pages.good(), pages.page(), PROT_READ);
  EXPECT_TRUE(UserRangeMapped(good, pages.page(), UserAccess::kRead));
  EXPECT_FALSE(UserRangeMapped(good, pages.page(), UserAccess::kReadWrite));
}

TEST(UserMemory, UnmappedAndWrappingRangesAreNotMapped) {
  Pages pages;
  const uint64_t bad = Address(pages.bad());
  ::munmap(pages.bad(), pages.page());
  EXPECT_FALSE(UserRangeMapped(bad, pages.page(), UserAccess::kMapped));
  EXPECT_FALSE(UserRangeMapped(UINT64_MAX - 10, 100, UserAccess::kMapped));
  EXPECT_TRUE(UserRangeMapped(bad, 0, UserAccess::kMapped));
}

}  // namespace
}  // namespace hv::testing
