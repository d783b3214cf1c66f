#include "tools/hvrun/demo.h"

#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/status_macros.h"
#include "tools/hvrun/demo_arch.h"
#include "tools/hvrun/machine.h"
#include "virtio/bar_allocator.h"
#include "virtio/virtio_pci_device.h"
#include "virtio/vm_memory_service.h"

namespace hv {
namespace {

constexpr uint64_t kDemoRam = 16ull << 20;
constexpr uint64_t kSharedMemorySize = 16ull << 20;
constexpr uint64_t kBlobSize = 0x1000;
constexpr uint8_t kDemoSlot = 3;

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

}  // namespace

absl::StatusOr<DemoResult> RunDemo(absl::string_view hypervisor_spec,
                                   std::ostream& out, std::ostream& log,
                                   absl::Duration timeout, RunInterrupter* interrupter) {
  const demo_internal::DemoArch& arch = demo_internal::DemoArchForTarget();
  MachineOptions options;
  options.hypervisor = std::string(hypervisor_spec);
  options.mem_size = kDemoRam;
  options.mode = arch.mode;
  options.load_address = options.entry = arch.load_address;
  options.payload.assign(arch.guest_start, arch.guest_end);
  ASSIGN_OR_RETURN(std::unique_ptr<Machine> machine, Machine::Create(options));

  // Declared in dependency order, so they are destroyed in reverse.
  ASSIGN_OR_RETURN(auto service, virtio::VmMemoryService::Create(&machine->vm()));
  ASSIGN_OR_RETURN(auto bars, virtio::BarAllocator::Create(arch.pci_window_base,
                                                           arch.pci_window_size));
  DemoDevice device;
  ASSIGN_OR_RETURN(auto pci, virtio::VirtioPciDevice::Create(&device, bars.get(), service.get()));
  ASSIGN_OR_RETURN(std::unique_ptr<demo_internal::DemoPciBus> bus,
                   arch.attach_pci(*machine, kDemoSlot, pci.get()));
  if (device.mapper() == nullptr) {
    return absl::InternalError("demo: the virtio transport gave the device no mapper");
  }

  // The blob: a memfd with the text, mapped at offset 0 of the region.
  ASSIGN_OR_RETURN(UniqueFd blob, CreateMemfd("hvrun-demo-blob", kBlobSize));
  std::string text(kDemoBlobText);
  if (::pwrite(blob.get(), text.c_str(), text.size() + 1, 0) !=
      static_cast<ssize_t>(text.size() + 1)) {
    return ErrnoStatus("pwrite demo blob");
  }
  RETURN_IF_ERROR(device.mapper()->AddMapping(
      virtio::MappingSource::Fd(blob.get(), 0, kBlobSize), 0, Protection::Read(),
      MemCacheType::kCacheCoherent));

  log << absl::StrFormat(
      "hvrun: demo on %s (%s): virtio device in PCI slot %u (%s), shared memory "
      "(%u MiB, prepared single-mapping, coherent) at %#x, a %u-byte blob "
      "mapped at offset 0\n",
      hypervisor_spec, machine->layout().arch, kDemoSlot, bus->Describe(),
      kSharedMemorySize >> 20, pci->shared_memory_address(), kBlobSize);
  log.flush();
  RunResult result = machine->Run(out, timeout, interrupter);
  return DemoResult{std::move(result), machine->stats().Format()};
}

}  // namespace hv
