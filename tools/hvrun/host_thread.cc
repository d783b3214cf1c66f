#include "tools/hvrun/host_thread.h"

#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"

namespace hv {

absl::StatusOr<std::thread> StartThread(absl::string_view what, std::function<void()> body) {
  try {
    return std::thread(std::move(body));
  } catch (const std::system_error& e) {
    return absl::ResourceExhaustedError(absl::StrCat("cannot start ", what, ": ", e.what()));
  }
}

absl::StatusOr<std::unique_ptr<PollingThread>> PollingThread::Start(absl::string_view what,
                                                                    Body body, Wake wake) {
  std::unique_ptr<PollingThread> poller(new PollingThread());
  poller->wake_ = std::move(wake);
  absl::StatusOr<std::thread> thread =
      StartThread(what, [stop = &poller->stop_, body = std::move(body)] { body(*stop); });
  if (!thread.ok()) return thread.status();
  poller->thread_ = *std::move(thread);
  return poller;
}

PollingThread::~PollingThread() {
  stop_ = true;
  if (!thread_.joinable()) return;
  if (wake_) wake_(thread_);
  thread_.join();
}

}  // namespace hv
