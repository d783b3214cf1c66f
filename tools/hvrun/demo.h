// hvrun's built-in demo: a guest that finds a virtio device on a PCI bus,
// locates the device's shared-memory BAR through the virtio shared-memory
// capability, and prints a blob the host mapped there.
//
// The host side: a Machine running the architecture's demo guest (x86_64:
// demo_guest.S in 32-bit protected mode, the PCI bus on ports
// 0xcf8-0xcff; aarch64: demo_guest_aarch64.S at EL1, the PCI bus through an
// ECAM window at MMIO 0x30000000), one virtio device on that bus that
// declares a shared-memory region (prepared SingleMappingOnFirst, coherent),
// and a memfd holding the blob text mapped at offset 0 of that region.
// demo_arch.h has the architecture-specific half.
//
// Example:
//   ASSIGN_OR_RETURN(hv::DemoResult demo, hv::RunDemo("kvm", std::cout, std::cerr));
#ifndef HV_TOOLS_HVRUN_DEMO_H_
#define HV_TOOLS_HVRUN_DEMO_H_

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tools/hvrun/machine.h"

namespace hv {

// The text the host maps into the shared-memory BAR.
inline constexpr absl::string_view kDemoBlobText =
    "greetings from the host, read through the virtio shared-memory BAR";

// DemoDeviceAttachment: what keeps the demo's virtio device and its blob
// alive on a machine (destroy it after the machine's run).
class DemoDeviceAttachment {
 public:
  virtual ~DemoDeviceAttachment() = default;
};

// The demo device's PCI slot on bus 0: 00:03.0.
inline constexpr uint8_t kDemoPciSlot = 3;

// AttachDemoDevice(): puts the demo's virtio device, with the blob mapped
// at offset 0 of its shared memory, at 00:03.0 of `machine`'s own PCI bus
// (a Linux guest's: Machine::AddPciDevice), adds its state to the
// machine's snapshots (kDemoDeviceStateIndex: its PCI registers and where
// its BAR is; no virtqueues, MSI-X or interrupt, and the blob is the
// host's, mapped again by every attach) and says so on `log`.
absl::StatusOr<std::unique_ptr<DemoDeviceAttachment>> AttachDemoDevice(Machine& machine,
                                                                       std::ostream& log);

struct DemoResult {
  RunResult run;      // how it ended; the guest writes 0 when it worked
  std::string stats;  // ExitStats::Format() of the run
};

// RunDemo(): runs the demo on the backend `hypervisor_spec`, the guest's
// serial output going to `out` and hvrun's description of the machine to
// `log`; `interrupter` (optional) can end the run from another thread.
// An error Status when the machine cannot be set up.
absl::StatusOr<DemoResult> RunDemo(absl::string_view hypervisor_spec,
                                   std::ostream& out, std::ostream& log,
                                   absl::Duration timeout = absl::Seconds(30),
                                   RunInterrupter* interrupter = nullptr);

}  // namespace hv

#endif  // HV_TOOLS_HVRUN_DEMO_H_
