// SignalWatcher: turns SIGINT and SIGTERM into the end of hvrun's run
// (and, when given one, --snapshot_on's signal into a stop for a snapshot:
// RunInterrupter::StopForSnapshot()),
// without doing anything in a signal handler. Start() blocks both signals
// in the calling thread, so every thread started afterwards (the vCPUs,
// the watchdog) inherits the block, and waits for them on a thread of its
// own with sigwaitinfo(); a signal then calls RunInterrupter::Interrupt(),
// which ends the Machine's run through its normal end path (the guest's
// output flushed, --stats printed, exit 128 + the signal). On Windows
// (signal_watcher_windows.cc) it does nothing and Ctrl-C ends the process.
//
// Example (before any thread is started):
//   hv::RunInterrupter interrupter;
//   ASSIGN_OR_RETURN(auto watcher, hv::SignalWatcher::Start(&interrupter));
//   hv::RunResult result = machine->Run(std::cout, timeout, &interrupter);
#ifndef HV_TOOLS_HVRUN_SIGNAL_WATCHER_H_
#define HV_TOOLS_HVRUN_SIGNAL_WATCHER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tools/hvrun/host_thread.h"
#include "tools/hvrun/machine.h"

namespace hv {

class SignalWatcher {
 public:
  // SignalWatcher::Start(): call it before starting any other thread.
  // RESOURCE_EXHAUSTED when the host cannot start its thread (the signals
  // are unblocked again then).
  // `snapshot_signal`, if not 0, is watched too (ParseSnapshotSignal()).
  static absl::StatusOr<std::unique_ptr<SignalWatcher>> Start(
      RunInterrupter* interrupter, int snapshot_signal = 0);
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;
  // ~SignalWatcher(): stops and joins its thread; the signals stay blocked.
  ~SignalWatcher() = default;

 private:
  explicit SignalWatcher(std::unique_ptr<PollingThread> thread) : thread_(std::move(thread)) {}

  const std::unique_ptr<PollingThread> thread_;  // null where nothing is watched
};

// SignalName(): "SIGINT", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGHUP", or
// "signal N".
std::string SignalName(int signal);

// ParseSnapshotSignal(): --snapshot_on's value: USR1, USR2 or HUP, with or
// without "SIG", in any case. INVALID_ARGUMENT naming `text` otherwise
// (SIGINT and SIGTERM end the run; others are not the user's to send);
// UNIMPLEMENTED on Windows.
absl::StatusOr<int> ParseSnapshotSignal(const std::string& text);

}  // namespace hv

#endif  // HV_TOOLS_HVRUN_SIGNAL_WATCHER_H_
