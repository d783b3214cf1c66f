// Threads hvrun starts beside the guest's: std::thread throws
// std::system_error when the host cannot start one (RLIMIT_NPROC, memory);
// these turn that into a Status, and PollingThread is a loop that stops
// and is joined when its owner goes.
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
  // `body` runs until it returns; it must look at `stop` often (hvrun's
  // loops wait at most 100 ms between looks).
  using Body = std::function<void(const std::atomic<bool>& stop)>;

  // PollingThread::Start(): as StartThread().
  static absl::StatusOr<std::unique_ptr<PollingThread>> Start(absl::string_view what,
                                                              Body body);
  PollingThread(const PollingThread&) = delete;
  PollingThread& operator=(const PollingThread&) = delete;
  // ~PollingThread(): sets `stop` and joins the thread.
  ~PollingThread();

 private:
  PollingThread() = default;

  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace hv

#endif  // HV_TOOLS_HVRUN_HOST_THREAD_H_
