#include "hypervisor/os/run_kicker.h"

#include <cerrno>
#include <thread>

#include "hypervisor/os/signals.h"

namespace hv {

void RunKicker::StoreByte(bool value) {
  // SAFETY: byte_ stays mapped for this object's life (the constructor's
  // contract); the kernel reads it during the run call and a kick stores
  // it from another thread, so every store is atomic. Relaxed: what orders
  // it comes after it (the run call's system call; in Kick(), the locked
  // fetch_add before the signal, or Run()'s own store when Kick() found
  // no thread inside).
  __atomic_store_n(byte_, value ? 1 : 0, __ATOMIC_RELAXED);
}

int RunKicker::Run(absl::FunctionRef<int()> run_call) {
  thread_.store(pthread_self(), std::memory_order_relaxed);
  state_.store(kRunning);  // publishes thread_ to a Kick() that sees it
  // A request made before this point is written again (never cleared
  // here: a Kick() racing with this line has written 1 itself).
  if (requested_.load()) StoreByte(true);
  const int result = run_call();
  const int error = errno;
  state_.store(kIdle);
  while (kicks_in_flight_.load() != 0) std::this_thread::yield();
  if (result >= 0) return 0;
  if (error == EINTR || error == EAGAIN) {
    TakeImmediateExit();
    return EINTR;
  }
  return error;
}

bool RunKicker::TakeImmediateExit() {
  const bool requested = requested_.exchange(false);
  // A Kick() between these two lines leaves the request set and the byte
  // clear; the next Run() writes the byte again.
  StoreByte(false);
  return requested;
}

void RunKicker::SetImmediateExit(bool exit) {
  requested_.store(exit);
  StoreByte(exit);
}

absl::Status RunKicker::Kick() {
  // Requested before the signal, so a run entered after this point
  // returns at once.
  requested_.store(true);
  StoreByte(true);
  // No thread inside (a run entered after the store above sees the
  // request), or it has been signalled in this run already: done. One
  // signal per run is enough (the byte covers a run call not yet
  // entered); more would fill the thread's queue of real-time signals
  // (EAGAIN) when Kick() is called in a loop.
  if (state_.load() != kRunning) return absl::OkStatus();
  kicks_in_flight_.fetch_add(1);
  absl::Status status = absl::OkStatus();
  // While counted, a thread seen inside Run() cannot return from it.
  uint32_t expected = kRunning;
  if (state_.compare_exchange_strong(expected, kSignalled)) {
    status = KickThread(thread_.load(std::memory_order_relaxed));
  }
  kicks_in_flight_.fetch_sub(1);
  return status;
}

bool RunKicker::running() const { return state_.load() != kIdle; }

}  // namespace hv
