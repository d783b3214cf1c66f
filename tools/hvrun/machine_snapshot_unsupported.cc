// MachineSnapshot where hvrun cannot snapshot yet (machine_snapshot.h):
// aarch64 (the library has no arm64 capture yet) and Windows (the
// library's file calls are POSIX). Every call says so.
#include "tools/hvrun/machine_snapshot.h"

#include "absl/strings/str_format.h"

namespace hv {

absl::Status MachineSnapshotSupport() {
  return absl::UnimplementedError(absl::StrFormat(
      "snapshots: this hvrun (%s) cannot take or restore snapshots; they exist for "
      "x86_64 Linux builds only",
#ifdef _WIN32
      "Windows"
#else
      MachineLayoutForTarget().arch
#endif
      ));
}

absl::StatusOr<uint64_t> SaveMachineSnapshot(Machine&, const std::string&) {
  return MachineSnapshotSupport();
}

absl::StatusOr<std::unique_ptr<MachineSnapshot>> MachineSnapshot::Read(const std::string&) {
  return MachineSnapshotSupport();
}

}  // namespace hv
