// SignalWatcher on POSIX: SIGINT and SIGTERM blocked, then taken with
// sigwaitinfo() on a thread of their own. The watcher's end wakes that
// thread with a SIGTERM sent to it alone (pthread_kill), which it takes
// once its stop flag is set and so never passes on; hvrun's exit then
// waits for no poll interval (it used to wait up to 100 ms).
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "tools/hvrun/signal_watcher.h"

namespace hv {
namespace {

sigset_t WatchedSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

std::string SignalName(int signal) {
  if (signal == SIGINT) return "SIGINT";
  if (signal == SIGTERM) return "SIGTERM";
  return absl::StrCat("signal ", signal);
}

absl::StatusOr<std::unique_ptr<SignalWatcher>> SignalWatcher::Start(
    RunInterrupter* interrupter) {
  const sigset_t set = WatchedSignals();
  if (int error = pthread_sigmask(SIG_BLOCK, &set, nullptr); error != 0) {
    return absl::InternalError(
        absl::StrCat("blocking SIGINT and SIGTERM: ", std::strerror(error)));
  }
  absl::StatusOr<std::unique_ptr<PollingThread>> thread = PollingThread::Start(
      "the signal-watching thread", [interrupter](const std::atomic<bool>& stop) {
        const sigset_t watched = WatchedSignals();
        while (!stop) {
          const int signal = sigwaitinfo(&watched, nullptr);
          if (signal > 0 && !stop) interrupter->Interrupt(signal);
        }
      },
      [](std::thread& thread) { pthread_kill(thread.native_handle(), SIGTERM); });
  if (!thread.ok()) {
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    return thread.status();
  }
  return std::unique_ptr<SignalWatcher>(new SignalWatcher(*std::move(thread)));
}

}  // namespace hv
