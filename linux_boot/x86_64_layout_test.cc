#include "linux_boot/x86_64_layout.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "linux_boot/bzimage_fixture.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class LayoutTest : public ::testing::Test {
 protected:
  TestKernel test_kernel_;
  BzImage& kernel_ = test_kernel_.kernel;
};

constexpr uint64_t kMiB = 1 << 20;

TEST_F(LayoutTest, PlacesKernelAndInitrdAndMapsMemory) {
  absl::StatusOr<LinuxX86Layout> layout =
      PlanLinuxX86Boot(kernel_, 256 * kMiB, 0x123456, 100);
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->kernel, 0x1000000u);
  EXPECT_EQ(layout->entry, 0x1000200u);
  // The initrd ends at or below the end of RAM, page aligned.
  EXPECT_EQ(layout->initrd, (256 * kMiB - 0x123456) & ~0xfffull);
  ASSERT_EQ(layout->ram.size(), 1u);
  EXPECT_EQ(layout->ram[0].size, 256 * kMiB);
  EXPECT_THAT(layout->e820,
              ElementsAre(E820Entry{0, 0x9fc00, E820Type::kRam},
                          E820Entry{0x9fc00, 0x400, E820Type::kReserved},
                          E820Entry{0xe0000, 0x20000, E820Type::kReserved},
                          E820Entry{0x100000, 255 * kMiB, E820Type::kRam}));
}

TEST_F(LayoutTest, SplitsRamAroundThePciHole) {
  absl::StatusOr<LinuxX86Layout> layout =
      PlanLinuxX86Boot(kernel_, 4096 * kMiB, 0, 1);
  ASSERT_TRUE(layout.ok()) << layout.status();
  ASSERT_EQ(layout->ram.size(), 2u);
  EXPECT_EQ(layout->ram[0].size, 3072 * kMiB);
  EXPECT_EQ(layout->ram[1].address, 4096 * kMiB);
  EXPECT_EQ(layout->ram[1].size, 1024 * kMiB);
  EXPECT_EQ(layout->e820.back(),
            (E820Entry{4096 * kMiB, 1024 * kMiB, E820Type::kRam}));
  EXPECT_EQ(layout->initrd, 0u);
}

TEST_F(LayoutTest, KeepsTheInitrdBelowInitrdAddrMax) {
  kernel_.initrd_above_4g = false;
  kernel_.initrd_addr_max = 0x37ffffff;
  absl::StatusOr<LinuxX86Layout> layout =
      PlanLinuxX86Boot(kernel_, 2048 * kMiB, 0x10000, 1);
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->initrd, 0x38000000u - 0x10000);
}

TEST_F(LayoutTest, RefusesRamTooSmallForTheKernel) {
  EXPECT_THAT(PlanLinuxX86Boot(kernel_, 16 * kMiB, 0, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the kernel needs [0x1000000, 0x1100000)")));
  EXPECT_THAT(PlanLinuxX86Boot(kernel_, 16 * kMiB + 1, 0, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not a multiple of 4 KiB")));
}

TEST_F(LayoutTest, RefusesAnInitrdThatDoesNotFit) {
  EXPECT_THAT(PlanLinuxX86Boot(kernel_, 32 * kMiB, 16 * kMiB, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("16777216-byte initrd does not fit between "
                                 "the kernel's end 0x1100000 and 0x2000000")));
  EXPECT_THAT(PlanLinuxX86Boot(kernel_, 32 * kMiB, ~0ull, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("does not fit")));
}

TEST_F(LayoutTest, RefusesALongCommandLine) {
  EXPECT_THAT(PlanLinuxX86Boot(kernel_, 64 * kMiB, 0, 2049),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("2048 bytes; at most 2047 fit")));
  kernel_.cmdline_max = 0x100000;
  EXPECT_THAT(PlanLinuxX86Boot(kernel_, 64 * kMiB, 0, 0x10001),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("at most 65535 fit")));
}

}  // namespace
}  // namespace hv
