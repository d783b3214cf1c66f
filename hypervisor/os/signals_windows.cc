// The kick signal on Windows: there are no POSIX signals to interrupt a
// blocking call with. A backend stops a running vCPU through its own API
// (WHvCancelRunVirtualProcessor for WHPX, the HAXM tunnel's user-exit flag),
// so these report UNIMPLEMENTED rather than pretending to kick.
#include "absl/strings/str_cat.h"
#include "hypervisor/os/signals.h"

namespace hv {

int KickSignal() { return -1; }

absl::Status InstallKickSignalHandler() {
  return absl::UnimplementedError(
      "install kick signal handler: Windows has no POSIX signals; a backend "
      "cancels a running vCPU through its own API");
}

absl::Status KickThread(pthread_t) {
  return absl::UnimplementedError(
      "kick thread: Windows has no POSIX signals; a backend cancels a running "
      "vCPU through its own API");
}

}  // namespace hv
