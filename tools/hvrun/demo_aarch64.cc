// The aarch64 half of hvrun's demo (demo_arch.h): demo_guest_aarch64.S at
// EL1 at the start of RAM (0x40000000), PCI bus 0 through an ECAM window at
// 0x30000000 (1 MiB), BARs in [0x10000000, 0x30000000). The addresses are
// fixed and known to the guest; there is no device tree.
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"
#include "tools/hvrun/demo_arch.h"
#include "tools/hvrun/pci_ecam.h"

// The demo guest's bytes, from demo_guest_aarch64.S.
extern "C" const uint8_t hv_demo_guest_start[];
extern "C" const uint8_t hv_demo_guest_end[];

namespace hv::demo_internal {
namespace {

constexpr uint64_t kEcamBase = 0x30000000;

class EcamPciBus : public DemoPciBus {
 public:
  explicit EcamPciBus(std::unique_ptr<PciEcam> ecam) : ecam_(std::move(ecam)) {}
  std::string Describe() const override {
    return absl::StrFormat("ECAM at %#x", ecam_->base());
  }
  PciEcam& ecam() { return *ecam_; }

 private:
  std::unique_ptr<PciEcam> ecam_;
};

absl::StatusOr<std::unique_ptr<DemoPciBus>> AttachEcam(
    Machine& machine, uint8_t slot, virtio::PciDevice* device) {
  ASSIGN_OR_RETURN(std::unique_ptr<PciEcam> ecam, PciEcam::Create(kEcamBase));
  RETURN_IF_ERROR(ecam->AddDevice(slot, 0, device));
  auto attached = std::make_unique<EcamPciBus>(std::move(ecam));
  PciEcam* raw = &attached->ecam();
  machine.AddMmioHandler([raw](IoRequest& io) { return raw->HandleMmio(io); });
  return std::unique_ptr<DemoPciBus>(std::move(attached));
}

const DemoArch kArch = {
    hv_demo_guest_start,
    hv_demo_guest_end,
    "el1",
    0x40000000,  // load address: the start of RAM
    0x10000000,  // PCI window, below the ECAM window
    0x20000000,
    &AttachEcam,
};

}  // namespace

const DemoArch& DemoArchForTarget() { return kArch; }

}  // namespace hv::demo_internal
