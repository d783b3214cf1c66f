#include "virtio/pci_config_space.h"

#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"

namespace hv::virtio {
namespace {

// SaveState's record: u32 version, then the 64 registers as u32s.
constexpr uint32_t kStateVersion = 1;

}  // namespace

absl::StatusOr<std::unique_ptr<PciConfigSpace>> PciConfigSpace::Create(
    const PciIds& ids) {
  if (ids.vendor_id == 0xffff) {
    return absl::InvalidArgumentError(
        "PCI vendor id 0xffff is reserved: it reads as an absent device");
  }
  std::unique_ptr<PciConfigSpace> config(new PciConfigSpace());
  config->SetWord(kPciVendorIdOffset, ids.vendor_id);
  config->SetWord(kPciDeviceIdOffset, ids.device_id);
  config->SetByte(kPciRevisionOffset, ids.revision);
  config->SetByte(kPciClassCodeOffset, ids.prog_if);
  config->SetByte(kPciClassCodeOffset + 1, ids.subclass);
  config->SetByte(kPciClassCodeOffset + 2, ids.class_code);
  config->SetByte(kPciHeaderTypeOffset, 0);  // type 0, single function
  config->SetWord(kPciSubsystemVendorIdOffset, ids.subsystem_vendor_id);
  config->SetWord(kPciSubsystemIdOffset, ids.subsystem_id);
  // Writable: the command bits this device implements (§6.2.2), the
  // interrupt line (§6.2.4, scratch for software). Status, ids, class and
  // the capability pointer are read-only.
  config->writable_[kPciCommandOffset / 4] =
      kPciCommandIoSpace | kPciCommandMemorySpace | kPciCommandBusMaster |
      kPciCommandInterruptDisable;
  config->writable_[kPciInterruptLineOffset / 4] = 0xff;
  return config;
}

void PciConfigSpace::SetByte(uint32_t offset, uint8_t value) {
  const uint32_t shift = (offset % 4) * 8;
  uint32_t& reg = registers_[offset / 4];
  reg = (reg & ~(uint32_t{0xff} << shift)) | (uint32_t{value} << shift);
}

void PciConfigSpace::SetWord(uint32_t offset, uint16_t value) {
  SetByte(offset, value & 0xff);
  SetByte(offset + 1, value >> 8);
}

absl::Status PciConfigSpace::AddMemoryBar64(int index, uint64_t size,
                                            bool prefetchable,
                                            uint64_t address) {
  if (index < 0 || index + 1 >= kPciBarCount) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "a 64-bit BAR needs registers %d and %d; BARs are 0..5", index,
        index + 1));
  }
  if (bar_sizes_[index] != 0 || bar_sizes_[index + 1] != 0 ||
      bar_is_upper_half_[index] || bar_is_upper_half_[index + 1]) {
    return absl::AlreadyExistsError(
        absl::StrFormat("BAR %d or %d is already in use", index, index + 1));
  }
  // §6.2.5.1: memory BARs are naturally aligned powers of two, at least 16
  // bytes (the low four bits hold the type).
  if (size < 16 || (size & (size - 1)) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "BAR size %#x is not a power of two of at least 16 bytes", size));
  }
  if (address % size != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "BAR address %#x is not aligned to its size %#x", address, size));
  }
  const uint64_t address_mask = ~(size - 1);
  const uint32_t type =
      kPciBarMemType64 | (prefetchable ? kPciBarPrefetchable : 0);
  registers_[kPciBar0Offset / 4 + index] =
      (static_cast<uint32_t>(address) & kPciBarMemAddressMask) | type;
  registers_[kPciBar0Offset / 4 + index + 1] =
      static_cast<uint32_t>(address >> 32);
  writable_[kPciBar0Offset / 4 + index] =
      static_cast<uint32_t>(address_mask) & kPciBarMemAddressMask;
  writable_[kPciBar0Offset / 4 + index + 1] =
      static_cast<uint32_t>(address_mask >> 32);
  bar_sizes_[index] = size;
  bar_is_upper_half_[index + 1] = true;
  return absl::OkStatus();
}

