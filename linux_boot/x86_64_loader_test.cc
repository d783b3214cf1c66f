#include "linux_boot/x86_64_loader.h"

#include <algorithm>
#include <cstring>
#include <string>
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

constexpr uint64_t kRam = 64 << 20;

TEST(LoadLinuxX86, WritesEveryPieceWhereTheLayoutSays) {
  const std::vector<uint8_t> file = TestBzImage().Build();
  absl::StatusOr<BzImage> kernel = ParseBzImage(file);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  const std::vector<uint8_t> initrd(0x3000, 0xab);
  const std::string cmdline = "console=ttyS0";
  absl::StatusOr<LinuxX86Layout> layout =
      PlanLinuxX86Boot(*kernel, kRam, initrd.size(), cmdline.size() + 1);
  ASSERT_TRUE(layout.ok()) << layout.status();
  std::vector<uint8_t> ram(kRam, 0);
  MpTableConfig mp;
  mp.cpus = 2;
  ASSERT_TRUE(LoadLinuxX86(*kernel, *layout, initrd, cmdline, mp, absl::MakeSpan(ram)).ok());

  EXPECT_EQ(std::memcmp(&ram[layout->kernel], kernel->protected_mode_kernel.data(),
                        kernel->protected_mode_kernel.size()),
            0);
  EXPECT_EQ(ram[layout->initrd], 0xab);
  EXPECT_EQ(ram[layout->initrd + initrd.size() - 1], 0xab);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&ram[kLinuxCmdline])), cmdline);
  EXPECT_EQ(LoadLe<uint32_t>(&ram[kLinuxZeroPage + 0x228]), kLinuxCmdline);
  EXPECT_EQ(LoadLe<uint32_t>(&ram[kLinuxZeroPage + 0x218]), layout->initrd);
  EXPECT_EQ(LoadLe<uint32_t>(&ram[kLinuxZeroPage + 0x21c]), initrd.size());
  EXPECT_EQ(ram[kLinuxZeroPage + 0x1e8], layout->e820.size());
  EXPECT_EQ(std::memcmp(&ram[kLinuxMpTable], "_MP_", 4), 0);
  EXPECT_EQ(std::memcmp(&ram[kLinuxAcpiTables], "RSD PTR ", 8), 0);
  EXPECT_EQ(LoadLe<uint64_t>(&ram[kLinuxZeroPage + 0x070]), kLinuxAcpiTables);
}

TEST(LoadLinuxX86, RefusesWithoutTouchingRam) {
  const std::vector<uint8_t> file = TestBzImage().Build();
  absl::StatusOr<BzImage> kernel = ParseBzImage(file);
  ASSERT_TRUE(kernel.ok());
  absl::StatusOr<LinuxX86Layout> layout = PlanLinuxX86Boot(*kernel, kRam, 0, 6);
  ASSERT_TRUE(layout.ok());
  std::vector<uint8_t> ram(kRam, 0);
  MpTableConfig mp;
  EXPECT_THAT(LoadLinuxX86(*kernel, *layout, {}, absl::string_view("a\0b", 3), mp,
                           absl::MakeSpan(ram)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("NUL")));
  mp.cpus = 0;
  EXPECT_THAT(LoadLinuxX86(*kernel, *layout, {}, "quiet", mp, absl::MakeSpan(ram)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("mp table")));
  mp.cpus = 1;
  EXPECT_THAT(LoadLinuxX86(*kernel, *layout, {}, "quiet", mp,
                           absl::MakeSpan(ram).subspan(0, 16 << 20)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the kernel [0x1000000, 0x1003000) is not inside RAM")));
  EXPECT_EQ(std::count(ram.begin(), ram.end(), 0), static_cast<long>(ram.size()));
}

}  // namespace
}  // namespace hv
