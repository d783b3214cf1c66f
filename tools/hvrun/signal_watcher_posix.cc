// SignalWatcher on POSIX: SIGINT and SIGTERM (and --snapshot_on's signal,
// if any) blocked, then taken with sigwaitinfo() on a thread of their own. The watcher's end wakes that
// thread with a SIGTERM sent to it alone (pthread_kill), which it takes
// once its stop flag is set and so never passes on; hvrun's exit then
// waits for no poll interval (it used to wait up to 100 ms).
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/hvrun/signal_watcher.h"

namespace hv {
namespace {

struct NamedSignal {
  int number;
  const char* name;
};
constexpr NamedSignal kNamedSignals[] = {
    {SIGINT, "SIGINT"}, {SIGTERM, "SIGTERM"}, {SIGUSR1, "SIGUSR1"},
    {SIGUSR2, "SIGUSR2"}, {SIGHUP, "SIGHUP"}};
// What --snapshot_on accepts.
constexpr int kSnapshotSignals[] = {SIGUSR1, SIGUSR2, SIGHUP};

sigset_t WatchedSignals(int snapshot_signal) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (snapshot_signal != 0) sigaddset(&set, snapshot_signal);
  return set;
}

}  // namespace

std::string SignalName(int signal) {
  for (const NamedSignal& s : kNamedSignals) {
    if (s.number == signal) return s.name;
  }
  return absl::StrCat("signal ", signal);
}

absl::StatusOr<int> ParseSnapshotSignal(const std::string& text) {
  std::string name = absl::AsciiStrToUpper(text);
  if (!absl::StartsWith(name, "SIG")) name = absl::StrCat("SIG", name);
  for (int signal : kSnapshotSignals) {
    if (SignalName(signal) == name) return signal;
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "--snapshot_on=%s: expected USR1, USR2 or HUP (with or without SIG)", text));
}

absl::StatusOr<std::unique_ptr<SignalWatcher>> SignalWatcher::Start(
    RunInterrupter* interrupter, int snapshot_signal) {
  const sigset_t set = WatchedSignals(snapshot_signal);
  if (int error = pthread_sigmask(SIG_BLOCK, &set, nullptr); error != 0) {
    return absl::InternalError(
        absl::StrCat("blocking SIGINT and SIGTERM: ", std::strerror(error)));
  }
  absl::StatusOr<std::unique_ptr<PollingThread>> thread = PollingThread::Start(
      "the signal-watching thread",
      [interrupter, snapshot_signal](const std::atomic<bool>& stop) {
        const sigset_t watched = WatchedSignals(snapshot_signal);
        while (!stop) {
          const int signal = sigwaitinfo(&watched, nullptr);
          if (signal <= 0 || stop) continue;
          if (signal == snapshot_signal) {
            interrupter->StopForSnapshot(signal);
          } else {
            interrupter->Interrupt(signal);
          }
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
