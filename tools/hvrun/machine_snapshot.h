// Snapshot and restore of an hvrun Machine running a flat payload (hvrun
// --snapshot with --snapshot_after or --snapshot_on, and --restore), over
// hv's snapshot library (snapshot/x86_64_snapshot.h,
// snapshot/aarch64_snapshot.h) on Linux builds, x86_64 and aarch64: payload
// machines and Linux guests. On Windows (machine_snapshot_unsupported.cc)
// every call is UNIMPLEMENTED naming the build.
//
// The file is the library's (snapshot/README.md) plus sections of hvrun's
// own (Tag::kVmmState): index 0 the machine's (its kind, the RAM size, the
// vCPU count, which vCPUs had halted, the VM exits handled before the stop,
// the devices' section indices), then one per device in user space with
// state (Machine::DeviceState, its index). A payload machine has none: the
// console (port 0x3f8) and the debug-exit port keep no state. A Linux
// guest's are its 16550 UART (1), 8042 (2), PCI bus (3), host bridge (4)
// and the demo's virtio device (5: its PCI registers and BAR placement;
// it has no virtqueues, so it is quiescent at any stop). The vCPUs'
// kvmclock is the library's (it tells the guest it was paused); the
// in-kernel irqchip's routing is KVM's default, made again with the new
// VM's irqchip (hvrun adds no GSI routes or irqfds), and the UART drives
// its interrupt line again after the restore.
//
// Example:
//   // After machine->Run() ended with RunEnd::kSnapshot:
//   ASSIGN_OR_RETURN(uint64_t bytes, hv::SaveMachineSnapshot(*machine, "vm.hvsnap"));
//   std::cerr << "saved " << bytes << " bytes\n";
//   // Later, in another process:
//   ASSIGN_OR_RETURN(auto snapshot, hv::MachineSnapshot::Read("vm.hvsnap"));
//   hv::MachineOptions options;
//   options.mem_size = snapshot->mem_size();
//   options.vcpus = snapshot->vcpus();
//   options.state_from_snapshot = true;
//   ASSIGN_OR_RETURN(auto restored, hv::Machine::Create(options));
//   RETURN_IF_ERROR(snapshot->RestoreInto(*restored, /*advance_clock=*/false));
//   hv::RunResult result = restored->Run(std::cout);
#ifndef HV_TOOLS_HVRUN_MACHINE_SNAPSHOT_H_
#define HV_TOOLS_HVRUN_MACHINE_SNAPSHOT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/hvrun/machine.h"

namespace hv {

// MachineSnapshotSupport(): OK where this build can snapshot and restore
// machines; UNIMPLEMENTED saying which build cannot.
absl::Status MachineSnapshotSupport();

// SaveMachineSnapshot(): captures `machine` (between runs: its Run()
// returned) and its devices' state and writes it to `path` (atomically:
// `path`.tmp, then a rename); returns the file's size in bytes. The
// library's or the file system's error, naming the step.
absl::StatusOr<uint64_t> SaveMachineSnapshot(Machine& machine,
                                             const std::string& path);

// MachineSnapshot: a snapshot file read and checked, ready to restore.
class MachineSnapshot {
 public:
  // MachineSnapshot::Read(): the file at `path`: the open or read error
  // (NOT_FOUND for a missing file), DATA_LOSS for one that is not an intact
  // hv snapshot, FAILED_PRECONDITION for one of another architecture or
  // without hvrun's machine section.
  static absl::StatusOr<std::unique_ptr<MachineSnapshot>> Read(
      const std::string& path);
  virtual ~MachineSnapshot() = default;

  // The machine the snapshot was taken of.
  virtual uint64_t mem_size() const = 0;
  virtual uint32_t vcpus() const = 0;
  virtual uint64_t exits_handled() const = 0;
  virtual const std::string& backend() const = 0;
  // Whether it is of a Linux guest (--kernel): restore it into a machine
  // made with MachineOptions::linux_boot and the demo device attached.
  virtual bool linux_guest() const = 0;

  // MachineSnapshot::RestoreInto(): loads the snapshot into `machine`, a
  // machine of its kind created with MachineOptions::state_from_snapshot,
  // with the same devices added, and not run yet. FAILED_PRECONDITION
  // naming the mismatch (kind, RAM size, vCPU count, a device missing on
  // either side, a state the hypervisor lacks), a device's own error for
  // its section's bytes (DATA_LOSS ...), each with nothing changed (every
  // device's section is checked first); should the hypervisor refuse a
  // call midway, discard the machine. The guest sees no time pass since
  // the snapshot, as if it had been paused; with `advance_clock` its clock
  // moves on by the host's real time since (snapshot::RestoreOptions::
  // advance_clock_by_downtime: x86_64's kvmclock where the file recorded
  // the time, aarch64's virtual counter; INVALID_ARGUMENT for an aarch64
  // file that did not).
  virtual absl::Status RestoreInto(Machine& machine, bool advance_clock) const = 0;
};

}  // namespace hv

#endif  // HV_TOOLS_HVRUN_MACHINE_SNAPSHOT_H_
