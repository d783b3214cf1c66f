#include "hypervisor/os/run_kicker.h"

#include "hypervisor/os/signals.h"

namespace hv {

void RunKicker::Enter() {
  Enter([] {});
}

void RunKicker::Enter(absl::FunctionRef<void()> also) {
  std::lock_guard<std::mutex> lock(mutex_);
  also();
  running_ = true;
  thread_ = pthread_self();
}

void RunKicker::Leave() {
  std::lock_guard<std::mutex> lock(mutex_);
  running_ = false;
}

absl::Status RunKicker::Kick(absl::FunctionRef<void()> mark) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Marked before the signal, so a run entered after this point returns at
  // once.
  mark();
  if (!running_) return absl::OkStatus();
  // thread_ is inside Run() and cannot leave it before we unlock.
  return KickThread(thread_);
}

void RunKicker::Locked(absl::FunctionRef<void()> fn) {
  std::lock_guard<std::mutex> lock(mutex_);
  fn();
}

bool RunKicker::running() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return running_;
}

}  // namespace hv
