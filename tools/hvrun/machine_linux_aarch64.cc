// Machine::CreateLinux on aarch64 Linux hosts (machine.h, "Linux guests"): a
// small "virt"-like board that boots an arm64 `Image` the way booting.rst
// asks (x0 = the device tree, MMU off, EL1h), built from linux_boot/
// (Image header, layout, libfdt device tree) and devices/ (a 16550 on
// MMIO) over the hv API, with the in-kernel GICv3 and PSCI: vCPU 0 enters
// the kernel, the others start powered off until the guest's CPU_ON. A
// machine made for a restore (MachineOptions::state_from_snapshot) is the
// same board with no images loaded and no boot registers set: the snapshot
// brings the RAM, the vCPUs' registers and power states, the GIC (and ITS)
// state and the UART's.
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_format.h"
#include "devices/serial_16550.h"
#include "hypervisor/aarch64/regs.h"
#include "hypervisor/aarch64/vcpu_aarch64.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/status_macros.h"
#include "linux_boot/arm64_fdt.h"
#include "linux_boot/arm64_image.h"
#include "linux_boot/arm64_layout.h"
#include "tools/hvrun/device_state.h"
#include "tools/hvrun/machine.h"
#include "tools/hvrun/pci_ecam.h"

namespace hv {
namespace {

using machine_internal::LinuxBootError;

// The guest-physical map, as QEMU's "virt" board has it where it can
// (the demo's PCI windows: demo_aarch64.cc).
constexpr GuestAddress kRamBase = 0x40000000;
constexpr GuestAddress kGicDistributor = 0x08000000;
constexpr uint64_t kGicDistributorSize = 0x10000;
constexpr GuestAddress kGicRedistributors = 0x080a0000;
// The ITS frames (VmAArch64::kGicItsSize) right below the redistributors,
// where QEMU's virt board has them.
constexpr GuestAddress kGicIts = 0x08080000;
constexpr uint64_t kRedistributorSize = 0x20000;  // per vCPU (GICv3 RD + SGI frames)
constexpr GuestAddress kUartBase = 0x09000000;
constexpr uint64_t kUartSize = 8;
constexpr uint32_t kUartSpi = 1;
constexpr GuestAddress kEcamBase = 0x30000000;
constexpr GuestAddress kPciMmioBase = 0x10000000;
constexpr uint64_t kPciMmioSize = 0x20000000;
// The redistributors end where the UART's page begins.
constexpr uint32_t kMaxVcpus = (kUartBase - kGicRedistributors) / kRedistributorSize;
// SPSR-format PSTATE at entry: EL1h (M = 0b0101) with D, A, I and F masked
// (booting.rst: "All forms of interrupts must be masked in PSTATE.DAIF").
constexpr uint64_t kPstateEl1hMasked = 0x3c5;

struct CheckedImages {
  Arm64Image kernel;
  LinuxArm64Layout layout;
};

// The kernel parsed and laid out with the initrd in the options' RAM;
// nothing is opened or written.
absl::StatusOr<CheckedImages> CheckImages(const MachineOptions& o) {
  if (!o.linux_boot.has_value()) {
    return absl::InvalidArgumentError("linux boot: the options hold no Linux boot");
  }
  ASSIGN_OR_RETURN(Arm64Image kernel, ParseArm64Image(o.payload));
  ASSIGN_OR_RETURN(LinuxArm64Layout layout,
                   PlanLinuxArm64Boot(kernel, kRamBase, o.mem_size, o.linux_boot->initrd.size()));
  return CheckedImages{kernel, layout};
}

Arm64FdtConfig BoardFdt(const MachineOptions& o, const LinuxArm64Layout& layout, bool its) {
  Arm64FdtConfig c;
  c.ram_base = kRamBase;
  c.ram_size = o.mem_size;
  for (uint32_t i = 0; i < o.vcpus; ++i) c.cpu_mpidrs.push_back(i);  // KVM's Aff0 = vCPU id
  c.gic.distributor = {kGicDistributor, kGicDistributorSize};
  c.gic.redistributors = {kGicRedistributors, uint64_t{o.vcpus} * kRedistributorSize};
  if (its) c.gic.its = Arm64FdtConfig::Range{kGicIts, VmAArch64::kGicItsSize};
  c.uart = Arm64FdtConfig::Uart{{kUartBase, kUartSize}, kUartSpi};
  Arm64FdtConfig::PciEcam pci;
  pci.ecam = {kEcamBase, PciEcam::kSize};
  pci.mmio = {kPciMmioBase, kPciMmioSize};
  pci.probe_only = true;  // the demo's BarAllocator has placed every BAR
  c.pci = pci;
  c.bootargs = o.linux_boot->cmdline;
  if (!o.linux_boot->initrd.empty()) {
    c.initrd = Arm64FdtConfig::Range{layout.initrd, o.linux_boot->initrd.size()};
  }
  return c;
}

}  // namespace

absl::Status Machine::CheckLinuxImages(const MachineOptions& o) {
  return CheckImages(o).status();
}

namespace {

// The boot images: the kernel, initrd and devicetree in RAM, then the
// VM-wide boot step (before the vCPUs: vm_aarch64.h's order).
absl::Status LoadImages(const MachineOptions& o, const CheckedImages& images, bool its,
                        VmAArch64& arm, uint8_t* ram) {
  const LinuxArm64Layout& layout = images.layout;
  ASSIGN_OR_RETURN(std::vector<uint8_t> fdt, BuildArm64Fdt(BoardFdt(o, layout, its)));
  const auto at = [&](uint64_t address) { return ram + (address - kRamBase); };
  std::memcpy(at(layout.kernel), images.kernel.file.data(), images.kernel.file.size());
  if (!o.linux_boot->initrd.empty()) {
    std::memcpy(at(layout.initrd), o.linux_boot->initrd.data(), o.linux_boot->initrd.size());
  }
  std::memcpy(at(layout.fdt), fdt.data(), fdt.size());
  // The VM-wide boot step: nothing on KVM, the devicetree's place on
  // Geniezone and Gunyah.
  return LinuxBootError(arm.InitArch(layout.kernel, layout.fdt, fdt.size()),
                        "boot configuration");
}

}  // namespace

absl::StatusOr<std::unique_ptr<Machine>> Machine::CreateLinux(const MachineOptions& o) {
  // Everything about the images and the board is checked before the
  // hypervisor is opened; a restore has no images (its RAM holds them).
  std::optional<CheckedImages> images;
  if (!o.state_from_snapshot) {
    ASSIGN_OR_RETURN(images, CheckImages(o));
  }
  if (o.vcpus > kMaxVcpus) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "machine: %u vCPUs; this board's GIC redistributors hold at most %u", o.vcpus,
        kMaxVcpus));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Hypervisor> hypervisor, machine_internal::OpenHypervisor(o));
  ASSIGN_OR_RETURN(std::unique_ptr<Vm> vm, hypervisor->CreateVm());
  VmAArch64* arm = vm->AsAArch64();
  if (arm == nullptr) {
    return absl::UnimplementedError("linux boot: the hypervisor did not create an aarch64 VM");
  }
  GicConfig gic;
  gic.distributor_base = kGicDistributor;
  gic.redistributor_or_cpu_base = kGicRedistributors;
  gic.num_irqs = 64;  // 32 private + 32 SPIs: the UART's is SPI 1
  RETURN_IF_ERROR(LinuxBootError(arm->CreateGic(gic), "GICv3"));
  // An ITS where the hypervisor has one: the devicetree then names it as
  // the PCI host's MSI controller, and device MSIs reach the guest as LPIs.
  const bool its = vm->CheckCapability(VmCap::kGicIts);
  if (its) RETURN_IF_ERROR(LinuxBootError(arm->CreateGicIts(kGicIts), "GICv3 ITS"));

  ASSIGN_OR_RETURN(std::unique_ptr<MemoryRegion> ram,
                   MemoryRegion::CreateShared("hvrun-ram", o.mem_size));
  uint8_t* ram_bytes = ram->data();
  RETURN_IF_ERROR(vm->AddMemoryRegion(kRamBase, std::move(ram), {}).status());
  if (images.has_value()) RETURN_IF_ERROR(LoadImages(o, *images, its, *arm, ram_bytes));

  std::vector<std::unique_ptr<Vcpu>> vcpus;
  for (uint32_t i = 0; i < o.vcpus; ++i) {
    absl::StatusOr<std::unique_ptr<VcpuAArch64>> vcpu = arm->CreateVcpuAArch64(i);
    if (!vcpu.ok()) return machine_internal::VcpuCreationError(vcpu.status(), i, o.vcpus);
    if (i == 0) {
      RETURN_IF_ERROR(LinuxBootError((*vcpu)->Init({VcpuFeature::kPsci0_2}), "vCPU 0 init"));
      if (images.has_value()) {
        const LinuxArm64Layout& layout = images->layout;
        RETURN_IF_ERROR((*vcpu)->SetOneReg(AArch64Reg::Pstate(), kPstateEl1hMasked));
        RETURN_IF_ERROR((*vcpu)->SetOneReg(AArch64Reg::X(0), layout.fdt));
        RETURN_IF_ERROR((*vcpu)->SetOneReg(AArch64Reg::Pc(), layout.kernel));
      }
    } else {
      // Secondaries wait for PSCI CPU_ON, which the hypervisor answers.
      RETURN_IF_ERROR(LinuxBootError(
          (*vcpu)->Init({VcpuFeature::kPsci0_2, VcpuFeature::kPowerOff}),
          absl::StrFormat("vCPU %u init", i)));
    }
    vcpus.push_back(*std::move(vcpu));
  }
  RETURN_IF_ERROR(LinuxBootError(arm->FinalizeGic(), "GICv3 initialisation"));

  Vm* vm_raw = vm.get();
  std::unique_ptr<Machine> machine(new Machine(MachineLayoutForTarget(), o, std::move(hypervisor),
                                               std::move(vm), ram_bytes, std::move(vcpus)));
  Machine* m = machine.get();
  m->linux_guest_ = true;
  m->ram_ranges_ = {{kRamBase, absl::MakeSpan(ram_bytes, o.mem_size)}};

  Serial16550::Options uart_options;
  uart_options.base_port = 0;  // registers 0..7, reached by MMIO below
  uart_options.output = [m](uint8_t byte) { m->WriteConsoleByte(byte); };
  uart_options.set_irq = [vm_raw](bool level) {
    // A failure here would be the hypervisor's: the next vCPU exit reports
    // it; the UART keeps working polled.
    vm_raw->SetIrqLine(kUartSpi, level).IgnoreError();
  };
  ASSIGN_OR_RETURN(std::shared_ptr<Serial16550> uart, Serial16550::Create(uart_options));
  ASSIGN_OR_RETURN(std::shared_ptr<PciEcam> ecam, PciEcam::Create(kEcamBase));

  m->AddMmioHandler([uart](IoRequest& io) {
    if (io.address < kUartBase || io.address - kUartBase >= kUartSize) return false;
    IoRequest reg = io;  // the same bytes, at the register's number
    reg.address = io.address - kUartBase;
    uart->HandleIo(reg);
    return true;
  });
  m->AddMmioHandler([ecam](IoRequest& io) { return ecam->HandleMmio(io); });
  m->console_input_ = [uart](absl::string_view bytes) { uart->QueueInput(bytes); };
  m->add_pci_device_ = [ecam](uint8_t slot, virtio::PciDevice* device) {
    return ecam->AddDevice(slot, 0, device);
  };
  m->devices_ = {uart, ecam};
  RETURN_IF_ERROR(m->AddDeviceState(DeviceStateOf(kUartStateIndex, "16550 UART", uart.get())));
  return machine;
}

}  // namespace hv
