#include "virtio/pci_bus.h"

#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"

namespace hv::virtio {
namespace {

// SaveState's record: u32 version, u32 CONFIG_ADDRESS.
constexpr uint32_t kStateVersion = 1;
// The CONFIG_ADDRESS bits that hold anything (bits 30:24 are reserved and
// bits 1:0 read as zero).
constexpr uint32_t kConfigAddressBits = 0x80fffffc;

uint32_t LoadLittleEndian(absl::Span<const uint8_t> data) {
  uint32_t value = 0;
  for (size_t i = 0; i < data.size() && i < 4; ++i) {
    value |= uint32_t{data[i]} << (8 * i);
  }
  return value;
}

void StoreLittleEndian(uint32_t value, absl::Span<uint8_t> data) {
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = i < 4 ? static_cast<uint8_t>(value >> (8 * i)) : 0xff;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<PciBus>> PciBus::Create() {
  return std::unique_ptr<PciBus>(new PciBus());
}

absl::Status PciBus::AddDevice(uint8_t device_number, uint8_t function,
                               PciDevice* device) {
  if (device_number > 31 || function > 7 || device == nullptr) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "PCI device %u function %u: device 0..31, function 0..7, non-null",
        device_number, function));
  }
  std::lock_guard<std::mutex> lock(mu_);
  const uint8_t key = static_cast<uint8_t>(device_number << 3 | function);
  if (!devices_.emplace(key, device).second) {
    return absl::AlreadyExistsError(absl::StrFormat(
        "PCI 00:%02x.%u is already taken", device_number, function));
  }
  return absl::OkStatus();
}

PciDevice* PciBus::Selected(uint32_t* register_offset) const {
  if ((config_address_ & kPciConfigAddressEnable) == 0) return nullptr;
  const uint32_t bus = (config_address_ >> 16) & 0xff;
  if (bus != 0) return nullptr;
  const uint8_t key = static_cast<uint8_t>((config_address_ >> 8) & 0xff);
  auto it = devices_.find(key);
  if (it == devices_.end()) return nullptr;
  *register_offset = config_address_ & 0xfc;
  return it->second;
}

bool PciBus::Read(uint16_t port, absl::Span<uint8_t> data) {
  if (port < kPciConfigAddressPort || port > kPciConfigDataPort + 3) {
    return false;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (port < kPciConfigDataPort) {
    // Only a dword access at 0xCF8 is CONFIG_ADDRESS; other accesses in
    // 0xCF8-0xCFB are not decoded as configuration (§3.2.2.3.2).
    StoreLittleEndian(port == kPciConfigAddressPort && data.size() == 4
                          ? config_address_
                          : 0xffffffff,
                      data);
    return true;
  }
  const uint32_t byte = port - kPciConfigDataPort;
  uint32_t register_offset = 0;
  PciDevice* device = Selected(&register_offset);
  if (device == nullptr || byte + data.size() > 4) {
    StoreLittleEndian(0xffffffff, data);
    return true;
  }
  const uint32_t value = device->ReadConfigRegister(register_offset / 4);
  StoreLittleEndian(value >> (8 * byte), data);
  return true;
}

bool PciBus::Write(uint16_t port, absl::Span<const uint8_t> data) {
  if (port < kPciConfigAddressPort || port > kPciConfigDataPort + 3) {
    return false;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (port < kPciConfigDataPort) {
    if (port == kPciConfigAddressPort && data.size() == 4) {
      // Bits 30:24 are reserved and bits 1:0 read as zero.
      config_address_ = LoadLittleEndian(data) & kConfigAddressBits;
    }
    return true;
  }
  const uint32_t byte = port - kPciConfigDataPort;
  uint32_t register_offset = 0;
  PciDevice* device = Selected(&register_offset);
  if (device == nullptr || data.empty() || byte + data.size() > 4 ||
      data.size() == 3) {
    return true;
  }
  device->WriteConfig(register_offset + byte,
                      static_cast<uint32_t>(data.size()),
                      LoadLittleEndian(data));
  return true;
}

bool PciBus::HandleIo(IoRequest& io) {
  if (io.address > 0xffff) return false;
  const uint16_t port = static_cast<uint16_t>(io.address);
  if (io.is_write) return Write(port, io.data);
  return Read(port, io.data);
}

void PciBus::SaveState(snapshot::ByteWriter& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  out.Put32(kStateVersion);
  out.Put32(config_address_);
}

absl::StatusOr<uint32_t> PciBus::ReadState(snapshot::ByteReader& in) {
  RETURN_IF_ERROR(in.ExpectVersion(kStateVersion, "PCI bus state"));
  ASSIGN_OR_RETURN(uint32_t address, in.Get32("CONFIG_ADDRESS"));
  if ((address & ~kConfigAddressBits) != 0) {
    return absl::DataLossError(absl::StrFormat(
        "PCI bus state: CONFIG_ADDRESS %#010x has reserved bits set", address));
  }
  return address;
}

absl::Status PciBus::CheckState(snapshot::ByteReader& in) const {
  return ReadState(in).status();
}

absl::Status PciBus::RestoreState(snapshot::ByteReader& in) {
  ASSIGN_OR_RETURN(uint32_t address, ReadState(in));
  std::lock_guard<std::mutex> lock(mu_);
  config_address_ = address;
  return absl::OkStatus();
}

}  // namespace hv::virtio
