// MachineSnapshot where hvrun cannot snapshot (machine_snapshot.h):
// Windows, where the library's file calls (POSIX) are not built. Every
// call says so.
#include "tools/hvrun/machine_snapshot.h"

#include "absl/strings/str_format.h"

namespace hv {

absl::Status MachineSnapshotSupport() {
  return absl::UnimplementedError(absl::StrFormat(
      "snapshots: this hvrun (Windows, %s) cannot take or restore snapshots; they exist "
      "for Linux builds only",
      MachineLayoutForTarget().arch));
}

absl::StatusOr<uint64_t> SaveMachineSnapshot(Machine&, const std::string&) {
  return MachineSnapshotSupport();
}

absl::StatusOr<std::unique_ptr<MachineSnapshot>> MachineSnapshot::Read(const std::string&) {
  return MachineSnapshotSupport();
}

}  // namespace hv
