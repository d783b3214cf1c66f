#include "linux_boot/arm64_fdt.h"

extern "C" {
#include <libfdt.h>
}

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "linux_boot/arm64_layout.h"

namespace hv {
namespace {

using Range = Arm64FdtConfig::Range;

constexpr uint32_t kGicPhandle = 1;
constexpr uint32_t kItsPhandle = 2;

// GICv3 interrupt specifier cells (arm,gic-v3.yaml).
constexpr uint32_t kSpi = 0;
constexpr uint32_t kPpi = 1;
constexpr uint32_t kLevelHigh = 4;
constexpr uint32_t kLevelLow = 8;
// Architected timer PPIs (arm,arch_timer.yaml order: secure physical,
// non-secure physical, virtual, hypervisor), as KVM and QEMU's virt board
// wire them.
constexpr uint32_t kTimerPpis[] = {13, 14, 11, 10};

// GICv3 architecture: each redistributor is two 64 KiB frames (RD_base and
// SGI_base).
constexpr uint64_t kRedistributorSize = 0x20000;
// MPIDR_EL1 affinity fields: Aff3 [39:32], Aff2..Aff0 [23:0].
constexpr uint64_t kMpidrAffinityMask = 0xff00ffffffull;
// PCI Express ECAM: 1 MiB of configuration space per bus, 256 buses.
constexpr uint64_t kEcamBusSize = uint64_t{1} << 20;
constexpr uint64_t kEcamMaxBuses = 256;
// phys.hi of a PCI address (IEEE 1275 PCI bus binding, 2.2.1.1): space
// code 10 is 32-bit memory, 11 is 64-bit memory.
constexpr uint32_t kPciMem32 = 0x02000000;
constexpr uint32_t kPciMem64 = 0x03000000;

absl::Status Invalid(const std::string& why) {
  return absl::InvalidArgumentError("device tree: " + why);
}

uint32_t Hi(uint64_t value) { return static_cast<uint32_t>(value >> 32); }
uint32_t Lo(uint64_t value) { return static_cast<uint32_t>(value); }

absl::Status CheckRange(const char* what, const Range& range) {
  if (range.size == 0 || range.base > UINT64_MAX - range.size) {
    return Invalid(absl::StrFormat("the %s range [%#x, +%#x) is empty or passes 2^64", what,
                                   range.base, range.size));
  }
  return absl::OkStatus();
}

// libfdt's sequential writer over a kArm64MaxFdtSize buffer; the first
// failing call is kept and reported by Finish().
class FdtWriter {
 public:
  FdtWriter() : buffer_(kArm64MaxFdtSize) {
    Check(fdt_create(buffer_.data(), static_cast<int>(buffer_.size())));
    Check(fdt_finish_reservemap(buffer_.data()));
  }

  void Begin(const std::string& name) { Check(fdt_begin_node(buffer_.data(), name.c_str())); }
  void End() { Check(fdt_end_node(buffer_.data())); }
  void Cells(const char* name, std::initializer_list<uint32_t> cells) {
    Cells(name, std::vector<uint32_t>(cells));
  }
  void Cells(const char* name, const std::vector<uint32_t>& cells) {
    std::vector<fdt32_t> big_endian;
    for (uint32_t cell : cells) big_endian.push_back(cpu_to_fdt32(cell));
    Check(fdt_property(buffer_.data(), name, big_endian.data(),
                       static_cast<int>(big_endian.size() * sizeof(fdt32_t))));
  }
  // A 64-bit address and size pair, for #address-cells = #size-cells = 2.
  void Reg(const Range& range) {
    Cells("reg", {Hi(range.base), Lo(range.base), Hi(range.size), Lo(range.size)});
  }
  void String(const char* name, const std::string& value) {
    Check(fdt_property_string(buffer_.data(), name, value.c_str()));
  }
  // A string list: each string with its NUL, one after the other.
  void Strings(const char* name, std::initializer_list<const char*> values) {
    std::string joined;
    for (const char* value : values) joined.append(value).push_back('\0');
    Check(fdt_property(buffer_.data(), name, joined.data(), static_cast<int>(joined.size())));
  }
  void Empty(const char* name) { Check(fdt_property(buffer_.data(), name, nullptr, 0)); }
  void U64(const char* name, uint64_t value) {
    Check(fdt_property_u64(buffer_.data(), name, value));
  }

