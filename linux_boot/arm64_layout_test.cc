#include "linux_boot/arm64_layout.h"

#include <cstdint>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "linux_boot/arm64_image_fixture.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

constexpr uint64_t kRamBase = 0x40000000;
constexpr uint64_t kMiB = 1 << 20;

Arm64Image Kernel(uint64_t text_offset, uint64_t image_size) {
  static std::vector<uint8_t> bytes;  // outlives the returned spans
  TestArm64Image image;
  image.text_offset = text_offset;
  image.image_size = image_size;
  bytes = image.Build();
  return *ParseArm64Image(bytes);
}

TEST(PlanLinuxArm64Boot, KernelAtRamBaseFdtAtTopInitrdBelowIt) {
  absl::StatusOr<LinuxArm64Layout> layout =
      PlanLinuxArm64Boot(Kernel(0, 30 * kMiB), kRamBase, 512 * kMiB, 0x123456);
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->kernel, kRamBase);
  EXPECT_EQ(layout->kernel_end, kRamBase + 30 * kMiB);
  EXPECT_EQ(layout->fdt, kRamBase + 510 * kMiB);
  EXPECT_EQ(layout->initrd, (layout->fdt - 0x123456) & ~uint64_t{0xfff});
  EXPECT_GE(layout->initrd, layout->kernel_end);
  EXPECT_LE(layout->initrd + 0x123456, layout->fdt);
}

TEST(PlanLinuxArm64Boot, TextOffsetIsFromARoundedUpBase) {
  absl::StatusOr<LinuxArm64Layout> layout =
      PlanLinuxArm64Boot(Kernel(0x80000, 8 * kMiB), kRamBase + 0x1000, 64 * kMiB, 0);
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->kernel, kRamBase + 2 * kMiB + 0x80000);
  EXPECT_EQ(layout->initrd, 0u);
}

TEST(PlanLinuxArm64Boot, KernelExactlyFillingRamBelowTheFdtFits) {
  EXPECT_OK(PlanLinuxArm64Boot(Kernel(0, 62 * kMiB), kRamBase, 64 * kMiB, 0));
  EXPECT_THAT(PlanLinuxArm64Boot(Kernel(0, 62 * kMiB + 1), kRamBase, 64 * kMiB, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("the kernel")));
}

TEST(PlanLinuxArm64Boot, RefusesWhatDoesNotFit) {
  EXPECT_THAT(PlanLinuxArm64Boot(Kernel(0, 8 * kMiB), kRamBase, 64 * kMiB, 60 * kMiB),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("linux boot: the initrd"),
                                        HasSubstr("more RAM"))));
  EXPECT_THAT(PlanLinuxArm64Boot(Kernel(0, 8 * kMiB), kRamBase, kMiB, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("device tree slot")));
  EXPECT_THAT(PlanLinuxArm64Boot(Kernel(0, 8 * kMiB), kRamBase, 0, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(PlanLinuxArm64Boot(Kernel(0, 8 * kMiB), UINT64_MAX - kMiB, 64 * kMiB, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("2^64")));
}

}  // namespace
}  // namespace hv
