// machine_snapshot_arch.h on x86_64 Linux builds: snapshot/x86_64_snapshot.h
// over the machine's x86_64 VM and vCPUs; payload machines and Linux
// guests alike.
#include <string>
#include <vector>

#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "snapshot/x86_64_snapshot.h"
#include "tools/hvrun/machine_snapshot_arch.h"

namespace hv::machine_snapshot_internal {

snapshot::Arch SnapshotArch() { return snapshot::Arch::kX86_64; }

absl::Status LinuxGuestSnapshotSupport() { return absl::OkStatus(); }

absl::StatusOr<snapshot::SnapshotFile> Capture(Machine& machine,
                                               absl::Span<const snapshot::GuestRam> ram) {
  constexpr const char* kOp = "capture";
  ASSIGN_OR_RETURN(VmX86_64 * vm, ArchVmOf(machine, kOp, &Vm::AsX86_64));
  ASSIGN_OR_RETURN(std::vector<VcpuX86_64*> vcpus,
                   ArchVcpusOf(machine, kOp, &Vcpu::AsX86_64));
  return snapshot::CaptureX86_64(*vm, vcpus, ram, std::string(machine.hypervisor_kind()));
}

absl::Status Restore(const snapshot::SnapshotFile& file, Machine& machine,
                     absl::Span<const snapshot::GuestRam> ram) {
  constexpr const char* kOp = "restore";
  ASSIGN_OR_RETURN(VmX86_64 * vm, ArchVmOf(machine, kOp, &Vm::AsX86_64));
  ASSIGN_OR_RETURN(std::vector<VcpuX86_64*> vcpus,
                   ArchVcpusOf(machine, kOp, &Vcpu::AsX86_64));
  return snapshot::RestoreX86_64(file, *vm, vcpus, ram);
}

}  // namespace hv::machine_snapshot_internal
