// LiveVcpus: runs a VM's vCPUs, each in its own thread, with a "device"
// thread beside them, and stops them all between two exits for as long as
// a test needs (a snapshot taken of a running guest). The threading of the
// live snapshot tests of both architectures
// (testing/x86_guest_conformance_snapshot_live.cc,
// testing/aarch64/aarch64_guest_conformance_snapshot_live.cc); what the
// exits do is theirs. PacedLiveVcpus: LiveVcpus with the device those
// tests share, a PacedIrq. SnapshotMoments: the snapshots they take of the
// running guest, each restored in a child process.
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
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/vcpu.h"
#include "hypervisor/vcpu_exit.h"
#include "snapshot/snapshot_file.h"

namespace hv::testing {

// GuestWord(): the 8-byte word at byte `offset` of guest RAM `ram`, read
// while vCPUs may write it (a shared counter or flag). `offset` must be
// 8-byte aligned: an atomic load then sees either the old or the new value
// of the guest's store.
uint64_t GuestWord(absl::Span<uint8_t> ram, uint64_t offset);

// JoinReports(): every vCPU's reports joined by spaces ("r0 r1 ...") when
// `finished` (LiveVcpus::Finish's answer) is OK and each vCPU made
// `per_vcpu` reports; otherwise `finished`'s code (DEADLINE_EXCEEDED if it
// was OK) with the vCPU that fell short and `state` (the test's view of
// the guest's shared words) in the message.
absl::StatusOr<std::string> JoinReports(
    const absl::Status& finished,
    absl::Span<const std::vector<uint64_t>> reports, size_t per_vcpu,
    const std::string& state);

// PacedIrq: a test's device that raises an irqfd once the guest has
// counted every raise so far (so no two coalesce), up to `quota` raises,
// and only after the guest set its "ready" word to 1. Both words are guest
// RAM words (GuestWord offsets into `ram`). Not thread safe: call it under
// LiveVcpus::mutex(), from the device step or while paused.
class PacedIrq {
 public:
  PacedIrq(absl::Span<uint8_t> ram, uint64_t ready_offset,
           uint64_t count_offset, uint64_t quota, EventFd irq)
      : ram_(ram),
        ready_offset_(ready_offset),
        count_offset_(count_offset),
        quota_(quota),
        irq_(std::move(irq)) {}

  const EventFd& irq() const { return irq_; }
  // PacedIrq::RaiseIfDue(): raises once more if the guest is ready, has
  // taken every earlier raise and is owed more; whether it raised.
  absl::StatusOr<bool> RaiseIfDue();
  // Whether every raise of the quota was made.
  bool finished() const { return raised_ == quota_; }
  // Raises made so far: the device's state, saved beside a snapshot and
  // set again in the process that restores it.
  uint64_t raised() const { return raised_; }
  void set_raised(uint64_t raised) { raised_ = raised; }

 private:
  const absl::Span<uint8_t> ram_;
  const uint64_t ready_offset_;
  const uint64_t count_offset_;
  const uint64_t quota_;
  const EventFd irq_;
  uint64_t raised_ = 0;
};

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

// PacedLiveVcpus: LiveVcpus whose device is a PacedIrq, as both live
// snapshot tests run their guests: every 200 us the device raises the irqfd
// when due, and it has finished at its quota. While paused, a test may
// raise once more (an interrupt pending in the snapshot); the raised count
// is the device state a snapshot is saved and restored with.
class PacedLiveVcpus {
 public:
  // `on_exit` as LiveVcpus's; the device PacedIrq(ram, ready_offset,
  // count_offset, quota, irq).
  PacedLiveVcpus(std::vector<Vcpu*> vcpus, LiveVcpus::ExitHandler on_exit,
                 absl::Span<uint8_t> ram, uint64_t ready_offset,
                 uint64_t count_offset, uint64_t quota, EventFd irq);

  // LiveVcpus::mutex(): held by the exit handler, and by the test to read
  // what the handler wrote.
  std::mutex& mutex() { return live_.mutex(); }

