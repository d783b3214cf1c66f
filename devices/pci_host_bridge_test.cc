#include "devices/pci_host_bridge.h"

#include "devices/port_io_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "virtio/pci_bus.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;

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

}  // namespace
}  // namespace hv
