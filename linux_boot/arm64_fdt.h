// BuildArm64Fdt(): the flattened device tree an arm64 Linux guest boots
// with (x0 at entry), written with libfdt's sequential-write API: memory,
// CPUs started through PSCI (HVC conduit), the GICv3 (and its ITS), the
// architected timer, a 16550 UART on MMIO, a generic ECAM PCI host bridge
// and /chosen (command line, initrd, console). Bindings:
// Documentation/devicetree/bindings/ in the kernel tree (arm/cpus.yaml,
// arm/psci.yaml, interrupt-controller/arm,gic-v3.yaml, timer/arm,arch_timer
// .yaml, serial/8250.yaml, pci/host-generic-pci.yaml); booting.rst for the
// 2 MiB limit. Interrupt specifiers are GICv3's three cells: type (0 SPI,
// 1 PPI), number, flags (4 level high, 8 level low).
//
// Example:
//   hv::Arm64FdtConfig config;
//   config.ram_base = 0x40000000;
//   config.ram_size = 512 << 20;
//   config.cpu_mpidrs = {0, 1};
//   config.gic = {0x08000000, 0x10000, 0x080a0000, 2 * 0x20000};
//   config.bootargs = "console=ttyS0";
//   ASSIGN_OR_RETURN(std::vector<uint8_t> fdt, hv::BuildArm64Fdt(config));
//   // Copy fdt to layout.fdt (arm64_layout.h); x0 = layout.fdt at entry.
#ifndef HV_LINUX_BOOT_ARM64_FDT_H_
#define HV_LINUX_BOOT_ARM64_FDT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace hv {

struct Arm64FdtConfig {
  struct Range {
    uint64_t base = 0;
    uint64_t size = 0;
  };
  struct Gicv3 {
    Range distributor;
    // One 128 KiB redistributor frame pair per vCPU.
    Range redistributors;
    // The ITS, for MSIs (PCI devices' msi-map points at it).
    std::optional<Range> its;
  };
  struct Uart {
    Range registers;      // byte-wide 16550 registers
    uint32_t spi = 0;     // SPI number (GIC INTID - 32), level high
    uint32_t clock_hz = 1843200;
  };
  struct PciEcam {
    Range ecam;               // 1 MiB of configuration space per bus
    Range mmio;               // 32-bit memory window, PCI address = CPU address
    std::optional<Range> mmio64;  // 64-bit prefetchable-free window, the same
    // The VMM has assigned every BAR, as firmware would: /chosen's
    // linux,pci-probe-only tells Linux to keep them rather than reassign.
    bool probe_only = false;
  };

  uint64_t ram_base = 0;
  uint64_t ram_size = 0;
  // MPIDR_EL1 affinity (Aff3 in bits 39:32, Aff2..Aff0 in bits 23:0) of each
  // vCPU, in vCPU order; at least one.
  std::vector<uint64_t> cpu_mpidrs;
  Gicv3 gic;
  std::optional<Uart> uart;       // also /chosen's stdout-path
  std::optional<PciEcam> pci;
  std::string bootargs;
  std::optional<Range> initrd;
};

// BuildArm64Fdt(): the device tree, at most kArm64MaxFdtSize bytes;
// INVALID_ARGUMENT "device tree: ..." for a config it cannot describe (no
// CPUs or RAM, an empty or misaligned GIC, ECAM or UART range, ranges that
// pass 2^64) or a tree larger than 2 MiB (a very long command line).
absl::StatusOr<std::vector<uint8_t>> BuildArm64Fdt(const Arm64FdtConfig& config);

}  // namespace hv

#endif  // HV_LINUX_BOOT_ARM64_FDT_H_
