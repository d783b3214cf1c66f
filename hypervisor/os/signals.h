// Signals used to kick a thread out of a blocking system call (KVM_RUN).
//
// A vCPU thread blocks in KVM_RUN; another thread sets the vCPU's
// immediate-exit flag and sends the kick signal to it, whose handler does
// nothing, so KVM_RUN returns EINTR promptly.
//
// Windows has no POSIX signals: there KickSignal() is -1 and the other two
// return UNIMPLEMENTED (backends cancel a run through their own API).
//
// Example:
//   RETURN_IF_ERROR(hv::InstallKickSignalHandler());
//   ... on another thread:
//   RETURN_IF_ERROR(hv::KickThread(vcpu_thread));
#ifndef HV_HYPERVISOR_OS_SIGNALS_H_
#define HV_HYPERVISOR_OS_SIGNALS_H_

#include <pthread.h>

#include "absl/status/status.h"

namespace hv {

// KickSignal(): the real-time signal hv uses for kicks (SIGRTMIN + 2; glibc
// keeps the first two for itself).
int KickSignal();

// InstallKickSignalHandler(): installs a no-op handler for KickSignal()
// (without SA_RESTART, so blocking calls return EINTR). Idempotent and
// thread safe; fails if another handler already owns the signal.
absl::Status InstallKickSignalHandler();

// KickThread(): sends KickSignal() to `thread`.
absl::Status KickThread(pthread_t thread);

}  // namespace hv

#endif  // HV_HYPERVISOR_OS_SIGNALS_H_
