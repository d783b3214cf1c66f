#include "devices/pci_host_bridge.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"

namespace hv {

absl::StatusOr<std::unique_ptr<PciHostBridge>> PciHostBridge::Create(
    const virtio::PciIds& ids) {
  if (ids.class_code != 0x06 || ids.subclass != 0x00) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "pci host bridge: class %02x/%02x is not a host bridge (06/00)",
        ids.class_code, ids.subclass));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<virtio::PciConfigSpace> config,
                   virtio::PciConfigSpace::Create(ids));
  return std::unique_ptr<PciHostBridge>(new PciHostBridge(std::move(config)));
}

uint32_t PciHostBridge::ReadConfigRegister(uint32_t index) {
  std::lock_guard<std::mutex> lock(mutex_);
  return config_->ReadRegister(index);
}

void PciHostBridge::WriteConfig(uint32_t offset, uint32_t size,
                                uint32_t value) {
  std::lock_guard<std::mutex> lock(mutex_);
  config_->Write(offset, size, value);
}

void PciHostBridge::SaveState(snapshot::ByteWriter& out) {
  std::lock_guard<std::mutex> lock(mutex_);
  config_->SaveState(out);
}

absl::Status PciHostBridge::CheckState(snapshot::ByteReader& in) {
  std::lock_guard<std::mutex> lock(mutex_);
  return config_->CheckState(in);
}

absl::Status PciHostBridge::RestoreState(snapshot::ByteReader& in) {
  std::lock_guard<std::mutex> lock(mutex_);
  return config_->RestoreState(in);
}

}  // namespace hv
