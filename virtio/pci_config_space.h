// PciConfigSpace: the 256-byte configuration space of one PCI function with
// a type 0 header (PCI Local Bus Specification 3.0 §6.1): ids, command
// register, memory BARs, and a capability list.
//
// Registers are 32-bit little-endian words. Each register has a mask of the
// bits software may write; everything else is read-only, which is how BAR
// sizing works (§6.2.5.1): software writes all ones to a BAR and reads back
// the size mask, since the address bits below the BAR's size are hardwired
// to zero and the type bits are read-only. A 64-bit BAR takes two registers,
// the upper one holding address bits 63:32. Not thread safe: the owning
// device serialises access. SaveState/RestoreState carry the registers
// across a snapshot (snapshot/codec.h bytes).
//
// Example:
//   ASSIGN_OR_RETURN(auto config, hv::virtio::PciConfigSpace::Create(ids));
//   RETURN_IF_ERROR(config->AddMemoryBar64(2, 1 << 30, /*prefetchable=*/true,
//                                          0x100000000));
//   ASSIGN_OR_RETURN(uint8_t offset, config->AddCapability(cap_bytes));
//   config->Write(0x18, 4, 0xffffffff);      // size BAR 2's low half
//   uint32_t size_mask = config->ReadRegister(0x18 / 4);
//   hv::snapshot::ByteWriter out;
//   config->SaveState(out);
#ifndef HV_VIRTIO_PCI_CONFIG_SPACE_H_
#define HV_VIRTIO_PCI_CONFIG_SPACE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "snapshot/codec.h"

namespace hv::virtio {

// PCI Local Bus Specification 3.0, §6.1 (type 0 header layout).
inline constexpr size_t kPciConfigSpaceSize = 256;
inline constexpr size_t kPciConfigRegisters = kPciConfigSpaceSize / 4;
inline constexpr uint32_t kPciVendorIdOffset = 0x00;
inline constexpr uint32_t kPciDeviceIdOffset = 0x02;
inline constexpr uint32_t kPciCommandOffset = 0x04;
inline constexpr uint32_t kPciStatusOffset = 0x06;
inline constexpr uint32_t kPciRevisionOffset = 0x08;
inline constexpr uint32_t kPciClassCodeOffset = 0x09;  // prog-if, sub, base
inline constexpr uint32_t kPciHeaderTypeOffset = 0x0e;
inline constexpr uint32_t kPciBar0Offset = 0x10;
inline constexpr int kPciBarCount = 6;
inline constexpr uint32_t kPciSubsystemVendorIdOffset = 0x2c;
inline constexpr uint32_t kPciSubsystemIdOffset = 0x2e;
inline constexpr uint32_t kPciCapabilityPointerOffset = 0x34;
inline constexpr uint32_t kPciInterruptLineOffset = 0x3c;
// Capabilities live after the 64-byte header (§6.7).
inline constexpr uint32_t kPciCapabilitiesStart = 0x40;

// Command register bits (§6.2.2).
inline constexpr uint16_t kPciCommandIoSpace = 1 << 0;
inline constexpr uint16_t kPciCommandMemorySpace = 1 << 1;
inline constexpr uint16_t kPciCommandBusMaster = 1 << 2;
inline constexpr uint16_t kPciCommandInterruptDisable = 1 << 10;
// Status register: Capabilities List (§6.2.3).
inline constexpr uint16_t kPciStatusCapabilitiesList = 1 << 4;

// Memory BAR bits (§6.2.5.1): bit 0 = 0 (memory space), bits 2:1 = type
// (00: 32-bit, 10: 64-bit), bit 3 = prefetchable, bits 31:4 = address.
inline constexpr uint32_t kPciBarMemType64 = 0x2 << 1;
inline constexpr uint32_t kPciBarPrefetchable = 1 << 3;
inline constexpr uint32_t kPciBarMemAddressMask = ~uint32_t{0xf};

// Capability ids (PCI Code and ID Assignment Specification §2).
inline constexpr uint8_t kPciCapIdVendorSpecific = 0x09;

// PciIds: what identifies a function (§6.2.1).
struct PciIds {
  uint16_t vendor_id = 0;
  uint16_t device_id = 0;
  uint16_t subsystem_vendor_id = 0;
  uint16_t subsystem_id = 0;
  uint8_t revision = 0;
  uint8_t class_code = 0;
  uint8_t subclass = 0;
  uint8_t prog_if = 0;
};

class PciConfigSpace {
 public:
  // PciConfigSpace::Create(): a type 0 header with `ids`, no BARs and no
  // capabilities. INVALID_ARGUMENT for vendor id 0xffff (which means "no
  // device" to software, §6.2.1).
  static absl::StatusOr<std::unique_ptr<PciConfigSpace>> Create(
      const PciIds& ids);

