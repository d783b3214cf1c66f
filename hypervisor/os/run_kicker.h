// RunKicker: a vCPU's immediate-exit request and who is inside its Run(),
// so that Kick() from any thread can interrupt it. The backends whose run
// call blocks in the kernel and reads an immediate-exit byte from a run
// struct the vCPU shares with it (KVM's kvm_run, Geniezone's gzvm_vcpu_run,
// Gunyah's gh_vcpu_run) keep the request here and make the run call through
// Run(), which publishes the calling thread before the call and clears it
// after; Kick() records the request, writes it into the byte and sends the
// kick signal (signals.h) to the published thread. No lock is taken on the
// run path: Run() publishes with two atomic stores, and a thread leaving
// Run() waits for any Kick() that saw it inside to finish signalling, so a
// kick never signals a thread that has left Run(), and a run entered after
// a kick sees it. Run() writes a pending request into the byte again
// before the call, for a driver that copies the run struct back out (and
// so may overwrite a kick that landed during the last call). On Windows
// the signal is UNIMPLEMENTED, which Kick() returns when a thread is
// inside Run().
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

#include <atomic>
#include <cstdint>

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
  // returns and sets errno), with this thread published as inside Run().
  // One thread at a time may be inside Run(). Returns 0 when the call
  // succeeded; EINTR when it was interrupted (EINTR or EAGAIN: a kick,
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
  void StoreByte(bool value);

  uint8_t* const byte_;
  // The immediate-exit request: set by Kick() and SetImmediateExit(true),
  // taken by TakeImmediateExit(); written into the byte by all three, and
  // by Run() again while it stands.
  std::atomic<bool> requested_{false};
  // Who is inside Run(): kIdle, kRunning (thread_ published), or
  // kSignalled (a Kick() has signalled thread_ during this run; later
  // kicks in the same run need not).
  enum State : uint32_t { kIdle, kRunning, kSignalled };
  std::atomic<uint32_t> state_{kIdle};
  std::atomic<pthread_t> thread_{};
  // Kick() calls that found kRunning and may not have signalled yet; Run()
  // does not return while one is (Dekker's pattern, all seq_cst: either
  // the Kick() sees kIdle or Run() sees the Kick() counted). Only the first
  // kick of a run is counted, so a storm of kicks cannot hold Run() up.
  std::atomic<int> kicks_in_flight_{0};
};

}  // namespace hv

#endif  // HV_HYPERVISOR_OS_RUN_KICKER_H_
