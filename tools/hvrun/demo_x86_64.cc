// The x86_64 half of hvrun's demo (demo_arch.h): demo_guest.S in 32-bit
// protected mode at 0x10000, PCI configuration mechanism #1 on ports
// 0xcf8/0xcfc, BARs below 4 GiB where the 32-bit guest reaches them.
#include <memory>
#include <string>

#include "hypervisor/os/status_macros.h"
#include "tools/hvrun/demo_arch.h"
#include "virtio/pci_bus.h"

// The demo guest's bytes, from demo_guest.S.
extern "C" const uint8_t hv_demo_guest_start[];
extern "C" const uint8_t hv_demo_guest_end[];

namespace hv::demo_internal {
namespace {

class PortPciBus : public DemoPciBus {
 public:
  explicit PortPciBus(std::unique_ptr<virtio::PciBus> bus) : bus_(std::move(bus)) {}
  std::string Describe() const override { return "ports 0xcf8/0xcfc"; }
  virtio::PciBus& bus() { return *bus_; }

 private:
  std::unique_ptr<virtio::PciBus> bus_;
};

absl::StatusOr<std::unique_ptr<DemoPciBus>> AttachPortBus(
    Machine& machine, uint8_t slot, virtio::PciDevice* device) {
  ASSIGN_OR_RETURN(std::unique_ptr<virtio::PciBus> bus, virtio::PciBus::Create());
  RETURN_IF_ERROR(bus->AddDevice(slot, 0, device));
  auto attached = std::make_unique<PortPciBus>(std::move(bus));
  virtio::PciBus* raw = &attached->bus();
  machine.AddPortHandler([raw](IoRequest& io) { return raw->HandleIo(io); });
  return std::unique_ptr<DemoPciBus>(std::move(attached));
}

const DemoArch kArch = {
    hv_demo_guest_start,
    hv_demo_guest_end,
    "protected",
    0x10000,      // load address
    0xc0000000,   // PCI window, below 4 GiB for the 32-bit guest
    0x10000000,
    &AttachPortBus,
};

}  // namespace

const DemoArch& DemoArchForTarget() { return kArch; }

}  // namespace hv::demo_internal
