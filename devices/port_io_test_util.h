// What the tests of devices/ share: playing the guest on a device's I/O
// ports, one byte at a time as a vCPU's kIo exit brings it, and 32-bit PCI
// configuration reads through ports 0xcf8/0xcfc (configuration mechanism
// #1). Internal to the tests of devices/ (each lists it in its srcs).
#ifndef HV_DEVICES_PORT_IO_TEST_UTIL_H_
#define HV_DEVICES_PORT_IO_TEST_UTIL_H_

#include <cstdint>

#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "hypervisor/vcpu_exit.h"
#include "virtio/pci_bus.h"

namespace hv {

// PortOut(): writes `value` to `port` of `device`, which must claim the
// port (HandlesPort), as the run loop would only hand it ports it claims.
template <typename Device>
void PortOut(Device& device, uint16_t port, uint8_t value) {
  IoRequest io{port, /*is_write=*/true, absl::MakeSpan(&value, 1)};
  EXPECT_TRUE(device.HandlesPort(io.address)) << "port " << port;
  device.HandleIo(io);
}

// PortIn(): the byte `device` answers on `port`, which it must claim.
template <typename Device>
uint8_t PortIn(Device& device, uint16_t port) {
  uint8_t value = 0;
  IoRequest io{port, /*is_write=*/false, absl::MakeSpan(&value, 1)};
  EXPECT_TRUE(device.HandlesPort(io.address)) << "port " << port;
  device.HandleIo(io);
  return value;
}

// ReadPciConfig(): a 32-bit read of 00:`device`.0's configuration register
// at `offset` through ports 0xcf8/0xcfc.
inline uint32_t ReadPciConfig(virtio::PciBus& bus, uint8_t device,
                              uint8_t offset) {
  uint32_t address = virtio::MakePciConfigAddress(0, device, 0, offset);
  IoRequest select{virtio::kPciConfigAddressPort, /*is_write=*/true,
                   absl::MakeSpan(reinterpret_cast<uint8_t*>(&address), 4)};
  bus.HandleIo(select);
  uint32_t value = 0;
  IoRequest read{virtio::kPciConfigDataPort, /*is_write=*/false,
                 absl::MakeSpan(reinterpret_cast<uint8_t*>(&value), 4)};
  bus.HandleIo(read);
  return value;
}

}  // namespace hv

#endif  // HV_DEVICES_PORT_IO_TEST_UTIL_H_
