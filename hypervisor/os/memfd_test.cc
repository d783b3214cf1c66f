#include "hypervisor/os/memfd.h"

#include <sys/stat.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

TEST(CreateMemfd, HasRequestedSizeAndReadsZero) {
  ASSERT_OK_AND_ASSIGN(UniqueFd fd, CreateMemfd("hv-test", 3 * 4096));
  struct stat st;
  ASSERT_EQ(::fstat(fd.get(), &st), 0);
  EXPECT_EQ(st.st_size, 3 * 4096);
  char byte = 1;
  ASSERT_EQ(::pread(fd.get(), &byte, 1, 4096), 1);
  EXPECT_EQ(byte, 0);
}

TEST(CreateMemfd, ZeroSizeIsAllowed) {
  ASSERT_OK_AND_ASSIGN(UniqueFd fd, CreateMemfd("empty", 0));
  EXPECT_TRUE(fd.valid());
}

}  // namespace
}  // namespace hv