  PciConfigSpace(const PciConfigSpace&) = delete;
  PciConfigSpace& operator=(const PciConfigSpace&) = delete;

  // PciConfigSpace::AddMemoryBar64(): a 64-bit memory BAR in registers
  // `index` and `index` + 1 (index 0..4), of `size` bytes (a power of two,
  // at least 16), at `address` (a multiple of `size`).
  absl::Status AddMemoryBar64(int index, uint64_t size, bool prefetchable,
                              uint64_t address);

  // PciConfigSpace::AddCapability(): appends a capability whose bytes are
  // `body` (body[0] = capability id; body[1], the next pointer, is filled
  // in), at the next dword-aligned offset, and links it into the list.
  // Returns its offset. Capabilities are read-only to software.
  absl::StatusOr<uint8_t> AddCapability(absl::Span<const uint8_t> body);

  // PciConfigSpace::ReadRegister(): register `index` (0..63).
  uint32_t ReadRegister(size_t index) const;

  // PciConfigSpace::Write(): writes the low `size` bytes (1, 2 or 4) of
  // `value` at byte `offset`; the access must not cross a register. Only
  // writable bits change. Out-of-range or crossing accesses are ignored, as
  // a device ignores a write it does not decode.
  void Write(uint32_t offset, uint32_t size, uint32_t value);

  // PciConfigSpace::BarAddress(): the address programmed in the 64-bit BAR
  // at `index`, or nullopt when there is none.
  std::optional<uint64_t> BarAddress(int index) const;
  // PciConfigSpace::BarSize(): the size of the BAR at `index` (0: none).
  uint64_t BarSize(int index) const;
  // PciConfigSpace::MemorySpaceEnabled(): the command register's Memory
  // Space bit (the device decodes its memory BARs).
  bool MemorySpaceEnabled() const;

  // PciConfigSpace::SaveState(): the 64 registers, appended to `out` (a
  // versioned record).
  void SaveState(snapshot::ByteWriter& out) const;
  // PciConfigSpace::CheckState(): reads a record SaveState() wrote from
  // `in` and checks it, changing nothing: DATA_LOSS for short bytes,
  // FAILED_PRECONDITION for another version or a register whose read-only
  // bits (ids, class, BAR types and sizes, capabilities) differ from this
  // space's: the state of another function.
  absl::Status CheckState(snapshot::ByteReader& in) const;
  // PciConfigSpace::RestoreState(): as CheckState(), then the registers are
  // the record's; on an error nothing is changed.
  absl::Status RestoreState(snapshot::ByteReader& in);

 private:
  absl::StatusOr<std::array<uint32_t, kPciConfigRegisters>> ReadState(
      snapshot::ByteReader& in) const;
  PciConfigSpace() = default;
  void SetByte(uint32_t offset, uint8_t value);
  void SetWord(uint32_t offset, uint16_t value);

  std::array<uint32_t, kPciConfigRegisters> registers_{};
  std::array<uint32_t, kPciConfigRegisters> writable_{};
  std::array<uint64_t, kPciBarCount> bar_sizes_{};
  std::array<bool, kPciBarCount> bar_is_upper_half_{};
  uint32_t next_capability_ = kPciCapabilitiesStart;
  uint8_t last_capability_ = 0;  // 0: the list is empty
};

}  // namespace hv::virtio

#endif  // HV_VIRTIO_PCI_CONFIG_SPACE_H_
