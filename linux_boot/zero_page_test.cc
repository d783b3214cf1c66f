#include "linux_boot/zero_page.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "linux_boot/bzimage_fixture.h"
#include "linux_boot/le_bytes.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

class ZeroPageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    params_.cmdline_address = 0x20000;
    params_.cmdline_size = 12;
    params_.e820 = {{0, 0x9fc00, E820Type::kRam},
                    {0x9fc00, 0x400, E820Type::kReserved},
                    {0x100000, 0x7f00000, E820Type::kRam}};
  }
  TestKernel test_kernel_;
  const std::vector<uint8_t>& bytes_ = test_kernel_.bytes;
  BzImage& kernel_ = test_kernel_.kernel;
  ZeroPageParams params_;
};

TEST_F(ZeroPageTest, CopiesTheSetupHeaderAndFillsTheLoaderFields) {
  params_.initrd_address = 0x7000000;
  params_.initrd_size = 0x123456;
  absl::StatusOr<ZeroPage> page = BuildZeroPage(kernel_, params_);
  ASSERT_TRUE(page.ok()) << page.status();
  const uint8_t* p = page->data();
  // The header bytes the image carried, except the fields a loader writes.
  EXPECT_EQ(p[0x1f1], bytes_[0x1f1]);
  EXPECT_EQ(LoadLe<uint32_t>(p + 0x202), LoadLe<uint32_t>(&bytes_[0x202]));
  EXPECT_EQ(LoadLe<uint64_t>(p + 0x258), 0x1000000u);
  EXPECT_EQ(p[0x210], 0xff);  // type_of_loader: undefined
  EXPECT_EQ(LoadLe<uint32_t>(p + 0x228), 0x20000u);
  EXPECT_EQ(LoadLe<uint32_t>(p + 0x0c8), 0u);
  EXPECT_EQ(LoadLe<uint32_t>(p + 0x218), 0x7000000u);
  EXPECT_EQ(LoadLe<uint32_t>(p + 0x21c), 0x123456u);
  EXPECT_EQ(p[0x1e8], 3);  // e820_entries
  EXPECT_EQ(LoadLe<uint64_t>(p + 0x2d0 + 20), 0x9fc00u);
  EXPECT_EQ(LoadLe<uint64_t>(p + 0x2d0 + 28), 0x400u);
  EXPECT_EQ(LoadLe<uint32_t>(p + 0x2d0 + 36), 2u);
  EXPECT_EQ(LoadLe<uint64_t>(p + 0x2d0 + 40), 0x100000u);
  EXPECT_EQ(p[0x1ef], 0);  // the sentinel stays zero
  EXPECT_EQ(p[0x2d0 + 60], 0);  // nothing after the last entry
}

TEST_F(ZeroPageTest, SplitsAddressesAbove4GiBIntoTheExtFields) {
  params_.cmdline_address = 0x123456000;
  params_.initrd_address = 0x200000000;
  params_.initrd_size = 0x100000001;
  absl::StatusOr<ZeroPage> page = BuildZeroPage(kernel_, params_);
  ASSERT_TRUE(page.ok()) << page.status();
  const uint8_t* p = page->data();
  EXPECT_EQ(LoadLe<uint32_t>(p + 0x228), 0x23456000u);
  EXPECT_EQ(LoadLe<uint32_t>(p + 0x0c8), 0x1u);
  EXPECT_EQ(LoadLe<uint32_t>(p + 0x218), 0u);
  EXPECT_EQ(LoadLe<uint32_t>(p + 0x0c0), 0x2u);
  EXPECT_EQ(LoadLe<uint32_t>(p + 0x21c), 1u);
  EXPECT_EQ(LoadLe<uint32_t>(p + 0x0c4), 1u);
}

TEST_F(ZeroPageTest, RefusesACommandLineLongerThanTheKernelTakes) {
  params_.cmdline_size = 2049;
  EXPECT_THAT(BuildZeroPage(kernel_, params_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("2048 bytes; this kernel takes at most 2047")));
  params_.cmdline_size = 0;
  EXPECT_THAT(BuildZeroPage(kernel_, params_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("NUL")));
}

TEST_F(ZeroPageTest, RefusesAnInitrdAboveWhatTheKernelReaches) {
  kernel_.initrd_above_4g = false;
  kernel_.initrd_addr_max = 0x37ffffff;
  params_.initrd_address = 0x37fff000;
  params_.initrd_size = 0x2000;
  EXPECT_THAT(BuildZeroPage(kernel_, params_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("initrd_addr_max 0x37ffffff")));
  params_.initrd_size = 0x1000;
  EXPECT_TRUE(BuildZeroPage(kernel_, params_).ok());
}

TEST_F(ZeroPageTest, RefusesABadMemoryMap) {
  params_.e820.clear();
  EXPECT_THAT(BuildZeroPage(kernel_, params_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  params_.e820 = {{0x100000, 0x1000, E820Type::kRam},
                  {0x100800, 0x1000, E820Type::kRam}};
  EXPECT_THAT(BuildZeroPage(kernel_, params_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("[0x100000, 0x101000) and [0x100800, 0x101800)")));
  params_.e820.assign(129, E820Entry{});
  for (size_t i = 0; i < params_.e820.size(); ++i) {
    params_.e820[i] = {i * 0x1000, 0x1000, E820Type::kRam};
  }
  EXPECT_THAT(BuildZeroPage(kernel_, params_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("129 memory map entries")));
}

}  // namespace
}  // namespace hv
