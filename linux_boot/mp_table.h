// An Intel MultiProcessor Specification 1.4 table: how a guest without ACPI
// learns its CPUs (by local APIC id), its I/O APIC and how ISA and PCI
// interrupts reach the I/O APIC's pins. Linux reads it at boot (it looks in
// the last KiB of base memory, among other places) and starts every listed
// CPU with INIT/SIPI.
//
// BuildMpTable() returns the bytes to copy to guest-physical `address`: the
// MP floating pointer structure (MP spec 4.1) followed by the configuration
// table (4.2) with one processor entry per vCPU (APIC id = index, index 0
// the bootstrap processor), a PCI bus (id 0) and an ISA bus (id 1), one I/O
// APIC, ISA IRQs 0-15 on pins 0-15, the given PCI INTx routes, and the local
// interrupts: LINT0 ExtINT, LINT1 NMI (the virtual-wire set-up of 3.6.2.2).
//
// Example:
//   hv::MpTableConfig config;
//   config.cpus = 2;
//   ASSIGN_OR_RETURN(std::vector<uint8_t> table,
//                    hv::BuildMpTable(config, hv::kLinuxMpTable));
//   std::memcpy(ram + hv::kLinuxMpTable, table.data(), table.size());
#ifndef HV_LINUX_BOOT_MP_TABLE_H_
#define HV_LINUX_BOOT_MP_TABLE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "hypervisor/memory.h"

namespace hv {

// One PCI device's INTx line routed to an I/O APIC pin (MP spec 4.3.4 and
// D.3: the source bus IRQ is device << 2 | pin, pin 0 = INTA#).
struct MpPciRoute {
  uint8_t device = 0;  // on bus 0
  uint8_t pin = 0;     // 0..3 for INTA#..INTD#
  uint8_t ioapic_pin = 0;
};

struct MpTableConfig {
  uint32_t cpus = 1;
  // CPUID.1:EAX and CPUID.1:EDX of the vCPUs (processor entries, 4.3.1).
  uint32_t cpu_signature = 0x600;
  uint32_t cpu_features = 0x201;  // FPU, APIC
  // KVM's in-kernel LAPIC and IOAPIC report these versions.
  uint8_t lapic_version = 0x14;
  uint8_t ioapic_version = 0x11;
  uint32_t ioapic_pins = 24;
  GuestAddress lapic_address = 0xfee00000;
  GuestAddress ioapic_address = 0xfec00000;
  std::vector<MpPciRoute> pci_routes;
  // The most bytes the table may take at its address.
  uint64_t room = 0x400;
};

// BuildMpTable(): the table for `config`, to be placed at `address`
// (which the floating pointer names). INVALID_ARGUMENT "mp table: ..." for
// no CPUs, more CPUs than 8-bit APIC ids allow (the I/O APIC takes the id
// after the last CPU), a PCI route to a pin the I/O APIC lacks, an address
// above 4 GiB, or a table larger than `room`.
absl::StatusOr<std::vector<uint8_t>> BuildMpTable(const MpTableConfig& config,
                                                  GuestAddress address);

}  // namespace hv

#endif  // HV_LINUX_BOOT_MP_TABLE_H_