  // PacedLiveVcpus::Start(): runs the vCPUs and the device, which has
  // raised `raised` times before (the VMM's device state, restored with
  // the VM).
  void Start(uint64_t raised);
  // Pause() / Resume(): LiveVcpus's, the device stopped between two raises.
  absl::StatusOr<bool> Pause() { return live_.Pause(); }
  void Resume() { live_.Resume(); }
  // PacedLiveVcpus::PauseAgain(): while paused, lets everything run 300 us
  // more and pauses again; false when a vCPU finished meanwhile.
  absl::StatusOr<bool> PauseAgain();
  // PacedLiveVcpus::RaiseWhilePaused(): while paused, raises once more if
  // the guest has taken every earlier raise and is owed more; true if it
  // did.
  absl::StatusOr<bool> RaiseWhilePaused();
  // PacedLiveVcpus::NoneReported(): `paused` (what Pause() or PauseAgain()
  // answered), but false too -- the moment to capture is past -- once a
  // vCPU has made one of `reports` (the exit handler's, read under
  // mutex()). The snapshot guests report only at their end, and a report
  // made before a capture is not in the snapshot: the restored run would
  // come up short of it.
  absl::StatusOr<bool> NoneReported(
      absl::StatusOr<bool> paused,
      absl::Span<const std::vector<uint64_t>> reports);
  // The raises made so far (takes mutex()).
  uint64_t raised();
  // LiveVcpus::Finish(); the threads are gone after it.
  absl::Status Finish(absl::Duration timeout) { return live_.Finish(timeout); }
  // PacedLiveVcpus::FinishPair(): for the two-vCPU snapshot guests,
  // Finish(timeout) and then JoinReports() of `reports` (written by the exit
  // handler, read under mutex()), `per_vcpu` each. On a shortfall its
  // message gives the guest's shared words at `shared_offset` into the RAM
  // (each vCPU's interrupt count, then each one's "computation finished"
  // flag) and the raises of the device's `irq_name` interrupt.
  absl::StatusOr<std::string> FinishPair(
      absl::Duration timeout, absl::Span<const std::vector<uint64_t>> reports,
      size_t per_vcpu, uint64_t shared_offset, absl::string_view irq_name);

 private:
  const absl::Span<uint8_t> ram_;
  PacedIrq device_;  // under live_.mutex() once live_ runs
  // Destroyed first: its threads stop before the device goes.
  LiveVcpus live_;
};

// SnapshotMoments: the snapshots a live snapshot test takes of its running
// guest, each written to a file of its own (in TEST_TMPDIR, else /tmp,
// named from `stem`, the process id and its number) with the count of
// raises its PacedIrq had made by then.
class SnapshotMoments {
 public:
  // What a child process does with one moment: a new machine, `file`
  // restored into it, its device resumed at `raised`, the guest run to its
  // end; the run's result (JoinReports's answer).
  using RestoreAndFinish = absl::FunctionRef<absl::StatusOr<std::string>(
      const snapshot::SnapshotFile& file, uint64_t raised)>;

  explicit SnapshotMoments(const std::string& stem);
  SnapshotMoments(const SnapshotMoments&) = delete;
  SnapshotMoments& operator=(const SnapshotMoments&) = delete;

  // SnapshotMoments::Add(): writes `file` as the next moment.
  absl::Status Add(const snapshot::SnapshotFile& file, uint64_t raised);
  size_t size() const { return moments_.size(); }

  // SnapshotMoments::ExpectEachRestoresTo(): each moment read and given to
  // `restore_and_finish` in a child process (InChild, so call it with no
  // other thread running), whose answer must be `expected` (a gtest
  // failure naming the file otherwise); each file removed after.
  void ExpectEachRestoresTo(const std::string& expected,
                            RestoreAndFinish restore_and_finish);

 private:
  struct Moment {
    std::string path;
    uint64_t raised = 0;
  };

  const std::string prefix_;
  std::vector<Moment> moments_;
};

}  // namespace hv::testing

#endif  // HV_TESTING_LIVE_VCPUS_H_
