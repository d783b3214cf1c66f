// Machine::CreateLinux on x86_64 Linux hosts (machine.h, "Linux guests"):
// a small PC that boots a bzImage through the 64-bit boot protocol, built
// from linux_boot/ (layout, loader, vCPU state) and devices/ (UART, 8042,
// PCI host bridge) over the hv API.
#include <cstring>
#include <memory>
#include <utility>

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

absl::StatusOr<std::unique_ptr<Machine>> Machine::CreateLinux(const MachineOptions& o) {
  const LinuxBootOptions& linux_boot = *o.linux_boot;
  // Everything about the images is checked before the hypervisor is opened.
  ASSIGN_OR_RETURN(CheckedImages images, CheckImages(o));
  const BzImage& kernel = images.kernel;
  const LinuxX86Layout& layout = images.layout;

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

  uint8_t* low_ram = nullptr;
  for (size_t i = 0; i < layout.ram.size(); ++i) {
    const RamRange& range = layout.ram[i];
    ASSIGN_OR_RETURN(std::unique_ptr<MemoryRegion> ram,
                     MemoryRegion::CreateShared(i == 0 ? "hvrun-ram" : "hvrun-ram-high",
                                                range.size));
    if (i == 0) low_ram = ram->data();
    RETURN_IF_ERROR(vm->AddMemoryRegion(range.address, std::move(ram), {}).status());
  }
  const absl::Span<uint8_t> low = absl::MakeSpan(low_ram, layout.ram[0].size);

  ASSIGN_OR_RETURN(std::vector<CpuidEntry> cpuid, vm86->GetSupportedCpuid());
  MpTableConfig mp;
  mp.cpus = o.vcpus;
  for (const CpuidEntry& e : cpuid) {
    if (e.function == 1) {
      mp.cpu_signature = e.eax;
      mp.cpu_features = e.edx;
    }
  }
  RETURN_IF_ERROR(LoadLinuxX86(kernel, layout, linux_boot.initrd, linux_boot.cmdline, mp, low));

  std::vector<std::unique_ptr<Vcpu>> vcpus;
  for (uint32_t i = 0; i < o.vcpus; ++i) {
    absl::StatusOr<std::unique_ptr<VcpuX86_64>> vcpu = vm86->CreateVcpuX86_64(i);
    if (!vcpu.ok()) return machine_internal::VcpuCreationError(vcpu.status(), i, o.vcpus);
    RETURN_IF_ERROR(SetupLinuxVcpu(**vcpu, i, o.vcpus, cpuid, low, layout));
    vcpus.push_back(*std::move(vcpu));
  }

  Vm* vm_raw = vm.get();
  std::unique_ptr<Machine> machine(new Machine(MachineLayoutForTarget(), std::move(hypervisor),
                                               std::move(vm), low_ram, std::move(vcpus)));
  Machine* m = machine.get();
  m->linux_guest_ = true;

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
  return machine;
}

}  // namespace hv
