// Machine::CreateLinux where hvrun cannot boot Linux: Windows (WHPX has no
// in-kernel irqchip for hv to give the guest).
#include "absl/status/status.h"
#include "tools/hvrun/machine.h"

namespace hv {

// Nothing to check: CreateLinux() refuses whatever the images are.
absl::Status Machine::CheckLinuxImages(const MachineOptions&) { return absl::OkStatus(); }

absl::StatusOr<std::unique_ptr<Machine>> Machine::CreateLinux(const MachineOptions&) {
  return absl::UnimplementedError(
      "machine: booting a Linux kernel is implemented for Linux hosts only "
      "(x86_64 bzImage, aarch64 Image; KVM); this hvrun was built for another platform");
}

}  // namespace hv
