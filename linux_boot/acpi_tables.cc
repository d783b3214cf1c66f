#include "linux_boot/acpi_tables.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "linux_boot/le_bytes.h"

namespace hv {
namespace {

// ACPI 6.5: sizes (5.2.5.3, 5.2.6, 5.2.9, 5.2.12) and revisions.
constexpr size_t kRsdpSize = 36;
constexpr size_t kHeaderSize = 36;
constexpr size_t kFadtSize = 276;
constexpr size_t kMadtFixedSize = 44;
constexpr uint8_t kRsdpRevision = 2;
constexpr uint8_t kXsdtRevision = 1;
constexpr uint8_t kFadtRevision = 6;
constexpr uint8_t kFadtMinorRevision = 5;
constexpr uint8_t kDsdtRevision = 2;
constexpr uint8_t kMadtRevision = 5;

// FADT fields (Table 5.9).
constexpr size_t kFadtDsdt = 40;
constexpr size_t kFadtIapcBootArch = 109;
constexpr size_t kFadtFlags = 112;
constexpr size_t kFadtMinorVersion = 131;
constexpr size_t kFadtXDsdt = 140;
constexpr size_t kFadtHypervisorVendor = 268;
constexpr uint32_t kFadtHwReducedAcpi = 1u << 20;
// IA-PC boot architecture flags (Table 5.11).
constexpr uint16_t kBootArch8042 = 1u << 1;
constexpr uint16_t kBootArchVgaNotPresent = 1u << 2;
constexpr uint16_t kBootArchCmosRtcNotPresent = 1u << 5;

// MADT (5.2.12) and its interrupt controller structures.
constexpr uint32_t kMadtPcatCompat = 1u << 0;
constexpr uint8_t kMadtLocalApic = 0;
constexpr uint8_t kMadtIoApic = 1;
constexpr uint8_t kMadtLocalApicNmi = 4;
constexpr uint8_t kLocalApicSize = 8;
constexpr uint8_t kIoApicSize = 12;
constexpr uint8_t kLocalApicNmiSize = 6;
constexpr uint32_t kLocalApicEnabled = 1u << 0;
constexpr uint8_t kAllProcessors = 0xff;

constexpr uint32_t kMaxCpus = 254;
constexpr uint64_t k4GiB = uint64_t{1} << 32;

constexpr char kOemId[] = "HVVMM ";       // 6 bytes
constexpr char kOemTableId[] = "HVTABLES";  // 8 bytes
constexpr char kCreatorId[] = "HV  ";      // 4 bytes

absl::Status Invalid(const std::string& why) {
  return absl::InvalidArgumentError("acpi: " + why);
}

// AML (ACPI 6.5, chapter 20) for the DSDT's body: a Device per UART in
// \_SB. Only what these objects need: names, packages up to 4 KiB long,
// DWord constants and buffers.
constexpr uint8_t kAmlNameOp = 0x08;
constexpr uint8_t kAmlBufferOp = 0x11;
constexpr uint8_t kAmlScopeOp = 0x10;
constexpr uint8_t kAmlExtOpPrefix = 0x5b;
constexpr uint8_t kAmlDeviceOp = 0x82;
constexpr uint8_t kAmlBytePrefix = 0x0a;
constexpr uint8_t kAmlDWordPrefix = 0x0c;
constexpr uint8_t kAmlRootChar = 0x5c;  // '\'
constexpr uint8_t kAmlZeroOp = 0x00;

// PkgLength (20.2.4) of a package whose contents after the PkgLength are
// `body` bytes: one byte up to 63, two bytes up to 4095 (the length counts
// the PkgLength bytes too).
std::vector<uint8_t> PkgLength(size_t body) {
  if (body + 1 < 64) return {static_cast<uint8_t>(body + 1)};
  const size_t total = body + 2;
  return {static_cast<uint8_t>(0x40 | (total & 0x0f)), static_cast<uint8_t>(total >> 4)};
}

void Append(std::vector<uint8_t>& out, const std::vector<uint8_t>& bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

// An opcode (one or two bytes) with a PkgLength and `body`.
std::vector<uint8_t> Package(std::vector<uint8_t> opcode, const std::vector<uint8_t>& body) {
  Append(opcode, PkgLength(body.size()));
  Append(opcode, body);
  return opcode;
}

std::vector<uint8_t> NameSeg(const char name[5]) {
  return std::vector<uint8_t>(name, name + 4);
}

// The Device whose objects are `body` and then Name(_CRS, Buffer() {
// `resources` }) (the resource template, 6.4, as a byte buffer).
std::vector<uint8_t> DeviceWithResources(std::vector<uint8_t> body,
                                         const std::vector<uint8_t>& resources) {
  std::vector<uint8_t> buffer = {kAmlBytePrefix, static_cast<uint8_t>(resources.size())};
  Append(buffer, resources);
  Append(body, {kAmlNameOp, '_', 'C', 'R', 'S'});
  Append(body, Package({kAmlBufferOp}, buffer));
  return Package({kAmlExtOpPrefix, kAmlDeviceOp}, body);
}

// Device(COMn) { Name(_HID, EisaId("PNP0501")) Name(_UID, n)
//   Name(_CRS, ResourceTemplate() { IO(Decode16, base, base, 1, 8)
//                                   IRQNoFlags() { irq } }) }
std::vector<uint8_t> SerialDevice(const AcpiSerialPort& port, uint8_t index) {
  std::vector<uint8_t> body = NameSeg("COM0");
  body[3] = static_cast<uint8_t>('1' + index);
  // _HID: the EISA id "PNP0501", compressed (6.1.5): three 5-bit letters
  // and four hex digits, stored big-endian.
  Append(body, {kAmlNameOp, '_', 'H', 'I', 'D', kAmlDWordPrefix, 0x41, 0xd0, 0x05, 0x01});
  Append(body, {kAmlNameOp, '_', 'U', 'I', 'D', kAmlBytePrefix,
                static_cast<uint8_t>(index + 1)});
  const uint8_t lo = static_cast<uint8_t>(port.io_base), hi = static_cast<uint8_t>(port.io_base >> 8);
  const uint16_t irq_mask = static_cast<uint16_t>(1u << port.irq);
  const std::vector<uint8_t> resources = {
      0x47, 0x01, lo, hi, lo, hi, 0x01, 0x08,  // I/O port: 16-bit decode, 8 ports
      0x22, static_cast<uint8_t>(irq_mask), static_cast<uint8_t>(irq_mask >> 8),  // IRQ
      0x79, 0x00,  // end tag (checksum 0: none)
  };
  return DeviceWithResources(std::move(body), resources);
}

void AppendLe16(std::vector<uint8_t>& out, uint16_t value) {
  out.push_back(static_cast<uint8_t>(value));
  out.push_back(static_cast<uint8_t>(value >> 8));
}

void AppendLe32(std::vector<uint8_t>& out, uint32_t value) {
  AppendLe16(out, static_cast<uint16_t>(value));
  AppendLe16(out, static_cast<uint16_t>(value >> 16));
}

// Address space descriptors (6.4.3.5.2-3): a range the bridge produces,
// min and max fixed, positive decode.
enum AddressSpace : uint8_t { kMemorySpace = 0, kIoSpace = 1, kBusNumberSpace = 2 };
constexpr uint8_t kMinMaxFixed = 0x0c;

void WordAddress(std::vector<uint8_t>& out, AddressSpace space, uint8_t type_flags,
                 uint16_t min, uint16_t max) {
  Append(out, {0x88, 13, 0, space, kMinMaxFixed, type_flags});
  AppendLe16(out, 0);  // granularity
  AppendLe16(out, min);
  AppendLe16(out, max);
  AppendLe16(out, 0);  // translation offset
  AppendLe16(out, static_cast<uint16_t>(max - min + 1));
}

void DWordMemory(std::vector<uint8_t>& out, uint32_t min, uint32_t size) {
  // Type flags: read/write, non-cacheable (a window for any BAR).
  Append(out, {0x87, 23, 0, kMemorySpace, kMinMaxFixed, 0x01});
  AppendLe32(out, 0);  // granularity
  AppendLe32(out, min);
  AppendLe32(out, min + size - 1);
  AppendLe32(out, 0);  // translation offset
  AppendLe32(out, size);
}

// Device(PCI0) { Name(_HID, EisaId("PNP0A03")) Name(_UID, 0) Name(_BBN, 0)
//   Name(_CRS, ResourceTemplate() { bus 0, I/O 0xcf8-0xcff (consumed),
//     I/O windows 0-0xcf7 and 0xd00-0xffff, the MMIO window }) }
std::vector<uint8_t> PciRootDevice(const AcpiPciRoot& root) {
  std::vector<uint8_t> body = NameSeg("PCI0");
  Append(body, {kAmlNameOp, '_', 'H', 'I', 'D', kAmlDWordPrefix, 0x41, 0xd0, 0x0a, 0x03});
  Append(body, {kAmlNameOp, '_', 'U', 'I', 'D', kAmlZeroOp});
  Append(body, {kAmlNameOp, '_', 'B', 'B', 'N', kAmlZeroOp});
  std::vector<uint8_t> resources;
  WordAddress(resources, kBusNumberSpace, 0, 0, 0);
  Append(resources, {0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08});
  constexpr uint8_t kEntireRange = 0x03;
  WordAddress(resources, kIoSpace, kEntireRange, 0x0000, 0x0cf7);
  WordAddress(resources, kIoSpace, kEntireRange, 0x0d00, 0xffff);
  DWordMemory(resources, root.mmio_base, root.mmio_size);
  Append(resources, {0x79, 0x00});
  return DeviceWithResources(std::move(body), resources);
}

std::vector<uint8_t> DsdtBody(const AcpiConfig& config) {
  if (config.serial_ports.empty() && !config.pci_root.has_value()) return {};
  std::vector<uint8_t> scope = {kAmlRootChar, '_', 'S', 'B', '_'};
  if (config.pci_root.has_value()) Append(scope, PciRootDevice(*config.pci_root));
  for (size_t i = 0; i < config.serial_ports.size(); ++i) {
    Append(scope, SerialDevice(config.serial_ports[i], static_cast<uint8_t>(i)));
  }
  return Package({kAmlScopeOp}, scope);
}

size_t AlignUp16(size_t offset) { return (offset + 15) & ~size_t{15}; }

// Writes a system description table header (5.2.6) at `table`; the
// checksum is filled in by Seal() once the table's body is written.
void Header(uint8_t* table, const char* signature, uint32_t length, uint8_t revision) {
  std::memcpy(table, signature, 4);
  StoreLe<uint32_t>(table + 4, length);
  table[8] = revision;
  std::memcpy(table + 10, kOemId, 6);
  std::memcpy(table + 16, kOemTableId, 8);
  StoreLe<uint32_t>(table + 24, 1);  // OEM revision
  std::memcpy(table + 28, kCreatorId, 4);
  StoreLe<uint32_t>(table + 32, 1);  // creator revision
}

void Seal(uint8_t* table) {
  table[9] = 0;
  table[9] = ChecksumByte(table, LoadLe<uint32_t>(table + 4));
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> BuildAcpiTables(const AcpiConfig& config,
                                                     GuestAddress address) {
  if (config.cpus == 0 || config.cpus > kMaxCpus) {
    return Invalid(absl::StrFormat(
        "%u CPUs; the MADT lists 1 to %u (8-bit APIC ids, one for the I/O APIC)",
        config.cpus, kMaxCpus));
  }
  if (config.serial_ports.size() > 9) {
    return Invalid(absl::StrFormat("%u UARTs; the DSDT names at most 9 (COM1-COM9)",
                                   config.serial_ports.size()));
  }
  for (const AcpiSerialPort& port : config.serial_ports) {
    if (port.irq > 15) {
      return Invalid(absl::StrFormat("UART at %#x on IRQ %u: ISA IRQs are 0-15", port.io_base,
                                     port.irq));
    }
  }
  if (config.pci_root.has_value() &&
      (config.pci_root->mmio_size == 0 ||
       uint64_t{config.pci_root->mmio_base} + config.pci_root->mmio_size > k4GiB)) {
    return Invalid(absl::StrFormat("the PCI MMIO window [%#x, +%#x) is empty or passes 4 GiB",
                                   config.pci_root->mmio_base, config.pci_root->mmio_size));
  }
  if (address % 16 != 0) {
    return Invalid(absl::StrFormat("address %#x is not 16-byte aligned", address));
  }
  // Where each table goes, relative to `address`.
  const size_t xsdt = AlignUp16(kRsdpSize);
  const size_t xsdt_size = kHeaderSize + 2 * 8;  // FADT, MADT
  const size_t fadt = AlignUp16(xsdt + xsdt_size);
  const size_t dsdt = AlignUp16(fadt + kFadtSize);
  const std::vector<uint8_t> aml = DsdtBody(config);
  const size_t dsdt_size = kHeaderSize + aml.size();
  const size_t madt = AlignUp16(dsdt + dsdt_size);
  const size_t madt_size = kMadtFixedSize + config.cpus * kLocalApicSize + kIoApicSize +
                           kLocalApicNmiSize;
  const size_t size = madt + madt_size;
  if (size > config.room) {
    return Invalid(absl::StrFormat("%u bytes of tables for %u CPUs do not fit the %u bytes of room",
                                   size, config.cpus, config.room));
  }
  if (address + size > k4GiB) {
    return Invalid(absl::StrFormat("address %#x is not below 4 GiB", address));
  }

  std::vector<uint8_t> bytes(size, 0);
  uint8_t* b = bytes.data();

  // MADT: the local APICs, the I/O APIC, LINT1 as NMI everywhere.
  uint8_t* m = b + madt;
  Header(m, "APIC", static_cast<uint32_t>(madt_size), kMadtRevision);
  StoreLe<uint32_t>(m + 36, static_cast<uint32_t>(config.lapic_address));
  StoreLe<uint32_t>(m + 40, kMadtPcatCompat);
  uint8_t* e = m + kMadtFixedSize;
  for (uint32_t cpu = 0; cpu < config.cpus; ++cpu, e += kLocalApicSize) {
    e[0] = kMadtLocalApic;
    e[1] = kLocalApicSize;
    e[2] = static_cast<uint8_t>(cpu);  // ACPI processor UID
    e[3] = static_cast<uint8_t>(cpu);  // APIC id
    StoreLe<uint32_t>(e + 4, kLocalApicEnabled);
  }
  e[0] = kMadtIoApic;
  e[1] = kIoApicSize;
  e[2] = static_cast<uint8_t>(config.cpus);  // I/O APIC id: after the CPUs
  StoreLe<uint32_t>(e + 4, static_cast<uint32_t>(config.ioapic_address));
  StoreLe<uint32_t>(e + 8, 0);  // GSI base
  e += kIoApicSize;
  e[0] = kMadtLocalApicNmi;
  e[1] = kLocalApicNmiSize;
  e[2] = kAllProcessors;
  StoreLe<uint16_t>(e + 3, 0);  // polarity and trigger: as the bus says
  e[5] = 1;                     // LINT1
  Seal(m);

  // DSDT: the UARTs.
  Header(b + dsdt, "DSDT", static_cast<uint32_t>(dsdt_size), kDsdtRevision);
  std::copy(aml.begin(), aml.end(), b + dsdt + kHeaderSize);
  Seal(b + dsdt);

  // FADT: hardware-reduced, pointing at the DSDT.
  uint8_t* f = b + fadt;
  Header(f, "FACP", kFadtSize, kFadtRevision);
  StoreLe<uint32_t>(f + kFadtDsdt, static_cast<uint32_t>(address + dsdt));
  StoreLe<uint64_t>(f + kFadtXDsdt, address + dsdt);
  StoreLe<uint16_t>(f + kFadtIapcBootArch,
                    kBootArch8042 | kBootArchVgaNotPresent | kBootArchCmosRtcNotPresent);
  StoreLe<uint32_t>(f + kFadtFlags, kFadtHwReducedAcpi);
  f[kFadtMinorVersion] = kFadtMinorRevision;
  std::memcpy(f + kFadtHypervisorVendor, "HVVMM   ", 8);
  Seal(f);

  // XSDT: the FADT and the MADT.
  uint8_t* x = b + xsdt;
  Header(x, "XSDT", static_cast<uint32_t>(xsdt_size), kXsdtRevision);
  StoreLe<uint64_t>(x + kHeaderSize, address + fadt);
  StoreLe<uint64_t>(x + kHeaderSize + 8, address + madt);
  Seal(x);

  // RSDP (5.2.5.3): revision 2, the XSDT only (RsdtAddress 0).
  std::memcpy(b, "RSD PTR ", 8);
  std::memcpy(b + 9, kOemId, 6);
  b[15] = kRsdpRevision;
  StoreLe<uint32_t>(b + 20, kRsdpSize);
  StoreLe<uint64_t>(b + 24, address + xsdt);
  b[8] = ChecksumByte(b, 20);           // the ACPI 1.0 part
  b[32] = ChecksumByte(b, kRsdpSize);   // all of it
  return bytes;
}

}  // namespace hv
