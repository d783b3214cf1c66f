// PciHostBridge: the host bridge a PC has at 00:00.0, a type 0 function of
// class 06/00 with no BARs. Linux's direct PCI probing (configuration
// mechanism #1 without ACPI) only trusts bus 0 after it finds a host bridge
// or a VGA device there, so a VMM that boots Linux on x86 without firmware
// puts one on its bus. Thread safe. SaveState/RestoreState carry its
// configuration registers across a snapshot (PciConfigSpace's record).
//
// Example:
//   ASSIGN_OR_RETURN(auto bridge, hv::PciHostBridge::Create());
//   RETURN_IF_ERROR(bus->AddDevice(/*device=*/0, /*function=*/0, bridge.get()));
//   hv::snapshot::ByteWriter out;
//   bridge->SaveState(out);  // between runs
#ifndef HV_DEVICES_PCI_HOST_BRIDGE_H_
#define HV_DEVICES_PCI_HOST_BRIDGE_H_

#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "snapshot/codec.h"
#include "virtio/pci_config_space.h"
#include "virtio/pci_device.h"

namespace hv {

// The ids QEMU's `pc` machine gives its host bridge (Intel 82441FX, class
// 06/00): known to every x86 guest, with no driver or quirk that matters
// to a virtual machine.
inline constexpr virtio::PciIds I440fxHostBridgeIds() {
  virtio::PciIds ids;
  ids.vendor_id = 0x8086;
  ids.device_id = 0x1237;
  ids.revision = 0x02;
  ids.class_code = 0x06;  // bridge
  ids.subclass = 0x00;    // host bridge
  return ids;
}

class PciHostBridge : public virtio::PciDevice {
 public:
  // PciHostBridge::Create(): a host bridge with `ids`; INVALID_ARGUMENT when
  // `ids` is not of class 06/00 (the class is what guests look for).
  static absl::StatusOr<std::unique_ptr<PciHostBridge>> Create(
      const virtio::PciIds& ids = I440fxHostBridgeIds());

  PciHostBridge(const PciHostBridge&) = delete;
  PciHostBridge& operator=(const PciHostBridge&) = delete;

  uint32_t ReadConfigRegister(uint32_t index) override;
  void WriteConfig(uint32_t offset, uint32_t size, uint32_t value) override;

  // PciHostBridge::SaveState() / CheckState() / RestoreState(): its
  // configuration registers, as PciConfigSpace's (pci_config_space.h);
  // CheckState changes nothing, RestoreState nothing on an error.
  void SaveState(snapshot::ByteWriter& out);
  absl::Status CheckState(snapshot::ByteReader& in);
  absl::Status RestoreState(snapshot::ByteReader& in);

 private:
  explicit PciHostBridge(std::unique_ptr<virtio::PciConfigSpace> config)
      : config_(std::move(config)) {}

  std::mutex mutex_;
  const std::unique_ptr<virtio::PciConfigSpace> config_ ABSL_PT_GUARDED_BY(mutex_);
};

}  // namespace hv

#endif  // HV_DEVICES_PCI_HOST_BRIDGE_H_
