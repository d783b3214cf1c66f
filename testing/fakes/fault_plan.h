// FaultPlan: the call counter and fault plan every fake kernel interface in
// testing/fakes (and FaultInjectingKvmSys) keeps, so "fail call N" means
// one thing everywhere.
//
// A call is one entry through a fake's seam (an open, ioctl, mmap, munmap,
// close, or one WHPX/HAXM function), counted by Count() before the fake does
// anything else with it. Call N is the call for which Count() returned with
// calls() == N + 1: the 0-based number of the call since the plan was made
// or last Reset(). Two plans can fail a call:
//   - FailCall(N, error): call N fails with `error`;
//   - FailNext(name, error, skip): the next call named `name` fails, after
//     `skip` such calls went through.
// Each plan fires once. When both match one call, the FailCall plan fires
// and the named one stays pending. The error is whatever the fake returns
// for a failed call (an errno, or an HRESULT for WHPX). The plan only
// decides; the fake fails the call (and still releases what a failed close
// or munmap releases on the real kernel).
//
// Thread safe: a fake may count calls from several threads, and a test may
// plan faults while they run.
//
// Example:
//   hv::testing::FaultPlan plan;
//   plan.FailCall(1, EIO);
//   plan.Count("open");                       // call 0: std::nullopt
//   std::optional<int> e = plan.Count("mmap");  // call 1: EIO
//   // plan.last_fault() == "mmap", plan.faults_injected() == 1
#ifndef HV_TESTING_FAKES_FAULT_PLAN_H_
#define HV_TESTING_FAKES_FAULT_PLAN_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"

namespace hv::testing {

class FaultPlan {
 public:
  FaultPlan() = default;
  FaultPlan(const FaultPlan&) = delete;
  FaultPlan& operator=(const FaultPlan&) = delete;

  // FaultPlan::FailCall(): call number `index` (0-based, counted since
  // construction or Reset()) fails with `error`. Several may be pending.
  void FailCall(uint64_t index, int error);
  // FaultPlan::FailNextCall(): the next call, whatever it is, fails.
  void FailNextCall(int error);
  // FaultPlan::FailNext(): the next call named `name` fails with `error`,
  // after `skip` calls of that name went through. Replaces an earlier plan
  // for the same name.
  void FailNext(const std::string& name, int error, int skip = 0);
  // FaultPlan::Clear(): no fault pending (counts stay).
  void Clear();
  // FaultPlan::Reset(): calls() back to 0; FailCall plans dropped (their
  // numbers counted from before), FailNext plans kept.
  void Reset();

  // FaultPlan::Count(): counts one call named `name`; the error to fail it
  // with when a plan fires for it, std::nullopt otherwise.
  std::optional<int> Count(const std::string& name);

  // Calls counted since construction or Reset().
  uint64_t calls() const;
  // Faults fired since construction.
  uint64_t faults_injected() const;
  // The name of the last call made to fail, or "" when none was.
  std::string last_fault() const;

 private:
  struct Named {
    int error = 0;
    int skip = 0;
  };

  mutable std::mutex mutex_;
  uint64_t calls_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t faults_ ABSL_GUARDED_BY(mutex_) = 0;
  std::string last_fault_ ABSL_GUARDED_BY(mutex_);
  std::map<uint64_t, int> by_index_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, Named> by_name_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace hv::testing

#endif  // HV_TESTING_FAKES_FAULT_PLAN_H_
