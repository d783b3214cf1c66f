#include "linux_boot/arm64_image.h"

#include <cstdint>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "linux_boot/arm64_image_fixture.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ParseArm64Image, ReadsTheHeader) {
  TestArm64Image image;
  image.text_offset = 0x80000;
  image.image_size = 0x1234000;
  const std::vector<uint8_t> bytes = image.Build();
  absl::StatusOr<Arm64Image> kernel = ParseArm64Image(bytes);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  EXPECT_EQ(kernel->text_offset, 0x80000u);
  EXPECT_EQ(kernel->image_size, 0x1234000u);
  EXPECT_EQ(kernel->footprint(), 0x1234000u);
  EXPECT_EQ(kernel->page_size, Arm64Image::PageSize::k4K);
  EXPECT_TRUE(kernel->place_anywhere);
  EXPECT_EQ(kernel->file.data(), bytes.data());
  EXPECT_EQ(kernel->file.size(), bytes.size());
}

TEST(ParseArm64Image, DecodesPageSizeAndPlacementFlags) {
  const struct {
    uint64_t flags;
    Arm64Image::PageSize page_size;
    bool anywhere;
  } cases[] = {
      {0x0, Arm64Image::PageSize::kUnspecified, false},
      {0x2, Arm64Image::PageSize::k4K, false},
      {0x4, Arm64Image::PageSize::k16K, false},
      {0xe, Arm64Image::PageSize::k64K, true},
  };
  for (const auto& c : cases) {
    TestArm64Image image;
    image.flags = c.flags;
    absl::StatusOr<Arm64Image> kernel = ParseArm64Image(image.Build());
    ASSERT_TRUE(kernel.ok()) << kernel.status();
    EXPECT_EQ(kernel->page_size, c.page_size) << c.flags;
    EXPECT_EQ(kernel->place_anywhere, c.anywhere) << c.flags;
  }
}

TEST(ParseArm64Image, FootprintCoversAFileLargerThanImageSize) {
  TestArm64Image image;
  image.image_size = 0x1000;
  image.file_size = 0x3000;
  absl::StatusOr<Arm64Image> kernel = ParseArm64Image(image.Build());
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  EXPECT_EQ(kernel->footprint(), 0x3000u);
}

TEST(ParseArm64Image, RefusesWhatItCannotBoot) {
  const auto refused = [](const TestArm64Image& image, const char* why) {
    EXPECT_THAT(ParseArm64Image(image.Build()),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         ::testing::AllOf(HasSubstr("arm64 Image: "), HasSubstr(why))))
        << why;
  };
  TestArm64Image short_file;
  short_file.file_size = 63;
  refused(short_file, "too short");
  TestArm64Image no_magic;
  no_magic.magic = 0x464c457f;
  refused(no_magic, "magic");
  TestArm64Image big_endian;
  big_endian.flags |= 1;
  refused(big_endian, "big-endian");
  TestArm64Image old_kernel;
  old_kernel.image_size = 0;
  refused(old_kernel, "older than 3.17");
  TestArm64Image overflow;
  overflow.text_offset = UINT64_MAX - 0x1000;
  refused(overflow, "passes 2^64");
}

TEST(ParseArm64Image, NamesAGzipFile) {
  std::vector<uint8_t> gzip(100, 0);
  gzip[0] = 0x1f;
  gzip[1] = 0x8b;
  EXPECT_THAT(ParseArm64Image(gzip),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("gzip")));
}

}  // namespace
}  // namespace hv
