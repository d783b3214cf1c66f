// PciDevice: what a PciBus asks of one PCI function: configuration reads
// and writes (PCI Local Bus Specification 3.0 §6.1). Implementations are
// thread safe: vCPU threads access configuration space concurrently.
//
// Example:
//   class MyDevice : public hv::virtio::PciDevice {
//     uint32_t ReadConfigRegister(uint32_t index) override;
//     void WriteConfig(uint32_t offset, uint32_t size, uint32_t value) override;
//   };
#ifndef HV_VIRTIO_PCI_DEVICE_H_
#define HV_VIRTIO_PCI_DEVICE_H_

#include <cstdint>

namespace hv::virtio {

class PciDevice {
 public:
  virtual ~PciDevice() = default;

  // PciDevice::ReadConfigRegister(): the 32-bit register `index` (byte
  // offset index * 4, index 0..63).
  virtual uint32_t ReadConfigRegister(uint32_t index) = 0;

  // PciDevice::WriteConfig(): writes the low `size` bytes (1, 2 or 4) of
  // `value` at byte `offset`, within one register.
  virtual void WriteConfig(uint32_t offset, uint32_t size, uint32_t value) = 0;
};

}  // namespace hv::virtio

#endif  // HV_VIRTIO_PCI_DEVICE_H_
