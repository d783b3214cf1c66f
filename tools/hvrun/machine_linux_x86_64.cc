// Machine::CreateLinux on x86_64 Linux hosts (machine.h, "Linux guests"):
// a small PC that boots a bzImage through the 64-bit boot protocol, built
// from linux_boot/ (layout, loader, vCPU state) and devices/ (UART, 8042,
// PCI host bridge) over the hv API.
#include <cstring>
#include <iterator>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "devices/i8042.h"
#include "devices/pci_host_bridge.h"
#include "devices/serial_16550.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "linux_boot/bzimage.h"
#include "linux_boot/x86_64_layout.h"
#include "linux_boot/x86_64_loader.h"
#include "linux_boot/x86_64_vcpu.h"
#include "tools/hvrun/device_state.h"
#include "tools/hvrun/machine.h"
#include "virtio/pci_bus.h"

namespace hv {
namespace {

using machine_internal::LinuxBootError;

// Three pages for the TSS VMX needs for real-mode emulation, and the page
// for its identity map (KVM_SET_TSS_ADDR, KVM_SET_IDENTITY_MAP_ADDR): just
// below the BIOS area at the top of 4 GiB, clear of RAM, BARs, the IOAPIC
// and the LAPIC.
constexpr GuestAddress kTssAddress = 0xfffbd000;
constexpr GuestAddress kIdentityMapAddress = 0xfffbc000;

struct CheckedImages {
  BzImage kernel;
  LinuxX86Layout layout;
};

// The kernel parsed and laid out with the initrd and command line in the
// options' RAM; nothing is opened or written.
absl::StatusOr<CheckedImages> CheckImages(const MachineOptions& o) {
  if (!o.linux_boot.has_value()) {
    return absl::InvalidArgumentError("linux boot: the options hold no Linux boot");
  }
  const LinuxBootOptions& linux_boot = *o.linux_boot;
  ASSIGN_OR_RETURN(BzImage kernel, ParseBzImage(o.payload));
  ASSIGN_OR_RETURN(LinuxX86Layout layout,
                   PlanLinuxX86Boot(kernel, o.mem_size, linux_boot.initrd.size(),
                                    linux_boot.cmdline.size() + 1));
  return CheckedImages{kernel, std::move(layout)};
}

}  // namespace

absl::Status Machine::CheckLinuxImages(const MachineOptions& o) {
  return CheckImages(o).status();
}

namespace {

// The boot: the kernel, initrd, command line, zero page and MP table in
// RAM, each vCPU's CPUID, MSRs, LAPIC and (vCPU 0) entry state.
absl::Status LoadAndSetUpVcpus(const MachineOptions& o, const CheckedImages& images,
                               absl::Span<const CpuidEntry> cpuid, absl::Span<uint8_t> low,
                               absl::Span<const std::unique_ptr<VcpuX86_64>> vcpus) {
  MpTableConfig mp;
  mp.cpus = o.vcpus;
  for (const CpuidEntry& e : cpuid) {
    if (e.function == 1) {
      mp.cpu_signature = e.eax;
      mp.cpu_features = e.edx;
    }
  }
  RETURN_IF_ERROR(LoadLinuxX86(images.kernel, images.layout, o.linux_boot->initrd,
                               o.linux_boot->cmdline, mp, low));
  for (uint32_t i = 0; i < vcpus.size(); ++i) {
    RETURN_IF_ERROR(SetupLinuxVcpu(*vcpus[i], i, o.vcpus, cpuid, low, images.layout));
  }
  return absl::OkStatus();
}

// A restore's vCPUs: only their CPUID, which a snapshot does not hold.
absl::Status SetCpuidOnly(uint32_t cpus, absl::Span<const CpuidEntry> cpuid,
                          absl::Span<const std::unique_ptr<VcpuX86_64>> vcpus) {
  for (uint32_t i = 0; i < vcpus.size(); ++i) {
    RETURN_IF_ERROR(LinuxBootError(vcpus[i]->SetCpuid(LinuxCpuid(cpuid, i, cpus)),
                                   absl::StrFormat("vCPU %u CPUID", i)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Machine>> Machine::CreateLinux(const MachineOptions& o) {
  // Everything about the images is checked before the hypervisor is opened;
  // a restore has none (its RAM holds them).
  std::optional<CheckedImages> images;
  if (!o.state_from_snapshot) {
    ASSIGN_OR_RETURN(images, CheckImages(o));
  }
  const std::vector<RamRange> ram_ranges = LinuxX86RamRanges(o.mem_size);

  ASSIGN_OR_RETURN(std::unique_ptr<Hypervisor> hypervisor,
                   machine_internal::OpenHypervisor(o));
  ASSIGN_OR_RETURN(std::unique_ptr<Vm> vm, hypervisor->CreateVm());
  VmX86_64* vm86 = vm->AsX86_64();
  if (vm86 == nullptr) {
    return absl::UnimplementedError("linux boot: the hypervisor did not create an x86_64 VM");
  }
  RETURN_IF_ERROR(LinuxBootError(vm86->CreateIrqChip(IrqChipKind::kKernel),
                           "in-kernel irqchip and PIT"));
  RETURN_IF_ERROR(LinuxBootError(vm86->SetTssAddress(kTssAddress), "TSS address"));
  RETURN_IF_ERROR(
      LinuxBootError(vm86->SetIdentityMapAddress(kIdentityMapAddress), "identity map address"));

  std::vector<GuestRamRange> ram;
  for (size_t i = 0; i < ram_ranges.size(); ++i) {
    const RamRange& range = ram_ranges[i];
    ASSIGN_OR_RETURN(std::unique_ptr<MemoryRegion> region,
                     MemoryRegion::CreateShared(i == 0 ? "hvrun-ram" : "hvrun-ram-high",
                                                range.size));
    ram.push_back({range.address, absl::MakeSpan(region->data(), range.size)});
    RETURN_IF_ERROR(vm->AddMemoryRegion(range.address, std::move(region), {}).status());
  }

  ASSIGN_OR_RETURN(std::vector<CpuidEntry> cpuid, vm86->GetSupportedCpuid());
  std::vector<std::unique_ptr<VcpuX86_64>> vcpus86;
  for (uint32_t i = 0; i < o.vcpus; ++i) {
    absl::StatusOr<std::unique_ptr<VcpuX86_64>> vcpu = vm86->CreateVcpuX86_64(i);
    if (!vcpu.ok()) return machine_internal::VcpuCreationError(vcpu.status(), i, o.vcpus);
    vcpus86.push_back(*std::move(vcpu));
  }
  RETURN_IF_ERROR(images.has_value()
                      ? LoadAndSetUpVcpus(o, *images, cpuid, ram[0].host, vcpus86)
                      : SetCpuidOnly(o.vcpus, cpuid, vcpus86));
  std::vector<std::unique_ptr<Vcpu>> vcpus(std::make_move_iterator(vcpus86.begin()),
                                           std::make_move_iterator(vcpus86.end()));

  Vm* vm_raw = vm.get();
  std::unique_ptr<Machine> machine(new Machine(MachineLayoutForTarget(), o, std::move(hypervisor),
                                               std::move(vm), ram[0].host.data(),
                                               std::move(vcpus)));
  Machine* m = machine.get();
  m->linux_guest_ = true;
  m->ram_ranges_ = std::move(ram);

  Serial16550::Options uart_options;
  uart_options.output = [m](uint8_t byte) { m->WriteConsoleByte(byte); };
  uart_options.set_irq = [vm_raw](bool level) {
    // A failure here would be the hypervisor's: the next vCPU exit reports
    // it; the UART keeps working polled.
    vm_raw->SetIrqLine(Serial16550::kCom1Irq, level).IgnoreError();
  };
  ASSIGN_OR_RETURN(std::shared_ptr<Serial16550> uart, Serial16550::Create(uart_options));
  auto i8042 = std::make_shared<I8042>([m] {
    m->EndRun(RunResult{RunEnd::kReset, 0, 0,
                        "the guest reset the machine (8042 reset line)"});
  });
  ASSIGN_OR_RETURN(std::shared_ptr<virtio::PciBus> bus, virtio::PciBus::Create());
  ASSIGN_OR_RETURN(std::shared_ptr<PciHostBridge> bridge, PciHostBridge::Create());
  RETURN_IF_ERROR(bus->AddDevice(0, 0, bridge.get()));

  m->AddPortHandler([uart](IoRequest& io) {
    if (!uart->HandlesPort(io.address)) return false;
    uart->HandleIo(io);
    return true;
  });
  m->AddPortHandler([i8042](IoRequest& io) {
    if (!i8042->HandlesPort(io.address)) return false;
    i8042->HandleIo(io);
    return true;
  });
  m->AddPortHandler([bus](IoRequest& io) { return bus->HandleIo(io); });
  m->console_input_ = [uart](absl::string_view bytes) { uart->QueueInput(bytes); };
  m->add_pci_device_ = [bus](uint8_t slot, virtio::PciDevice* device) {
    return bus->AddDevice(slot, 0, device);
  };
  m->devices_ = {uart, i8042, bridge, bus};
  RETURN_IF_ERROR(m->AddDeviceState(DeviceStateOf(kUartStateIndex, "16550 UART", uart.get())));
  RETURN_IF_ERROR(m->AddDeviceState(DeviceStateOf(kI8042StateIndex, "8042", i8042.get())));
  RETURN_IF_ERROR(m->AddDeviceState(DeviceStateOf(kPciBusStateIndex, "PCI bus", bus.get())));
  RETURN_IF_ERROR(m->AddDeviceState(
      DeviceStateOf(kHostBridgeStateIndex, "PCI host bridge", bridge.get())));
  return machine;
}

}  // namespace hv
