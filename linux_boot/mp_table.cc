#include "linux_boot/mp_table.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "linux_boot/le_bytes.h"

namespace hv {
namespace {

// Sizes and codes of the MultiProcessor Specification 1.4.
constexpr size_t kFloatingPointerSize = 16;  // 4.1
constexpr size_t kHeaderSize = 44;           // 4.2, Table 4-2
constexpr size_t kProcessorEntrySize = 20;   // 4.3.1
constexpr size_t kEntrySize = 8;             // bus, I/O APIC, interrupts
constexpr uint8_t kSpecRevision = 4;         // 1.4
enum EntryType : uint8_t {
  kProcessor = 0,
  kBus = 1,
  kIoApic = 2,
  kIoInterrupt = 3,
  kLocalInterrupt = 4,
};
enum InterruptType : uint8_t { kInt = 0, kNmi = 1, kExtInt = 3 };
constexpr uint8_t kCpuEnabled = 1 << 0;
constexpr uint8_t kCpuBootstrap = 1 << 1;
constexpr uint8_t kIoApicEnabled = 1 << 0;
constexpr uint8_t kPciBus = 0;
constexpr uint8_t kIsaBus = 1;
constexpr uint8_t kIsaIrqs = 16;
constexpr uint8_t kAllLocalApics = 0xff;
// 8-bit APIC ids, one of which the I/O APIC takes.
constexpr uint32_t kMaxCpus = 254;
// The floating pointer holds a 32-bit address.
constexpr uint64_t k4GiB = uint64_t{1} << 32;

absl::Status Invalid(const std::string& why) {
  return absl::InvalidArgumentError("mp table: " + why);
}

// Appends zeroed entries to the table; a pointer Append() returns is valid
// until the next Append().
class TableWriter {
 public:
  explicit TableWriter(std::vector<uint8_t>& bytes) : bytes_(bytes) {}
  uint8_t* Append(size_t size) {
    bytes_.resize(bytes_.size() + size, 0);
    return bytes_.data() + bytes_.size() - size;
  }
  void Interrupt(EntryType type, InterruptType kind, uint8_t bus,
                 uint8_t bus_irq, uint8_t destination, uint8_t pin) {
    uint8_t* e = Append(kEntrySize);
    e[0] = type;
    e[1] = kind;
    StoreLe<uint16_t>(e + 2, 0);  // polarity and trigger: as the bus says
    e[4] = bus;
    e[5] = bus_irq;
    e[6] = destination;
    e[7] = pin;
  }

