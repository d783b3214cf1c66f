#include "linux_boot/bzimage.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "linux_boot/bzimage_fixture.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

absl::StatusOr<BzImage> Parse(const std::vector<uint8_t>& bytes) {
  return ParseBzImage(bytes);
}

TEST(ParseBzImage, ReadsTheSetupHeader) {
  TestBzImage image;
  const std::vector<uint8_t> bytes = image.Build();
  absl::StatusOr<BzImage> kernel = Parse(bytes);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  EXPECT_EQ(kernel->protocol, 0x020f);
  EXPECT_EQ(kernel->pref_address, 0x1000000u);
  EXPECT_EQ(kernel->init_size, 0x100000u);
  EXPECT_TRUE(kernel->relocatable);
  EXPECT_EQ(kernel->kernel_alignment, 0x200000u);
  EXPECT_EQ(kernel->initrd_addr_max, 0x7fffffffu);
  EXPECT_TRUE(kernel->initrd_above_4g);
  EXPECT_EQ(kernel->cmdline_max, 2047u);
  // The header spans [0x1f1, 0x26c); the kernel follows 4 sectors of setup.
  EXPECT_EQ(kernel->setup_header.data(), bytes.data() + 0x1f1);
  EXPECT_EQ(kernel->setup_header.size(), 0x26cu - 0x1f1u);
  EXPECT_EQ(kernel->protected_mode_kernel.data(), bytes.data() + 4 * 512);
  EXPECT_EQ(kernel->protected_mode_kernel.size(), 0x3000u);
}

TEST(ParseBzImage, SetupSectsZeroMeansFour) {
  TestBzImage image;
  image.setup_sects = 0;
  const std::vector<uint8_t> bytes = image.Build();
  absl::StatusOr<BzImage> kernel = Parse(bytes);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  EXPECT_EQ(kernel->protected_mode_kernel.data(), bytes.data() + 5 * 512);
}

TEST(ParseBzImage, RefusesATruncatedFile) {
  std::vector<uint8_t> bytes = TestBzImage().Build();
  bytes.resize(0x200);
  EXPECT_THAT(Parse(bytes), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("too short")));
  EXPECT_THAT(Parse({}), StatusIs(absl::StatusCode::kInvalidArgument,
                                  HasSubstr("bzImage: 0 bytes")));
}

TEST(ParseBzImage, RefusesAFileWithoutTheMagic) {
  std::vector<uint8_t> bytes = TestBzImage().Build();
  bytes[0x202] = 'X';
  EXPECT_THAT(Parse(bytes), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("\"HdrS\"")));
  bytes = TestBzImage().Build();
  bytes[0x1fe] = 0;
  EXPECT_THAT(Parse(bytes), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("0xAA55")));
}

// One refused header field per row: what is changed in a good image, and
// the words the error must hold.
struct BadField {
  const char* name;
  void (*corrupt)(TestBzImage&);
  const char* message;
};

const BadField kBadFields[] = {
    {"OldProtocol", [](TestBzImage& i) { i.protocol = 0x020b; },
     "boot protocol 2.11 is older than 2.12"},
    {"No64BitEntry", [](TestBzImage& i) { i.xloadflags = 0; }, "XLF_KERNEL_64"},
    {"ZImage", [](TestBzImage& i) { i.loadflags = 0; }, "zImage"},
    {"HeaderPastZeroPageField", [](TestBzImage& i) { i.header_end = 0xff; },
     "the setup header ends at 0x301"},
    {"HeaderBeforeInitSize", [](TestBzImage& i) { i.header_end = 0x10; },
     "the setup header ends at 0x212"},
    {"SyssizePastTheFile", [](TestBzImage& i) { i.syssize_bytes = 0x3010; },
     "syssize says the kernel is 0x3010 bytes"},
    {"SyssizeZero", [](TestBzImage& i) { i.syssize_bytes = 0; }, "syssize"},
    {"AlignmentNotAPowerOfTwo", [](TestBzImage& i) { i.kernel_alignment = 0x300000; },
     "not a power of two"},
    {"PrefAddressUnaligned", [](TestBzImage& i) { i.pref_address = 0x1001000; },
     "pref_address 0x1001000"},
    {"InitSizeBelowKernel", [](TestBzImage& i) { i.init_size = 0x1000; },
     "init_size 0x1000 is smaller"},
};

class ParseBzImageBadField : public ::testing::TestWithParam<BadField> {};

TEST_P(ParseBzImageBadField, IsRefusedNamingIt) {
  TestBzImage image;
  GetParam().corrupt(image);
  EXPECT_THAT(Parse(image.Build()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(GetParam().message)));
}

INSTANTIATE_TEST_SUITE_P(Rows, ParseBzImageBadField, ::testing::ValuesIn(kBadFields),
                         [](const ::testing::TestParamInfo<BadField>& info) {
                           return std::string(info.param.name);
                         });

TEST(ParseBzImage, RefusesSetupSectorsPastTheEnd) {
  TestBzImage image;
  image.setup_sects = 200;
  image.kernel_size = 0;
  std::vector<uint8_t> bytes = image.Build();
  bytes.resize(0x1000);
  EXPECT_THAT(Parse(bytes), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("200 setup sectors")));
}

}  // namespace
}  // namespace hv
