#include "tools/hvrun/pci_ecam.h"

#include <cstring>

#include "absl/strings/str_format.h"

namespace hv {
namespace {

// The conventional (PCI-compatible) part of a function's configuration
// space, which virtio::PciDevice implements.
constexpr uint32_t kConventionalSize = 256;
constexpr uint32_t kFunctionSize = 4096;

}  // namespace

absl::StatusOr<std::unique_ptr<PciEcam>> PciEcam::Create(uint64_t base) {
  if (base % kSize != 0 || base + kSize < base) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "PciEcam: base %#x must be a multiple of %#x (and not wrap)", base, kSize));
  }
  return std::unique_ptr<PciEcam>(new PciEcam(base));
}

absl::Status PciEcam::AddDevice(uint8_t device_number, uint8_t function,
                                virtio::PciDevice* device) {
  if (device_number > 31 || function > 7 || device == nullptr) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "PciEcam::AddDevice: device %u function %u%s: expected device 0..31, "
        "function 0..7 and a device",
        device_number, function, device == nullptr ? " (null)" : ""));
  }
  std::lock_guard<std::mutex> lock(mu_);
  const uint8_t key = static_cast<uint8_t>(device_number << 3 | function);
  if (!devices_.emplace(key, device).second) {
    return absl::AlreadyExistsError(absl::StrFormat(
        "PciEcam::AddDevice: device %u function %u is taken", device_number, function));
  }
  return absl::OkStatus();
}

uint32_t PciEcam::ReadWithinRegister(virtio::PciDevice* device, uint32_t offset,
                                     uint32_t size) {
  const uint32_t reg = device->ReadConfigRegister(offset / 4);
  const uint32_t shifted = reg >> ((offset % 4) * 8);
  return size == 4 ? shifted : shifted & ((uint32_t{1} << (size * 8)) - 1);
}

bool PciEcam::HandleMmio(IoRequest& io) {
  if (io.address < base_ || io.address - base_ >= kSize) return false;
  const uint64_t offset_in_window = io.address - base_;
  const uint8_t key = static_cast<uint8_t>(offset_in_window / kFunctionSize);
  const uint32_t offset = static_cast<uint32_t>(offset_in_window % kFunctionSize);
  const uint32_t size = static_cast<uint32_t>(io.data.size());

  virtio::PciDevice* device = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = devices_.find(key);
    if (it != devices_.end()) device = it->second;
  }
  const bool aligned = (size == 1 || size == 2 || size == 4 || size == 8) &&
                       offset % size == 0;
  if (device == nullptr || !aligned) {
    if (!io.is_write) std::memset(io.data.data(), 0xff, io.data.size());
    return true;
  }
  if (offset >= kConventionalSize) {
    if (!io.is_write) std::memset(io.data.data(), 0, io.data.size());
    return true;
  }
  // An 8-byte access is two dword accesses, low address first.
  const uint32_t chunk = size == 8 ? 4 : size;
  for (uint32_t done = 0; done < size; done += chunk) {
    if (io.is_write) {
      uint32_t value = 0;
      std::memcpy(&value, io.data.data() + done, chunk);
      device->WriteConfig(offset + done, chunk, value);
    } else {
      const uint32_t value = ReadWithinRegister(device, offset + done, chunk);
      std::memcpy(io.data.data() + done, &value, chunk);
    }
  }
  return true;
}

}  // namespace hv
