// The ACPI tables a firmware-less x86 VMM gives its guest so the guest finds
// its CPUs and interrupt controllers: RSDP -> XSDT -> FADT (+ DSDT) and MADT
// (ACPI 6.5, sections 5.2.5 to 5.2.12). Kernels built without MP-table
// support (CONFIG_X86_MPPARSE off, as in Debian's cloud kernels) need these
// to start more than one CPU.
//
// The FADT declares a hardware-reduced platform (no PM timer, no SCI, no
// fixed-feature hardware: 5.2.9, Flags bit 20) with an 8042 and without
// VGA or a CMOS RTC (IA-PC boot architecture flags, 5.2.9.3). A guest
// then sets up no legacy (ISA) interrupts of its own, so the DSDT
// describes each 16550 UART as a PNP0501 device whose _CRS names its I/O
// ports and interrupt (6.4.2.1 IRQ, 6.4.2.5 I/O Port descriptors). With
// ACPI a guest also finds PCI only through a root bridge the DSDT names,
// so a PNP0A03 device describes bus 0: configuration mechanism #1 on ports
// 0xcf8-0xcff, the I/O port window around them and the MMIO window for
// BARs (6.4.3.5 address space descriptors). The MADT lists one enabled local APIC per vCPU
// (APIC id = ACPI processor UID = index), the I/O APIC with GSI base 0, and
// LINT1 as NMI on every processor; flags say PC-AT dual 8259s are present.
//
// BuildAcpiTables() returns the tables as one block to copy to guest-physical
// `address`, the RSDP first (so `address` is what the guest looks for: in
// [0xE0000, 0xFFFFF] on a 16-byte boundary, or given in the zero page's
// acpi_rsdp_addr).
//
// Example:
//   hv::AcpiConfig acpi;
//   acpi.cpus = 2;
//   ASSIGN_OR_RETURN(std::vector<uint8_t> tables,
//                    hv::BuildAcpiTables(acpi, hv::kLinuxAcpiTables));
//   std::memcpy(ram + hv::kLinuxAcpiTables, tables.data(), tables.size());
#ifndef HV_LINUX_BOOT_ACPI_TABLES_H_
#define HV_LINUX_BOOT_ACPI_TABLES_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "hypervisor/memory.h"

namespace hv {

// A 16550-compatible UART for the DSDT: eight I/O ports and an ISA IRQ
// (edge-triggered, active high).
struct AcpiSerialPort {
  uint16_t io_base = 0x3f8;
  uint8_t irq = 4;
};

// PCI bus 0 behind configuration ports 0xcf8-0xcff, with BARs in
// [mmio_base, mmio_base + mmio_size).
struct AcpiPciRoot {
  uint32_t mmio_base = 0xc0000000;
  uint32_t mmio_size = 0x3ec00000;  // up to the IOAPIC at 0xfec00000
};

struct AcpiConfig {
  uint32_t cpus = 1;
  std::optional<AcpiPciRoot> pci_root = AcpiPciRoot{};
  std::vector<AcpiSerialPort> serial_ports = {AcpiSerialPort{}};
  GuestAddress lapic_address = 0xfee00000;
  GuestAddress ioapic_address = 0xfec00000;
  // The most bytes the tables may take at their address.
  uint64_t room = 0x10000;
};

// BuildAcpiTables(): INVALID_ARGUMENT "acpi: ..." for no CPUs or more than
// 8-bit APIC ids allow (the I/O APIC takes the id after the last CPU), more
// than 9 UARTs or a UART IRQ above 15, an empty or wrapping PCI window, a
// 16-byte-unaligned or above-4-GiB address, or tables larger than `room`.
absl::StatusOr<std::vector<uint8_t>> BuildAcpiTables(const AcpiConfig& config,
                                                     GuestAddress address);

}  // namespace hv

#endif  // HV_LINUX_BOOT_ACPI_TABLES_H_
