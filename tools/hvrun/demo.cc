#include "tools/hvrun/demo.h"

#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/status_macros.h"
#include "tools/hvrun/demo_arch.h"
#include "tools/hvrun/device_state.h"
#include "tools/hvrun/machine.h"
#include "virtio/bar_allocator.h"
#include "virtio/virtio_pci_device.h"
#include "virtio/vm_memory_service.h"

namespace hv {
namespace {

constexpr uint64_t kDemoRam = 16ull << 20;
constexpr uint64_t kSharedMemorySize = 16ull << 20;
constexpr uint64_t kBlobSize = 0x1000;

// A virtio device that owns a shared-memory region and nothing else; it
// stands in for a GPU that shows the guest host blobs (virtio 1.2 §5.7,
// device type 16).
class DemoDevice : public virtio::VirtioDevice {
 public:
  uint16_t DeviceType() const override { return 16; }
  std::optional<virtio::SharedMemoryInfo> SharedMemoryRegion() const override {
    return virtio::SharedMemoryInfo{1, kSharedMemorySize};
  }
  void SetSharedMemoryMapper(
      std::unique_ptr<virtio::SharedMemoryMapper> mapper) override {
    mapper_ = std::move(mapper);
  }
  virtio::SharedMemoryMapper* mapper() const { return mapper_.get(); }

 private:
  std::unique_ptr<virtio::SharedMemoryMapper> mapper_;
};

// The device, its transport and the blob, in dependency order so they are
// destroyed in reverse; `bus` keeps the payload demo's own bus alive.
struct DemoParts : DemoDeviceAttachment {
  std::unique_ptr<virtio::VmMemoryService> service;
  std::unique_ptr<virtio::BarAllocator> bars;
  DemoDevice device;
  std::unique_ptr<virtio::VirtioPciDevice> pci;
  std::unique_ptr<demo_internal::DemoPciBus> bus;
  UniqueFd blob;
};

// Builds the device on `machine`; `attach` puts it on a bus.
absl::StatusOr<std::unique_ptr<DemoParts>> BuildDemoDevice(
    Machine& machine,
    const std::function<absl::Status(DemoParts&)>& attach) {
  const demo_internal::DemoArch& arch = demo_internal::DemoArchForTarget();
  auto parts = std::make_unique<DemoParts>();
  ASSIGN_OR_RETURN(parts->service, virtio::VmMemoryService::Create(&machine.vm()));
  ASSIGN_OR_RETURN(parts->bars, virtio::BarAllocator::Create(arch.pci_window_base,
                                                             arch.pci_window_size));
  ASSIGN_OR_RETURN(parts->pci, virtio::VirtioPciDevice::Create(
                                   &parts->device, parts->bars.get(), parts->service.get()));
  RETURN_IF_ERROR(attach(*parts));
  if (parts->device.mapper() == nullptr) {
    return absl::InternalError("demo: the virtio transport gave the device no mapper");
  }
  // The blob: a memfd with the text, mapped at offset 0 of the region.
  ASSIGN_OR_RETURN(parts->blob, CreateMemfd("hvrun-demo-blob", kBlobSize));
  std::string text(kDemoBlobText);
  if (::pwrite(parts->blob.get(), text.c_str(), text.size() + 1, 0) !=
      static_cast<ssize_t>(text.size() + 1)) {
    return ErrnoStatus("pwrite demo blob");
  }
  RETURN_IF_ERROR(parts->device.mapper()->AddMapping(
      virtio::MappingSource::Fd(parts->blob.get(), 0, kBlobSize), 0, Protection::Read(),
      MemCacheType::kCacheCoherent));
  return parts;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DemoDeviceAttachment>> AttachDemoDevice(Machine& machine,
                                                                       std::ostream& log) {
  ASSIGN_OR_RETURN(std::unique_ptr<DemoParts> parts,
                   BuildDemoDevice(machine, [&](DemoParts& p) {
                     RETURN_IF_ERROR(machine.AddPciDevice(kDemoPciSlot, p.pci.get()));
                     return machine.AddDeviceState(DeviceStateOf(
                         kDemoDeviceStateIndex, "virtio device (00:03.0)", p.pci.get()));
                   }));
  log << absl::StrFormat(
      "hvrun: virtio device (type 16) at PCI 00:%02x.0, shared memory (%u MiB) at %#x, "
      "a %u-byte blob mapped at offset 0\n",
      kDemoPciSlot, kSharedMemorySize >> 20, parts->pci->shared_memory_address(),
      kBlobSize);
  return std::unique_ptr<DemoDeviceAttachment>(std::move(parts));
}

absl::StatusOr<DemoResult> RunDemo(absl::string_view hypervisor_spec,
                                   std::ostream& out, std::ostream& log,
                                   absl::Duration timeout, RunInterrupter* interrupter) {
  const demo_internal::DemoArch& arch = demo_internal::DemoArchForTarget();
  MachineOptions options;
  options.hypervisor = std::string(hypervisor_spec);
  options.mem_size = kDemoRam;
  options.time_exits = true;  // the demo's --stats table
  options.mode = arch.mode;
  options.load_address = options.entry = arch.load_address;
  options.payload.assign(arch.guest_start, arch.guest_end);
  ASSIGN_OR_RETURN(std::unique_ptr<Machine> machine, Machine::Create(options));
  ASSIGN_OR_RETURN(std::unique_ptr<DemoParts> parts,
                   BuildDemoDevice(*machine, [&](DemoParts& p) -> absl::Status {
                     ASSIGN_OR_RETURN(p.bus, arch.attach_pci(*machine, kDemoPciSlot,
                                                             p.pci.get()));
                     return absl::OkStatus();
                   }));
  log << absl::StrFormat(
      "hvrun: demo on %s (%s): virtio device in PCI slot %u (%s), shared memory "
      "(%u MiB, prepared single-mapping, coherent) at %#x, a %u-byte blob "
      "mapped at offset 0\n",
      hypervisor_spec, machine->layout().arch, kDemoPciSlot, parts->bus->Describe(),
      kSharedMemorySize >> 20, parts->pci->shared_memory_address(), kBlobSize);
  log.flush();
  RunResult result = machine->Run(out, timeout, interrupter);
  return DemoResult{std::move(result), machine->stats().Format()};
}

}  // namespace hv
