// SignalWatcher on Windows: nothing to watch (no SIGTERM; Ctrl-C ends the
// process as it always does), so Start() returns a watcher without a thread.
#include "absl/strings/str_cat.h"
#include "tools/hvrun/signal_watcher.h"

namespace hv {

std::string SignalName(int signal) { return absl::StrCat("signal ", signal); }

absl::StatusOr<std::unique_ptr<SignalWatcher>> SignalWatcher::Start(RunInterrupter*) {
  return std::unique_ptr<SignalWatcher>(new SignalWatcher(nullptr));
}

}  // namespace hv
