// What hvrun's snapshots (machine_snapshot.h) need of one architecture:
// the snapshot library's capture and restore of the machine's VM, vCPUs
// and RAM (machine_snapshot_x86_64.cc, machine_snapshot_aarch64.cc, chosen
// by select()), under machine_snapshot.cc's file format, device sections
// and checks, which every architecture shares. Not for use outside
// machine_snapshot*.cc.
//
// Example (machine_snapshot.cc):
//   ASSIGN_OR_RETURN(hv::snapshot::SnapshotFile file,
//                    hv::machine_snapshot_internal::Capture(machine, ram));
#ifndef HV_TOOLS_HVRUN_MACHINE_SNAPSHOT_ARCH_H_
#define HV_TOOLS_HVRUN_MACHINE_SNAPSHOT_ARCH_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/types/span.h"
#include "snapshot/snapshot_file.h"
#include "snapshot/vm_snapshot_common.h"
#include "tools/hvrun/machine.h"

namespace hv::machine_snapshot_internal {

// The architecture this build's snapshots are of.
snapshot::Arch SnapshotArch();

// LinuxGuestSnapshotSupport(): OK where this build snapshots Linux guests
// (--kernel) too; UNIMPLEMENTED saying why not.
absl::Status LinuxGuestSnapshotSupport();

// Capture(): the library's capture of the machine (between runs) with
// `ram`, the machine's hypervisor recorded as the backend.
absl::StatusOr<snapshot::SnapshotFile> Capture(Machine& machine,
                                               absl::Span<const snapshot::GuestRam> ram);

// Restore(): the library's restore of `file` into `machine`, built like the
// captured one and not run yet.
absl::Status Restore(const snapshot::SnapshotFile& file, Machine& machine,
                     absl::Span<const snapshot::GuestRam> ram);

// The machine's VM as the architecture's (`as` is Vm::AsX86_64 or
// Vm::AsAArch64): FAILED_PRECONDITION "<op>: not an <arch> VM" if it is not.
template <typename ArchVm>
absl::StatusOr<ArchVm*> ArchVmOf(Machine& machine, const char* op, ArchVm* (Vm::*as)()) {
  ArchVm* vm = (machine.vm().*as)();
  if (vm == nullptr) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: not an %s VM", op, snapshot::ArchName(SnapshotArch())));
  }
  return vm;
}

// The machine's vCPUs as the architecture's (`as` is Vcpu::AsX86_64 or
// Vcpu::AsAArch64): FAILED_PRECONDITION "<op>: vCPU N is not an <arch>
// vCPU" for one that is not.
template <typename ArchVcpu>
absl::StatusOr<std::vector<ArchVcpu*>> ArchVcpusOf(Machine& machine, const char* op,
                                                 ArchVcpu* (Vcpu::*as)()) {
  std::vector<ArchVcpu*> vcpus;
  for (const std::unique_ptr<Vcpu>& vcpu : machine.vcpus()) {
    ArchVcpu* arch = (vcpu.get()->*as)();
    if (arch == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s: vCPU %u is not an %s vCPU", op, vcpu->id(),
                          snapshot::ArchName(SnapshotArch())));
    }
    vcpus.push_back(arch);
  }
  return vcpus;
}

}  // namespace hv::machine_snapshot_internal

#endif  // HV_TOOLS_HVRUN_MACHINE_SNAPSHOT_ARCH_H_
