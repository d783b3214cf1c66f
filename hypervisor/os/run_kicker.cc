#include "hypervisor/os/run_kicker.h"

#include <cerrno>

#include "hypervisor/os/signals.h"

namespace hv {

void RunKicker::StoreByte(bool value) {
  // SAFETY: byte_ stays mapped for this object's life (the constructor's
  // contract); the kernel reads it during the run call and a kick stores
  // it from another thread, so every store is atomic.
  __atomic_store_n(byte_, value ? 1 : 0, __ATOMIC_SEQ_CST);
}

int RunKicker::Run(absl::FunctionRef<int()> run_call) {
  Enter();
  const int result = run_call();
  const int error = errno;
  Leave();
  if (result >= 0) return 0;
  if (error == EINTR || error == EAGAIN) {
    TakeImmediateExit();
    return EINTR;
  }
  return error;
}

void RunKicker::Enter() {
  std::lock_guard<std::mutex> lock(mutex_);
  StoreByte(requested_);
  running_ = true;
  thread_ = pthread_self();
}

void RunKicker::Leave() {
  std::lock_guard<std::mutex> lock(mutex_);
  running_ = false;
}

bool RunKicker::TakeImmediateExit() {
  std::lock_guard<std::mutex> lock(mutex_);
  const bool requested = requested_;
  requested_ = false;
  StoreByte(false);
  return requested;
}

void RunKicker::SetImmediateExit(bool exit) {
  std::lock_guard<std::mutex> lock(mutex_);
  requested_ = exit;
  StoreByte(exit);
}

absl::Status RunKicker::Kick() {
  std::lock_guard<std::mutex> lock(mutex_);
  // Requested before the signal, so a run entered after this point returns
  // at once.
  requested_ = true;
  StoreByte(true);
  if (!running_) return absl::OkStatus();
  // thread_ is inside Run() and cannot leave it before we unlock.
  return KickThread(thread_);
}

bool RunKicker::running() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return running_;
}

}  // namespace hv
