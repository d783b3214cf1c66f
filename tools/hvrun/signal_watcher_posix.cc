// SignalWatcher on POSIX: SIGINT and SIGTERM blocked, then taken with
// sigtimedwait() on a thread that polls a stop flag every 100 ms.
#include <signal.h>

#include <cerrno>
#include <cstring>
#include <system_error>

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
  std::unique_ptr<SignalWatcher> watcher(new SignalWatcher(interrupter));
  try {
    watcher->thread_ = std::thread([w = watcher.get()] { w->Watch(); });
  } catch (const std::system_error& e) {
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot start the signal-watching thread: ", e.what()));
  }
  return watcher;
}

SignalWatcher::~SignalWatcher() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void SignalWatcher::Watch() {
  const sigset_t set = WatchedSignals();
  const timespec poll = {0, 100 * 1000 * 1000};
  while (!stop_) {
    const int signal = sigtimedwait(&set, nullptr, &poll);
    if (signal > 0) interrupter_->Interrupt(signal);
  }
}

}  // namespace hv
