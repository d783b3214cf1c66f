#include "devices/pci_host_bridge.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "virtio/pci_bus.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;

uint32_t ReadConfig(virtio::PciBus& bus, uint8_t device, uint8_t offset) {
  uint32_t address = virtio::MakePciConfigAddress(0, device, 0, offset);
  IoRequest select{virtio::kPciConfigAddressPort, true,
                   absl::MakeSpan(reinterpret_cast<uint8_t*>(&address), 4)};
  bus.HandleIo(select);
  uint32_t value = 0;
  IoRequest read{virtio::kPciConfigDataPort, false,
                 absl::MakeSpan(reinterpret_cast<uint8_t*>(&value), 4)};
  bus.HandleIo(read);
  return value;
}

TEST(PciHostBridge, IsWhatLinuxLooksForOnBusZero) {
  absl::StatusOr<std::unique_ptr<PciHostBridge>> bridge = PciHostBridge::Create();
  ASSERT_TRUE(bridge.ok()) << bridge.status();
  absl::StatusOr<std::unique_ptr<virtio::PciBus>> bus = virtio::PciBus::Create();
  ASSERT_TRUE(bus.ok()) << bus.status();
  ASSERT_TRUE((*bus)->AddDevice(0, 0, bridge->get()).ok());
  EXPECT_EQ(ReadConfig(**bus, 0, 0x00), 0x12378086u);
  EXPECT_EQ(ReadConfig(**bus, 0, 0x08) >> 16, 0x0600u);  // class 06/00
  EXPECT_EQ(ReadConfig(**bus, 0, 0x0c) >> 16 & 0x7f, 0u);  // type 0 header
  EXPECT_EQ(ReadConfig(**bus, 0, 0x10), 0u);  // no BARs
  EXPECT_EQ(ReadConfig(**bus, 1, 0x00), 0xffffffffu);  // nothing at 00:01.0
}

TEST(PciHostBridge, RefusesAnotherClass) {
  virtio::PciIds ids = I440fxHostBridgeIds();
  ids.class_code = 0x02;
  EXPECT_THAT(PciHostBridge::Create(ids),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace hv
