// RunKicker: a vCPU's immediate-exit request and who is inside its Run(),
// so that Kick() from any thread can interrupt it. The backends whose run
// call blocks in the kernel and reads an immediate-exit byte from a run
// struct the vCPU shares with it (KVM's kvm_run, Geniezone's gzvm_vcpu_run,
// Gunyah's gh_vcpu_run) keep the request here and make the run call through
// Run(), which publishes the calling thread before the call and clears it
// after; Kick() records the request, writes it into the byte and sends the
// kick signal (signals.h) to the published thread, all under one lock, so a
// kick never signals a thread that has left Run() and a run entered after
// the kick sees it. Run() writes the request into the byte again before the
// call, for a driver that copies the run struct back out (and so may
// overwrite a kick that landed during the last call). On Windows the signal
// is UNIMPLEMENTED, which Kick() returns when a thread is inside Run().
//
// Example (a backend's vCPU):
//   RunKicker kicker_{&run_->immediate_exit};
//   ...
//   const int error =
//       kicker_.Run([&] { return sys_->Ioctl(fd_.get(), KVM_RUN, 0); });
//   if (error == EINTR) return kInterrupted;  // the request is answered
//   if (error != 0) return ErrnoStatus("KVM_RUN", error);
//   ...
//   absl::Status Kick() override { return kicker_.Kick(); }
#ifndef HV_HYPERVISOR_OS_RUN_KICKER_H_
#define HV_HYPERVISOR_OS_RUN_KICKER_H_

#include <pthread.h>

#include <cstdint>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"

namespace hv {

class RunKicker {
 public:
  // `immediate_exit`: the byte the kernel reads before it enters the guest
  // (1: return EINTR at once). It must stay mapped for the RunKicker's life;
  // every access to it is atomic, since the kernel and other threads (a
  // kick) touch it while the vCPU runs.
  explicit RunKicker(uint8_t* immediate_exit) : byte_(immediate_exit) {}
  RunKicker(const RunKicker&) = delete;
  RunKicker& operator=(const RunKicker&) = delete;

  // RunKicker::Run(): `run_call` (the run ioctl: it returns what the ioctl
  // returns and sets errno) between Enter() and Leave(). Returns 0 when the
  // call succeeded; EINTR when it was interrupted (EINTR or EAGAIN: a kick,
  // an immediate exit or another signal), the immediate-exit request then
  // taken, as a run that returns kInterrupted must; else the call's errno.
  int Run(absl::FunctionRef<int()> run_call);

  // RunKicker::TakeImmediateExit(): whether an immediate exit is requested
  // (SetImmediateExit(true) or a kick); clears the request and the byte, as
  // a run that returns kInterrupted must.
  bool TakeImmediateExit();

  // RunKicker::SetImmediateExit(): Vcpu::SetImmediateExit().
  void SetImmediateExit(bool exit);

  // RunKicker::Kick(): Vcpu::Kick(): requests an immediate exit, then
  // signals the thread inside Run(), if any. OK when no thread is inside;
  // else KickThread()'s status (UNIMPLEMENTED on Windows; pthread_kill's
  // error elsewhere).
  absl::Status Kick();

  // RunKicker::running(): whether a thread is inside Run() (for tests).
  bool running() const;

 private:
  // Publishes the calling thread as inside Run() and writes the
  // immediate-exit request into the byte; Leave() unpublishes it.
  void Enter();
  void Leave();
  void StoreByte(bool value) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  uint8_t* const byte_;
  // std::mutex (not absl::Mutex) so ThreadSanitizer sees the ordering.
  mutable std::mutex mutex_;
  bool requested_ ABSL_GUARDED_BY(mutex_) = false;
  bool running_ ABSL_GUARDED_BY(mutex_) = false;
  pthread_t thread_ ABSL_GUARDED_BY(mutex_) = {};
};

}  // namespace hv

#endif  // HV_HYPERVISOR_OS_RUN_KICKER_H_
