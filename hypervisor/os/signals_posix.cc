#include "hypervisor/os/signals.h"

#include <signal.h>

#include <cstring>

#include "absl/base/call_once.h"
#include "absl/strings/str_cat.h"
#include "hypervisor/os/errno_status.h"

namespace hv {
namespace {

void KickHandler(int) {}

absl::Status InstallOnce() {
  struct sigaction old = {};
  if (::sigaction(KickSignal(), nullptr, &old) < 0) {
    return ErrnoStatus("sigaction (query kick signal)");
  }
  if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN &&
      old.sa_handler != KickHandler) {
    return absl::FailedPreconditionError(absl::StrCat(
        "install kick signal handler: signal ", KickSignal(),
        " already has a handler of the application's"));
  }
  struct sigaction action = {};
  action.sa_handler = KickHandler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // No SA_RESTART: KVM_RUN must return EINTR.
  if (::sigaction(KickSignal(), &action, nullptr) < 0) {
    return ErrnoStatus("sigaction (install kick signal handler)");
  }
  return absl::OkStatus();
}

}  // namespace

int KickSignal() { return SIGRTMIN + 2; }

absl::Status InstallKickSignalHandler() {
  static absl::once_flag once;
  static absl::Status* status = nullptr;
  absl::call_once(once, [] { status = new absl::Status(InstallOnce()); });
  return *status;
}

absl::Status KickThread(pthread_t thread) {
  int error = ::pthread_kill(thread, KickSignal());
  if (error != 0) return ErrnoStatus("pthread_kill (kick)", error);
  return absl::OkStatus();
}

}  // namespace hv