absl::StatusOr<uint8_t> PciConfigSpace::AddCapability(
    absl::Span<const uint8_t> body) {
  if (body.size() < 2) {
    return absl::InvalidArgumentError(
        "a capability needs at least its id and next pointer");
  }
  if (next_capability_ + body.size() > kPciConfigSpaceSize) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "no room for a %u-byte capability at %#x in the %u-byte config space",
        body.size(), next_capability_, kPciConfigSpaceSize));
  }
  const uint8_t offset = static_cast<uint8_t>(next_capability_);
  for (size_t i = 0; i < body.size(); ++i) {
    SetByte(offset + i, i == 1 ? 0 : body[i]);
  }
  if (last_capability_ == 0) {
    SetByte(kPciCapabilityPointerOffset, offset);
    SetWord(kPciStatusOffset, kPciStatusCapabilitiesList);
  } else {
    SetByte(last_capability_ + 1, offset);
  }
  last_capability_ = offset;
  // §6.7: capabilities are dword aligned.
  next_capability_ = (next_capability_ + body.size() + 3) & ~uint32_t{3};
  return offset;
}

uint32_t PciConfigSpace::ReadRegister(size_t index) const {
  if (index >= kPciConfigRegisters) return 0xffffffff;
  return registers_[index];
}

void PciConfigSpace::Write(uint32_t offset, uint32_t size, uint32_t value) {
  if ((size != 1 && size != 2 && size != 4) || offset % 4 + size > 4 ||
      offset >= kPciConfigSpaceSize) {
    return;
  }
  const uint32_t shift = (offset % 4) * 8;
  const uint32_t lanes =
      (size == 4 ? 0xffffffff : ((uint32_t{1} << (size * 8)) - 1)) << shift;
  const uint32_t mask = lanes & writable_[offset / 4];
  uint32_t& reg = registers_[offset / 4];
  reg = (reg & ~mask) | ((value << shift) & mask);
}

std::optional<uint64_t> PciConfigSpace::BarAddress(int index) const {
  if (index < 0 || index + 1 >= kPciBarCount || bar_sizes_[index] == 0) {
    return std::nullopt;
  }
  const uint64_t low =
      registers_[kPciBar0Offset / 4 + index] & kPciBarMemAddressMask;
  const uint64_t high = registers_[kPciBar0Offset / 4 + index + 1];
  return (high << 32) | low;
}

uint64_t PciConfigSpace::BarSize(int index) const {
  if (index < 0 || index >= kPciBarCount) return 0;
  return bar_sizes_[index];
}

bool PciConfigSpace::MemorySpaceEnabled() const {
  return (registers_[kPciCommandOffset / 4] & kPciCommandMemorySpace) != 0;
}

void PciConfigSpace::SaveState(snapshot::ByteWriter& out) const {
  out.Put32(kStateVersion);
  for (uint32_t reg : registers_) out.Put32(reg);
}

absl::StatusOr<std::array<uint32_t, kPciConfigRegisters>> PciConfigSpace::ReadState(
    snapshot::ByteReader& in) const {
  RETURN_IF_ERROR(in.ExpectVersion(kStateVersion, "PCI config space state"));
  std::array<uint32_t, kPciConfigRegisters> saved{};
  for (uint32_t& reg : saved) {
    ASSIGN_OR_RETURN(reg, in.Get32("register"));
  }
  for (size_t i = 0; i < kPciConfigRegisters; ++i) {
    const uint32_t fixed = ~writable_[i];
    if ((saved[i] & fixed) != (registers_[i] & fixed)) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "PCI config space state: register %#x is %#010x; this function's read-only "
          "bits there are %#010x (mask %#010x): the state of another function",
          i * 4, saved[i], registers_[i] & fixed, fixed));
    }
  }
  return saved;
}

absl::Status PciConfigSpace::CheckState(snapshot::ByteReader& in) const {
  return ReadState(in).status();
}

absl::Status PciConfigSpace::RestoreState(snapshot::ByteReader& in) {
  ASSIGN_OR_RETURN(registers_, ReadState(in));
  return absl::OkStatus();
}

}  // namespace hv::virtio
