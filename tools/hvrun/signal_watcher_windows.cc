// SignalWatcher on Windows: nothing to watch (no SIGTERM; Ctrl-C ends the
// process as it always does), so Start() returns a watcher without a thread.
#include "absl/strings/str_cat.h"
#include "tools/hvrun/signal_watcher.h"

namespace hv {

std::string SignalName(int signal) { return absl::StrCat("signal ", signal); }

absl::StatusOr<std::unique_ptr<SignalWatcher>> SignalWatcher::Start(RunInterrupter*, int) {
  return std::unique_ptr<SignalWatcher>(new SignalWatcher(nullptr));
}

absl::StatusOr<int> ParseSnapshotSignal(const std::string& text) {
  return absl::UnimplementedError(
      absl::StrCat("--snapshot_on=", text, ": Windows has no signals to watch"));
}

}  // namespace hv
