// LiveVcpus: runs a VM's vCPUs, each in its own thread, with a "device"
// thread beside them, and stops them all between two exits for as long as
// a test needs (a snapshot taken of a running guest). The threading of the
// live snapshot tests of both architectures
// (testing/x86_guest_conformance_snapshot_live.cc,
// testing/aarch64/aarch64_guest_conformance_snapshot_live.cc); what the
// exits and the device do is theirs.
//
// Example (two vCPUs, each finished at its first MMIO exit; no device):
//   std::vector<hv::Vcpu*> vcpus = {vcpu0.get(), vcpu1.get()};
//   hv::testing::LiveVcpus live(
//       vcpus,
//       [&](int i, const hv::VcpuExit& exit) -> absl::StatusOr<bool> {
//         RETURN_IF_ERROR(vcpus[i]->HandleMmio([](hv::IoRequest&) {}));
//         return true;  // vCPU i has finished
//       },
//       []() -> absl::StatusOr<bool> { return true; });
//   live.Start();
//   ASSIGN_OR_RETURN(bool running, live.Pause());
//   // ... every vCPU stopped between two runs: capture the VM ...
//   live.Resume();
//   RETURN_IF_ERROR(live.Finish(absl::Seconds(10)));
#ifndef HV_TESTING_LIVE_VCPUS_H_
#define HV_TESTING_LIVE_VCPUS_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hypervisor/vcpu.h"
#include "hypervisor/vcpu_exit.h"

namespace hv::testing {

class LiveVcpus {
 public:
  // Called with mutex() held for each exit of vCPU `i` other than
  // kInterrupted: handles it and answers whether that vCPU has finished
  // (its thread then ends). An error stops every thread.
  using ExitHandler =
      std::function<absl::StatusOr<bool>(int i, const VcpuExit& exit)>;
  // Called with mutex() held every `device_period` while not paused:
  // answers whether the device has finished (its thread then ends).
  using DeviceStep = std::function<absl::StatusOr<bool>()>;

  LiveVcpus(std::vector<Vcpu*> vcpus, ExitHandler on_exit,
            DeviceStep device_step,
            absl::Duration device_period = absl::Microseconds(200));
  LiveVcpus(const LiveVcpus&) = delete;
  LiveVcpus& operator=(const LiveVcpus&) = delete;
  // Stops and joins every thread (Finish with no wait).
  ~LiveVcpus();

  // The lock the handlers run under; a test holds it to share state with
  // them (its device's count).
  std::mutex& mutex() ABSL_LOCK_RETURNED(mu_) { return mu_; }

  // Start(): a thread per vCPU running it, and the device thread.
  void Start();

  // Pause(): kicks every vCPU still running and waits until each is stopped
  // between two runs and the device between two steps. false: a vCPU has
  // already finished (too late to capture the whole VM).
  absl::StatusOr<bool> Pause();
  void Resume();

  // Finish(): lets the vCPUs run (if paused) until every one has finished
  // or `timeout` passes, then stops and joins every thread. The first
  // error of a Run() or a handler; DEADLINE_EXCEEDED naming a vCPU that
  // did not finish.
  absl::Status Finish(absl::Duration timeout);

 private:
  bool AllStopped() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool AllDone() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Fail(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RunVcpu(int i);
  void RunDevice();

  const std::vector<Vcpu*> vcpus_;
  const ExitHandler on_exit_;
  const DeviceStep device_step_;
  const absl::Duration device_period_;
  std::vector<std::thread> threads_;

  // std::mutex, not absl::Mutex: Debian's Abseil is not built with TSan,
  // which then cannot see absl::Mutex's synchronisation.
  std::mutex mu_;
  std::condition_variable changed_;  // any field below changed
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<bool> parked_ ABSL_GUARDED_BY(mu_);
  std::vector<bool> done_ ABSL_GUARDED_BY(mu_);
  absl::Status error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hv::testing

#endif  // HV_TESTING_LIVE_VCPUS_H_