 private:
  std::vector<uint8_t>& bytes_;
};

}  // namespace

absl::StatusOr<std::vector<uint8_t>> BuildMpTable(const MpTableConfig& config,
                                                  GuestAddress address) {
  if (config.cpus == 0 || config.cpus > kMaxCpus) {
    return Invalid(absl::StrFormat(
        "%u CPUs; an MP table lists 1 to %u (8-bit APIC ids, one for the I/O "
        "APIC)",
        config.cpus, kMaxCpus));
  }
  if (config.ioapic_pins < kIsaIrqs || config.ioapic_pins > 240) {
    return Invalid(absl::StrFormat(
        "an I/O APIC with %u pins; ISA IRQs need 16 and the table allows 240",
        config.ioapic_pins));
  }
  for (const MpPciRoute& route : config.pci_routes) {
    if (route.device > 31 || route.pin > 3 ||
        route.ioapic_pin >= config.ioapic_pins) {
      return Invalid(absl::StrFormat(
          "PCI route 00:%02x INT%c# -> I/O APIC pin %u is out of range "
          "(devices 0-31, INTA#-INTD#, pins 0-%u)",
          route.device, 'A' + (route.pin & 3), route.ioapic_pin,
          config.ioapic_pins - 1));
    }
  }
  const size_t entries = config.cpus + 2 /* buses */ + 1 /* I/O APIC */ +
                         kIsaIrqs + config.pci_routes.size() + 2 /* LINTs */;
  const size_t size = kFloatingPointerSize + kHeaderSize +
                      config.cpus * kProcessorEntrySize +
                      (entries - config.cpus) * kEntrySize;
  if (size > config.room) {
    return Invalid(absl::StrFormat(
        "%u bytes for %u CPUs do not fit the %u bytes of room", size,
        config.cpus, config.room));
  }
  if (address + size > k4GiB) {
    return Invalid(absl::StrFormat("address %#x is not below 4 GiB", address));
  }

  std::vector<uint8_t> bytes;
  bytes.reserve(size);
  TableWriter table(bytes);
  table.Append(kFloatingPointerSize + kHeaderSize);
  const uint8_t ioapic_id = static_cast<uint8_t>(config.cpus);
  for (uint32_t cpu = 0; cpu < config.cpus; ++cpu) {
    uint8_t* e = table.Append(kProcessorEntrySize);
    e[0] = kProcessor;
    e[1] = static_cast<uint8_t>(cpu);  // local APIC id
    e[2] = config.lapic_version;
    e[3] = kCpuEnabled | (cpu == 0 ? kCpuBootstrap : 0);
    StoreLe<uint32_t>(e + 4, config.cpu_signature);
    StoreLe<uint32_t>(e + 8, config.cpu_features);
  }
  for (auto [id, name] : {std::pair<uint8_t, const char*>{kPciBus, "PCI   "},
                          {kIsaBus, "ISA   "}}) {
    uint8_t* e = table.Append(kEntrySize);
    e[0] = kBus;
    e[1] = id;
    std::memcpy(e + 2, name, 6);
  }
  uint8_t* ioapic = table.Append(kEntrySize);
  ioapic[0] = kIoApic;
  ioapic[1] = ioapic_id;
  ioapic[2] = config.ioapic_version;
  ioapic[3] = kIoApicEnabled;
  StoreLe<uint32_t>(ioapic + 4, static_cast<uint32_t>(config.ioapic_address));
  for (uint8_t irq = 0; irq < kIsaIrqs; ++irq) {
    table.Interrupt(kIoInterrupt, kInt, kIsaBus, irq, ioapic_id, irq);
  }
  for (const MpPciRoute& route : config.pci_routes) {
    table.Interrupt(kIoInterrupt, kInt, kPciBus,
                    static_cast<uint8_t>(route.device << 2 | route.pin),
                    ioapic_id, route.ioapic_pin);
  }
  table.Interrupt(kLocalInterrupt, kExtInt, kIsaBus, 0, kAllLocalApics, 0);
  table.Interrupt(kLocalInterrupt, kNmi, kIsaBus, 0, kAllLocalApics, 1);

  // The floating pointer (4.1, Table 4-1) names the configuration table.
  uint8_t* pointer = bytes.data();
  std::memcpy(pointer, "_MP_", 4);
  StoreLe<uint32_t>(pointer + 4,
                    static_cast<uint32_t>(address + kFloatingPointerSize));
  pointer[8] = 1;  // length in 16-byte paragraphs
  pointer[9] = kSpecRevision;
  // Feature bytes 1-5 zero: the configuration table is present; virtual
  // wire mode (no IMCR).
  pointer[10] = ChecksumByte(pointer, kFloatingPointerSize);

  // The configuration table header (4.2, Table 4-2).
  uint8_t* header = pointer + kFloatingPointerSize;
  const size_t table_size = size - kFloatingPointerSize;
  std::memcpy(header, "PCMP", 4);
  StoreLe<uint16_t>(header + 4, static_cast<uint16_t>(table_size));
  header[6] = kSpecRevision;
  std::memcpy(header + 8, "HV      ", 8);               // OEM id
  std::memcpy(header + 16, "HV VMM      ", 12);         // product id
  StoreLe<uint16_t>(header + 34, static_cast<uint16_t>(entries));
  StoreLe<uint32_t>(header + 36, static_cast<uint32_t>(config.lapic_address));
  header[7] = ChecksumByte(header, table_size);
  return bytes;
}

}  // namespace hv
