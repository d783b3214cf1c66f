#include "devices/pci_host_bridge.h"

#include <memory>
#include <vector>

#include "devices/port_io_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "virtio/pci_bus.h"

namespace hv {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

std::vector<uint8_t> Save(PciHostBridge& bridge) {
  snapshot::ByteWriter out;
  bridge.SaveState(out);
  return out.Take();
}

absl::Status Restore(PciHostBridge& bridge, const std::vector<uint8_t>& bytes) {
  snapshot::ByteReader in(bytes, "bridge");
  absl::Status status = bridge.RestoreState(in);
  return status.ok() ? in.Done() : status;
}

TEST(PciHostBridge, IsWhatLinuxLooksForOnBusZero) {
  absl::StatusOr<std::unique_ptr<PciHostBridge>> bridge = PciHostBridge::Create();
  ASSERT_TRUE(bridge.ok()) << bridge.status();
  absl::StatusOr<std::unique_ptr<virtio::PciBus>> bus = virtio::PciBus::Create();
  ASSERT_TRUE(bus.ok()) << bus.status();
  ASSERT_TRUE((*bus)->AddDevice(0, 0, bridge->get()).ok());
  EXPECT_EQ(ReadPciConfig(**bus, 0, 0x00), 0x12378086u);
  EXPECT_EQ(ReadPciConfig(**bus, 0, 0x08) >> 16, 0x0600u);  // class 06/00
  EXPECT_EQ(ReadPciConfig(**bus, 0, 0x0c) >> 16 & 0x7f, 0u);  // type 0 header
  EXPECT_EQ(ReadPciConfig(**bus, 0, 0x10), 0u);  // no BARs
  EXPECT_EQ(ReadPciConfig(**bus, 1, 0x00), 0xffffffffu);  // nothing at 00:01.0
}

TEST(PciHostBridge, RefusesAnotherClass) {
  virtio::PciIds ids = I440fxHostBridgeIds();
  ids.class_code = 0x02;
  EXPECT_THAT(PciHostBridge::Create(ids),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PciHostBridge, RestoreCarriesWhatTheGuestWrote) {
  absl::StatusOr<std::unique_ptr<PciHostBridge>> bridge = PciHostBridge::Create();
  absl::StatusOr<std::unique_ptr<PciHostBridge>> restored = PciHostBridge::Create();
  ASSERT_TRUE(bridge.ok() && restored.ok());
  (*bridge)->WriteConfig(0x04, 2, 0x0007);  // I/O, memory, bus master
  (*bridge)->WriteConfig(0x3c, 1, 0x0b);    // interrupt line
  ASSERT_THAT(Restore(**restored, Save(**bridge)), IsOk());
  EXPECT_EQ((*restored)->ReadConfigRegister(0x04 / 4) & 0xffff, 0x0007u);
  EXPECT_EQ((*restored)->ReadConfigRegister(0x3c / 4) & 0xff, 0x0bu);
  EXPECT_EQ(Save(**restored), Save(**bridge));
}

TEST(PciHostBridge, AnotherFunctionsOrShortStateIsRefusedAndChangesNothing) {
  virtio::PciIds other_ids = I440fxHostBridgeIds();
  other_ids.device_id = 0x29c0;  // Q35's
  absl::StatusOr<std::unique_ptr<PciHostBridge>> other = PciHostBridge::Create(other_ids);
  absl::StatusOr<std::unique_ptr<PciHostBridge>> bridge = PciHostBridge::Create();
  ASSERT_TRUE(other.ok() && bridge.ok());
  (*bridge)->WriteConfig(0x3c, 1, 0x05);
  const std::vector<uint8_t> before = Save(**bridge);
  EXPECT_THAT(Restore(**bridge, Save(**other)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("register 0 is 0x29c08086")));
  const std::vector<uint8_t> good = Save(**bridge);
  EXPECT_THAT(Restore(**bridge, std::vector<uint8_t>(good.begin(), good.end() - 2)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("register needs 4 bytes")));
  std::vector<uint8_t> version = good;
  version[0] = 9;
  EXPECT_THAT(Restore(**bridge, version),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("version 9")));
  EXPECT_EQ(Save(**bridge), before);
}

}  // namespace
}  // namespace hv
