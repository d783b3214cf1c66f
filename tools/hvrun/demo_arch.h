// The architecture-specific half of hvrun's demo (demo.h): the guest
// program, where the machine runs it, and how the guest reaches PCI
// configuration space. Implemented by demo_x86_64.cc (ports 0xcf8/0xcfc)
// and demo_aarch64.cc (an ECAM window on MMIO), chosen by BUILD select().
//
// Example (demo.cc):
//   const hv::demo_internal::DemoArch& arch = hv::demo_internal::DemoArchForTarget();
//   ASSIGN_OR_RETURN(auto bus, arch.attach_pci(*machine, kDemoSlot, pci.get()));
#ifndef HV_TOOLS_HVRUN_DEMO_ARCH_H_
#define HV_TOOLS_HVRUN_DEMO_ARCH_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "hypervisor/memory.h"
#include "tools/hvrun/machine.h"
#include "virtio/pci_device.h"

namespace hv::demo_internal {

// DemoPciBus: keeps whatever makes the device reachable alive for the run.
class DemoPciBus {
 public:
  virtual ~DemoPciBus() = default;
  // DemoPciBus::Describe(): how the guest reaches it, for hvrun's narration
  // ("ports 0xcf8/0xcfc", "ECAM at 0x30000000").
  virtual std::string Describe() const = 0;
};

struct DemoArch {
  // The guest program and how the machine starts it.
  const uint8_t* guest_start;
  const uint8_t* guest_end;
  const char* mode;
  GuestAddress load_address;
  // Where BARs are placed.
  GuestAddress pci_window_base;
  uint64_t pci_window_size;
  // Puts `device` at `slot` (function 0) of a bus the guest reaches, and
  // adds that bus's handler to `machine`.
  absl::StatusOr<std::unique_ptr<DemoPciBus>> (*attach_pci)(
      Machine& machine, uint8_t slot, virtio::PciDevice* device);
};

const DemoArch& DemoArchForTarget();

}  // namespace hv::demo_internal

#endif  // HV_TOOLS_HVRUN_DEMO_ARCH_H_
