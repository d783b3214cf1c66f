#include "linux_boot/acpi_tables.h"

#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "linux_boot/le_bytes.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

constexpr GuestAddress kAt = 0xe0000;

uint8_t Sum(const uint8_t* bytes, size_t size) {
  return static_cast<uint8_t>(std::accumulate(bytes, bytes + size, 0u));
}

// A table the guest reaches through a 64-bit pointer: checked and returned.
const uint8_t* Table(const std::vector<uint8_t>& tables, uint64_t address,
                     const char* signature) {
  EXPECT_GE(address, kAt);
  EXPECT_LT(address - kAt, tables.size());
  const uint8_t* t = tables.data() + (address - kAt);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(t), 4), signature);
  EXPECT_EQ(Sum(t, LoadLe<uint32_t>(t + 4)), 0) << signature;
  return t;
}

TEST(BuildAcpiTables, AGuestWalksFromTheRsdpToEachTable) {
  AcpiConfig config;
  config.cpus = 3;
  absl::StatusOr<std::vector<uint8_t>> tables = BuildAcpiTables(config, kAt);
  ASSERT_TRUE(tables.ok()) << tables.status();
  const uint8_t* rsdp = tables->data();
  ASSERT_EQ(std::memcmp(rsdp, "RSD PTR ", 8), 0);
  EXPECT_EQ(Sum(rsdp, 20), 0);
  EXPECT_EQ(Sum(rsdp, 36), 0);
  EXPECT_EQ(rsdp[15], 2);
  EXPECT_EQ(LoadLe<uint32_t>(rsdp + 16), 0u);  // no RSDT

  const uint8_t* xsdt = Table(*tables, LoadLe<uint64_t>(rsdp + 24), "XSDT");
  ASSERT_EQ(LoadLe<uint32_t>(xsdt + 4), 36u + 16u);
  const uint8_t* fadt = Table(*tables, LoadLe<uint64_t>(xsdt + 36), "FACP");
  const uint8_t* madt = Table(*tables, LoadLe<uint64_t>(xsdt + 44), "APIC");

  EXPECT_EQ(LoadLe<uint32_t>(fadt + 4), 276u);
  EXPECT_NE(LoadLe<uint32_t>(fadt + 112) & (1u << 20), 0u);  // HW_REDUCED_ACPI
  EXPECT_EQ(LoadLe<uint16_t>(fadt + 109), 0x26);  // 8042, no VGA, no CMOS RTC
  const uint64_t dsdt = LoadLe<uint64_t>(fadt + 140);
  EXPECT_EQ(LoadLe<uint32_t>(fadt + 40), dsdt);
  // The DSDT: Scope(\_SB) { Device(COM1) { _HID PNP0501, _UID 1, _CRS with
  // I/O 0x3f8-0x3ff and IRQ 4 } }.
  const uint8_t* dsdt_table = Table(*tables, dsdt, "DSDT");
  const std::string aml(reinterpret_cast<const char*>(dsdt_table) + 36,
                        LoadLe<uint32_t>(dsdt_table + 4) - 36);
  EXPECT_EQ(aml[0], 0x10);  // ScopeOp
  // PkgLength: two bytes once the scope passes 63 bytes.
  ASSERT_EQ(static_cast<uint8_t>(aml[1]) >> 6, 1);
  EXPECT_EQ((static_cast<uint8_t>(aml[1]) & 0x0f) | static_cast<uint8_t>(aml[2]) << 4,
            aml.size() - 1);
  EXPECT_EQ(aml.substr(3, 5), "\\_SB_");
  EXPECT_NE(aml.find(std::string("\x5b\x82", 2)), std::string::npos);  // DeviceOp
  EXPECT_NE(aml.find("COM1"), std::string::npos);
  // The PCI root bridge: PNP0A03 with bus 0 and the MMIO window
  // [0xc0000000, 0xfebfffff].
  EXPECT_NE(aml.find("PCI0"), std::string::npos);
  EXPECT_NE(aml.find(std::string("_HID\x0c\x41\xd0\x0a\x03", 9)), std::string::npos);
  EXPECT_NE(aml.find(std::string("\x87\x17\x00\x00\x0c\x01\x00\x00\x00\x00"
                                 "\x00\x00\x00\xc0\xff\xff\xbf\xfe", 18)),
            std::string::npos);
  EXPECT_NE(aml.find(std::string("_HID\x0c\x41\xd0\x05\x01", 9)), std::string::npos);
  EXPECT_NE(aml.find(std::string("\x47\x01\xf8\x03\xf8\x03\x01\x08", 8)), std::string::npos);
  EXPECT_NE(aml.find(std::string("\x22\x10\x00\x79\x00", 5)), std::string::npos);

  EXPECT_EQ(LoadLe<uint32_t>(madt + 36), 0xfee00000u);
  EXPECT_EQ(LoadLe<uint32_t>(madt + 40), 1u);  // PC-AT compatible 8259s
  int lapics = 0, ioapics = 0, nmis = 0;
  const uint32_t length = LoadLe<uint32_t>(madt + 4);
  for (uint32_t at = 44; at < length; at += madt[at + 1]) {
    ASSERT_GT(madt[at + 1], 0);
    switch (madt[at]) {
      case 0:
        EXPECT_EQ(madt[at + 2], lapics);  // UID
        EXPECT_EQ(madt[at + 3], lapics);  // APIC id
        EXPECT_EQ(LoadLe<uint32_t>(madt + at + 4), 1u);
        ++lapics;
        break;
      case 1:
        EXPECT_EQ(madt[at + 2], 3);
        EXPECT_EQ(LoadLe<uint32_t>(madt + at + 4), 0xfec00000u);
        EXPECT_EQ(LoadLe<uint32_t>(madt + at + 8), 0u);
        ++ioapics;
        break;
      case 4:
        EXPECT_EQ(madt[at + 2], 0xff);
        EXPECT_EQ(madt[at + 5], 1);
        ++nmis;
        break;
      default:
        ADD_FAILURE() << "unexpected MADT entry type " << int{madt[at]};
    }
  }
  EXPECT_EQ(lapics, 3);
  EXPECT_EQ(ioapics, 1);
  EXPECT_EQ(nmis, 1);
}

TEST(BuildAcpiTables, RefusesBadConfigurations) {
  AcpiConfig config;
  config.cpus = 0;
  EXPECT_THAT(BuildAcpiTables(config, kAt),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("0 CPUs")));
  config.cpus = 255;
  EXPECT_THAT(BuildAcpiTables(config, kAt),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("255 CPUs")));
  config.cpus = 2;
  EXPECT_THAT(BuildAcpiTables(config, kAt + 8),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("16-byte")));
  EXPECT_THAT(BuildAcpiTables(config, 0xfffffff0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("4 GiB")));
  config.pci_root = AcpiPciRoot{0xc0000000, 0};
  EXPECT_THAT(BuildAcpiTables(config, kAt),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("PCI MMIO window")));
  config.pci_root.reset();
  config.serial_ports = {{0x3f8, 16}};
  EXPECT_THAT(BuildAcpiTables(config, kAt),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ISA IRQs are 0-15")));
  config.serial_ports.assign(10, AcpiSerialPort{});
  EXPECT_THAT(BuildAcpiTables(config, kAt),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("10 UARTs")));
  config.serial_ports.clear();
  config.room = 0x100;
  EXPECT_THAT(BuildAcpiTables(config, kAt),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("room")));
}

}  // namespace
}  // namespace hv
