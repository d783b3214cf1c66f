// RunKicker: who is inside a vCPU's Run(), so that Kick() from any thread
// can interrupt it. The backends whose run call blocks in the kernel (KVM,
// Geniezone, Gunyah) publish the calling thread before the call, clear it
// after, and Kick() marks the vCPU (its immediate-exit flag) and sends the
// kick signal (signals.h) to the published thread, all under one lock, so a
// kick never signals a thread that has left Run() and a run entered after
// the mark sees it. On Windows KickThread() is UNIMPLEMENTED, which Kick()
// returns when a thread is inside Run().
//
// Example (a backend's vCPU):
//   kicker_.Enter();
//   const int result = sys_->Ioctl(fd_.get(), KVM_RUN, 0);
//   const int error = errno;
//   kicker_.Leave();
//   ...
//   absl::Status KvmVcpu::Kick() {
//     return kicker_.Kick([&] { SetImmediateExitByte(true); });
//   }
#ifndef HV_HYPERVISOR_OS_RUN_KICKER_H_
#define HV_HYPERVISOR_OS_RUN_KICKER_H_

#include <pthread.h>

#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"

namespace hv {

class RunKicker {
 public:
  RunKicker() = default;
  RunKicker(const RunKicker&) = delete;
  RunKicker& operator=(const RunKicker&) = delete;

  // RunKicker::Enter(): publishes the calling thread as inside Run(), after
  // running `also` (if given) under the same lock.
  void Enter();
  void Enter(absl::FunctionRef<void()> also);

  // RunKicker::Leave(): the thread inside Run() has left it.
  void Leave();

  // RunKicker::Kick(): runs `mark` under the lock, then signals the thread
  // inside Run(), if any. OK when no thread is inside; else KickThread()'s
  // status (UNIMPLEMENTED on Windows; pthread_kill's error elsewhere).
  absl::Status Kick(absl::FunctionRef<void()> mark);

  // RunKicker::Locked(): runs `fn` under the kick lock, for state that
  // Kick()'s `mark` also touches.
  void Locked(absl::FunctionRef<void()> fn);

  // RunKicker::running(): whether a thread is inside Run() (for tests).
  bool running() const;

 private:
  // std::mutex (not absl::Mutex) so ThreadSanitizer sees the ordering.
  mutable std::mutex mutex_;
  bool running_ ABSL_GUARDED_BY(mutex_) = false;
  pthread_t thread_ ABSL_GUARDED_BY(mutex_) = {};
};

}  // namespace hv

#endif  // HV_HYPERVISOR_OS_RUN_KICKER_H_