  absl::StatusOr<std::vector<uint8_t>> Finish() {
    Check(fdt_finish(buffer_.data()));
    if (error_ == -FDT_ERR_NOSPACE) {
      return Invalid(absl::StrFormat(
          "larger than the %u bytes booting.rst allows (a very long command line?)",
          kArm64MaxFdtSize));
    }
    if (error_ != 0) {
      return absl::InternalError(
          absl::StrFormat("device tree: libfdt failed: %s", fdt_strerror(error_)));
    }
    buffer_.resize(fdt_totalsize(buffer_.data()));
    return std::move(buffer_);
  }

 private:
  void Check(int result) {
    if (result < 0 && error_ == 0) error_ = result;
  }

  std::vector<uint8_t> buffer_;
  int error_ = 0;
};

std::string NodeName(const char* name, uint64_t address) {
  return absl::StrFormat("%s@%x", name, address);
}

absl::Status CheckConfig(const Arm64FdtConfig& c) {
  if (c.cpu_mpidrs.empty()) return Invalid("no CPUs");
  for (uint64_t mpidr : c.cpu_mpidrs) {
    if ((mpidr & ~kMpidrAffinityMask) != 0) {
      return Invalid(absl::StrFormat(
          "MPIDR %#x has bits outside Aff3 [39:32] and Aff2..Aff0 [23:0]", mpidr));
    }
  }
  if (c.ram_size == 0 || c.ram_base > UINT64_MAX - c.ram_size) {
    return Invalid(absl::StrFormat("RAM [%#x, +%#x) is empty or passes 2^64", c.ram_base,
                                   c.ram_size));
  }
  if (absl::Status s = CheckRange("GIC distributor", c.gic.distributor); !s.ok()) return s;
  if (absl::Status s = CheckRange("GIC redistributor", c.gic.redistributors); !s.ok()) {
    return s;
  }
  if (c.gic.redistributors.size / kRedistributorSize < c.cpu_mpidrs.size()) {
    return Invalid(absl::StrFormat(
        "%#x bytes of GIC redistributors hold fewer than the %u CPUs' 128 KiB each",
        c.gic.redistributors.size, c.cpu_mpidrs.size()));
  }
  if (c.gic.its.has_value()) {
    if (absl::Status s = CheckRange("GIC ITS", *c.gic.its); !s.ok()) return s;
  }
  if (c.uart.has_value()) {
    if (absl::Status s = CheckRange("UART", c.uart->registers); !s.ok()) return s;
  }
  if (c.pci.has_value()) {
    if (absl::Status s = CheckRange("PCI ECAM", c.pci->ecam); !s.ok()) return s;
    if (c.pci->ecam.size % kEcamBusSize != 0 ||
        c.pci->ecam.size > kEcamMaxBuses * kEcamBusSize) {
      return Invalid(absl::StrFormat(
          "PCI ECAM size %#x is not 1 to 256 buses of 1 MiB each", c.pci->ecam.size));
    }
    if (absl::Status s = CheckRange("PCI memory window", c.pci->mmio); !s.ok()) return s;
    if (c.pci->mmio64.has_value()) {
      if (absl::Status s = CheckRange("PCI 64-bit memory window", *c.pci->mmio64); !s.ok()) {
        return s;
      }
    }
  }
  if (c.initrd.has_value()) {
    if (absl::Status s = CheckRange("initrd", *c.initrd); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void WriteCpus(FdtWriter& fdt, const std::vector<uint64_t>& mpidrs) {
  fdt.Begin("cpus");
  fdt.Cells("#address-cells", {2});
  fdt.Cells("#size-cells", {0});
  for (uint64_t mpidr : mpidrs) {
    fdt.Begin(NodeName("cpu", mpidr));
    fdt.String("device_type", "cpu");
    fdt.String("compatible", "arm,arm-v8");
    fdt.String("enable-method", "psci");
    fdt.Cells("reg", {Hi(mpidr), Lo(mpidr)});
    fdt.End();
  }
  fdt.End();
}

void WriteGic(FdtWriter& fdt, const Arm64FdtConfig::Gicv3& gic) {
  fdt.Begin(NodeName("intc", gic.distributor.base));
  fdt.String("compatible", "arm,gic-v3");
  fdt.Empty("interrupt-controller");
  fdt.Cells("#interrupt-cells", {3});
  fdt.Cells("reg", {Hi(gic.distributor.base), Lo(gic.distributor.base),
                    Hi(gic.distributor.size), Lo(gic.distributor.size),
                    Hi(gic.redistributors.base), Lo(gic.redistributors.base),
                    Hi(gic.redistributors.size), Lo(gic.redistributors.size)});
  fdt.Cells("phandle", {kGicPhandle});
  fdt.Cells("#address-cells", {2});
  fdt.Cells("#size-cells", {2});
  fdt.Empty("ranges");
  if (gic.its.has_value()) {
    fdt.Begin(NodeName("msi-controller", gic.its->base));
    fdt.String("compatible", "arm,gic-v3-its");
    fdt.Empty("msi-controller");
    fdt.Cells("#msi-cells", {1});
    fdt.Reg(*gic.its);
    fdt.Cells("phandle", {kItsPhandle});
    fdt.End();
  }
  fdt.End();
}

void WriteTimer(FdtWriter& fdt) {
  fdt.Begin("timer");
  fdt.String("compatible", "arm,armv8-timer");
  std::vector<uint32_t> interrupts;
  for (uint32_t ppi : kTimerPpis) interrupts.insert(interrupts.end(), {kPpi, ppi, kLevelLow});
  fdt.Cells("interrupts", interrupts);
  fdt.Empty("always-on");
  fdt.End();
}

void WriteUart(FdtWriter& fdt, const Arm64FdtConfig::Uart& uart) {
  fdt.Begin(NodeName("uart", uart.registers.base));
  fdt.String("compatible", "ns16550a");
  fdt.Reg(uart.registers);
  fdt.Cells("interrupts", {kSpi, uart.spi, kLevelHigh});
  fdt.Cells("clock-frequency", {uart.clock_hz});
  fdt.End();
}

void WritePci(FdtWriter& fdt, const Arm64FdtConfig::PciEcam& pci, bool has_its) {
  fdt.Begin(NodeName("pcie", pci.ecam.base));
  fdt.String("compatible", "pci-host-ecam-generic");
  fdt.String("device_type", "pci");
  fdt.Reg(pci.ecam);
  fdt.Cells("bus-range", {0, static_cast<uint32_t>(pci.ecam.size / kEcamBusSize - 1)});
  fdt.Cells("#address-cells", {3});
  fdt.Cells("#size-cells", {2});
  fdt.Cells("linux,pci-domain", {0});
  std::vector<uint32_t> ranges = {kPciMem32,        Hi(pci.mmio.base), Lo(pci.mmio.base),
                                  Hi(pci.mmio.base), Lo(pci.mmio.base), Hi(pci.mmio.size),
                                  Lo(pci.mmio.size)};
  if (pci.mmio64.has_value()) {
    const Range& m = *pci.mmio64;
    ranges.insert(ranges.end(),
                  {kPciMem64, Hi(m.base), Lo(m.base), Hi(m.base), Lo(m.base), Hi(m.size),
                   Lo(m.size)});
  }
  fdt.Cells("ranges", ranges);
  fdt.Empty("dma-coherent");
  // Requester IDs 0..0xffff map one to one onto the ITS's device IDs.
  if (has_its) fdt.Cells("msi-map", {0, kItsPhandle, 0, 0x10000});
  fdt.End();
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> BuildArm64Fdt(const Arm64FdtConfig& c) {
  if (absl::Status s = CheckConfig(c); !s.ok()) return s;
  FdtWriter fdt;
  fdt.Begin("");
  fdt.String("compatible", "linux,dummy-virt");
  fdt.Cells("#address-cells", {2});
  fdt.Cells("#size-cells", {2});
  fdt.Cells("interrupt-parent", {kGicPhandle});

  fdt.Begin("chosen");
  fdt.String("bootargs", c.bootargs);
  if (c.uart.has_value()) {
    fdt.String("stdout-path", "/" + NodeName("uart", c.uart->registers.base));
  }
  if (c.initrd.has_value()) {
    fdt.U64("linux,initrd-start", c.initrd->base);
    fdt.U64("linux,initrd-end", c.initrd->base + c.initrd->size);
  }
  if (c.pci.has_value() && c.pci->probe_only) fdt.Cells("linux,pci-probe-only", {1});
  fdt.End();

  fdt.Begin(NodeName("memory", c.ram_base));
  fdt.String("device_type", "memory");
  fdt.Reg(Range{c.ram_base, c.ram_size});
  fdt.End();

  WriteCpus(fdt, c.cpu_mpidrs);
  fdt.Begin("psci");
  fdt.Strings("compatible", {"arm,psci-1.0", "arm,psci-0.2"});
  fdt.String("method", "hvc");
  fdt.End();
  WriteGic(fdt, c.gic);
  WriteTimer(fdt);
  if (c.uart.has_value()) WriteUart(fdt, *c.uart);
  if (c.pci.has_value()) WritePci(fdt, *c.pci, c.gic.its.has_value());
  fdt.End();
  return fdt.Finish();
}

}  // namespace hv
