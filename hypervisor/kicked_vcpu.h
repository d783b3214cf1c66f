// KickedVcpu<ArchVcpu>: BackendVcpu for the backends whose run call blocks
// in the kernel and reads an immediate-exit byte from a run struct it
// shares with the vCPU (KVM's kvm_run, Geniezone's gzvm_vcpu_run, Gunyah's
// gh_vcpu_run), written once: the RunKicker (os/run_kicker.h) that holds
// the immediate-exit request and the thread inside Run(), so
// Vcpu::SetImmediateExit and Vcpu::Kick; and RunCall(), the part of Run()
// from the run call to the exit it returns. A backend's vCPU derives from
// KickedVcpu<VcpuAArch64> (say), makes its own checks in Run(), then
// returns RunCall(), and supplies DecodeExit(): the exit from its run
// struct. Backend support: not part of the hypervisor API.
//
// Example (a backend's vCPU):
//   absl::StatusOr<hv::VcpuExit> MyVcpu::Run() {
//     SetPendingExit(hv::VcpuExitKind::kUnknown);  // nothing waits now
//     return RunCall([&] { return sys_->Ioctl(fd_, MY_RUN, 0); },
//                    [] { return std::string("MY_RUN"); });
//   }
#ifndef HV_HYPERVISOR_KICKED_VCPU_H_
#define HV_HYPERVISOR_KICKED_VCPU_H_

#include <cerrno>
#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/backend_vcpu.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/run_kicker.h"
#include "hypervisor/vcpu_exit.h"

namespace hv {

template <typename ArchVcpu>
class KickedVcpu : public BackendVcpu<ArchVcpu> {
 public:
  // Vcpu::SetImmediateExit(): RunKicker::SetImmediateExit().
  void SetImmediateExit(bool exit) final { kicker_.SetImmediateExit(exit); }

  // Vcpu::Kick(): RunKicker::Kick(). The request is recorded before the
  // signal, so a run call entered after this point returns at once, and a
  // kick that a driver's copy-out of the run struct overwrites is not lost
  // (the next run call writes the byte again).
  absl::Status Kick() final { return kicker_.Kick(); }

 protected:
  // `immediate_exit`: the run struct's byte (RunKicker's constructor).
  KickedVcpu(uint32_t id, uint8_t* immediate_exit)
      : BackendVcpu<ArchVcpu>(id), kicker_(immediate_exit) {}

  // KickedVcpu::DecodeExit(): fills `exit` from the run struct after a run
  // call that succeeded.
  virtual void DecodeExit(VcpuExit& exit) const = 0;

  // KickedVcpu::RunCall(): makes `run_call` (the run ioctl) through the
  // kicker, then returns its exit: kInterrupted (raw_reason
  // `interrupted_reason`) when a kick, an immediate exit or a signal
  // interrupted it; ErrnoStatus naming `operation()` when it failed; else
  // DecodeExit()'s exit, which then waits for HandleIo / HandleMmio as
  // SetPendingExit says.
  absl::StatusOr<VcpuExit> RunCall(absl::FunctionRef<int()> run_call,
                                   absl::FunctionRef<std::string()> operation,
                                   uint32_t interrupted_reason = 0) {
    const int error = kicker_.Run(run_call);
    VcpuExit exit;
    if (error == EINTR) {
      exit.kind = VcpuExitKind::kInterrupted;
      exit.raw_reason = interrupted_reason;
      return exit;
    }
    if (error != 0) return ErrnoStatus(operation(), error);
    DecodeExit(exit);
    this->SetPendingExit(exit.kind);
    return exit;
  }

  // The immediate-exit request and the thread inside Run(), for Kick():
  // never signalled once it has left Run() (and may have exited).
  RunKicker kicker_;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_KICKED_VCPU_H_
