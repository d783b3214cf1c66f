// Threads hvrun starts beside the guest's: std::thread throws
// std::system_error when the host cannot start one (RLIMIT_NPROC, memory);
// these turn that into a Status, and PollingThread is a loop that stops
// and is joined when its owner goes (woken at once when it was started
// with a `wake`, rather than at its next look at `stop`).
//
// Example:
//   std::atomic<int> polls{0};
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::PollingThread> poller,
//                    hv::PollingThread::Start("the poll thread",
//                        [&polls](const std::atomic<bool>& stop) {
//                          for (; !stop; ++polls) absl::SleepFor(absl::Milliseconds(1));
//                        }));
//   poller.reset();  // sets `stop` and joins: `polls` stays as it is now
#ifndef HV_TOOLS_HVRUN_HOST_THREAD_H_
#define HV_TOOLS_HVRUN_HOST_THREAD_H_

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hv {

// StartThread(): `body` on a new thread; RESOURCE_EXHAUSTED "cannot start
// <what>: <reason>" when the host cannot start one.
absl::StatusOr<std::thread> StartThread(absl::string_view what, std::function<void()> body);

class PollingThread {
 public:
  // `body` runs until it returns; it must look at `stop` often, or be
  // woken by `wake` when `stop` is set.
  using Body = std::function<void(const std::atomic<bool>& stop)>;
  // `wake`, when given, is called with the running thread once `stop` is
  // set, before the join: it makes `body` look at `stop` now (hvrun's
  // threads block until a signal or input arrives, so a join would
  // otherwise wait for the next one).
  using Wake = std::function<void(std::thread& thread)>;

  // PollingThread::Start(): as StartThread().
  static absl::StatusOr<std::unique_ptr<PollingThread>> Start(absl::string_view what,
                                                              Body body, Wake wake = nullptr);
  PollingThread(const PollingThread&) = delete;
  PollingThread& operator=(const PollingThread&) = delete;
  // ~PollingThread(): sets `stop`, calls `wake` if given, and joins the
  // thread.
  ~PollingThread();

 private:
  PollingThread() = default;

  std::atomic<bool> stop_{false};
  Wake wake_;
  std::thread thread_;
};

}  // namespace hv

#endif  // HV_TOOLS_HVRUN_HOST_THREAD_H_
