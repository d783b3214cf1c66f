#include "linux_boot/mp_table.h"

#include <cstring>
#include <numeric>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "linux_boot/le_bytes.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

uint8_t Sum(const uint8_t* bytes, size_t size) {
  return static_cast<uint8_t>(std::accumulate(bytes, bytes + size, 0u));
}

// Walks the configuration table the way a guest does, counting entries by
// type and checking each processor and interrupt entry.
TEST(BuildMpTable, IsWhatAGuestParses) {
  MpTableConfig config;
  config.cpus = 3;
  config.pci_routes = {{1, 0, 16}};
  const GuestAddress at = 0x9fc00;
  absl::StatusOr<std::vector<uint8_t>> table = BuildMpTable(config, at);
  ASSERT_TRUE(table.ok()) << table.status();
  const uint8_t* p = table->data();
  ASSERT_EQ(std::memcmp(p, "_MP_", 4), 0);
  EXPECT_EQ(LoadLe<uint32_t>(p + 4), at + 16);
  EXPECT_EQ(p[8], 1);
  EXPECT_EQ(p[9], 4);
  EXPECT_EQ(Sum(p, 16), 0);

  const uint8_t* header = p + 16;
  ASSERT_EQ(std::memcmp(header, "PCMP", 4), 0);
  const uint16_t length = LoadLe<uint16_t>(header + 4);
  EXPECT_EQ(16u + length, table->size());
  EXPECT_EQ(Sum(header, length), 0);
  EXPECT_EQ(LoadLe<uint32_t>(header + 36), 0xfee00000u);
  const uint16_t count = LoadLe<uint16_t>(header + 34);

  int by_type[5] = {};
  const uint8_t* e = header + 44;
  for (uint16_t i = 0; i < count; ++i) {
    ASSERT_LT(e[0], 5) << "entry " << i;
    ++by_type[e[0]];
    if (e[0] == 0) {
      EXPECT_EQ(e[1], by_type[0] - 1);  // APIC ids 0, 1, 2
      EXPECT_EQ(e[3], by_type[0] == 1 ? 3 : 1);  // BSP first, all enabled
      e += 20;
      continue;
    }
    if (e[0] == 2) {
      EXPECT_EQ(e[1], 3);  // the id after the CPUs
      EXPECT_EQ(LoadLe<uint32_t>(e + 4), 0xfec00000u);
    }
    if (e[0] == 3 && e[4] == 0) {  // the PCI route
      EXPECT_EQ(e[5], 1 << 2 | 0);
      EXPECT_EQ(e[7], 16);
    }
    if (e[0] == 4) EXPECT_EQ(e[6], 0xff);  // LINT0/1 on every LAPIC
    e += 8;
  }
  EXPECT_EQ(e, table->data() + table->size());
  EXPECT_EQ(by_type[0], 3);
  EXPECT_EQ(by_type[1], 2);
  EXPECT_EQ(by_type[2], 1);
  EXPECT_EQ(by_type[3], 16 + 1);
  EXPECT_EQ(by_type[4], 2);
}

TEST(BuildMpTable, RefusesBadConfigurations) {
  MpTableConfig config;
  config.cpus = 0;
  EXPECT_THAT(BuildMpTable(config, 0x9fc00),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("0 CPUs")));
  config.cpus = 255;
  EXPECT_THAT(BuildMpTable(config, 0x9fc00),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("255 CPUs")));
  config.cpus = 40;  // 40 * 20 bytes alone pass the default KiB of room
  EXPECT_THAT(BuildMpTable(config, 0x9fc00),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("do not fit the 1024 bytes of room")));
  config.room = 0x1000;
  EXPECT_TRUE(BuildMpTable(config, 0x9fc00).ok());
  EXPECT_THAT(BuildMpTable(config, 0xfffffff0),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not below 4 GiB")));
  config.pci_routes = {{1, 0, 24}};
  EXPECT_THAT(BuildMpTable(config, 0x9fc00),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("00:01 INTA# -> I/O APIC pin 24")));
}

}  // namespace
}  // namespace hv
