// machine_snapshot_arch.h on aarch64 Linux builds: snapshot/aarch64_snapshot.h
// over the machine's aarch64 VM and vCPUs. Payload machines only for now:
// the Linux board (machine_linux_aarch64.cc) is not yet built for a
// restore (its GIC, devicetree and UART state), and no test boots an arm64
// Linux guest under hvrun to check one.
#include <string>
#include <vector>

#include "hypervisor/aarch64/vcpu_aarch64.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/os/status_macros.h"
#include "snapshot/aarch64_snapshot.h"
#include "tools/hvrun/machine_snapshot_arch.h"

namespace hv::machine_snapshot_internal {

snapshot::Arch SnapshotArch() { return snapshot::Arch::kAArch64; }

absl::Status LinuxGuestSnapshotSupport() {
  return absl::UnimplementedError(
      "snapshots: this hvrun (aarch64) takes and restores snapshots of payload machines "
      "(--payload), not yet of Linux guests (--kernel)");
}

absl::StatusOr<snapshot::SnapshotFile> Capture(Machine& machine,
                                               absl::Span<const snapshot::GuestRam> ram) {
  constexpr const char* kOp = "capture";
  ASSIGN_OR_RETURN(VmAArch64 * vm, ArchVmOf(machine, kOp, &Vm::AsAArch64));
  ASSIGN_OR_RETURN(std::vector<VcpuAArch64*> vcpus,
                   ArchVcpusOf(machine, kOp, &Vcpu::AsAArch64));
  return snapshot::CaptureAArch64(*vm, vcpus, ram, std::string(machine.hypervisor_kind()));
}

absl::Status Restore(const snapshot::SnapshotFile& file, Machine& machine,
                     absl::Span<const snapshot::GuestRam> ram) {
  constexpr const char* kOp = "restore";
  ASSIGN_OR_RETURN(VmAArch64 * vm, ArchVmOf(machine, kOp, &Vm::AsAArch64));
  ASSIGN_OR_RETURN(std::vector<VcpuAArch64*> vcpus,
                   ArchVcpusOf(machine, kOp, &Vcpu::AsAArch64));
  return snapshot::RestoreAArch64(file, *vm, vcpus, ram);
}

}  // namespace hv::machine_snapshot_internal
