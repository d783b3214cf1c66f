// CallLog: the per-call bookkeeping every fake in testing/fakes keeps: the
// record of the calls made through its seam, in order, and the FaultPlan
// that counts them and decides which fail. A fake's own Call type says what
// it records (names, descriptors, argument bytes, results); it only needs a
// `std::string name`, the name FaultPlan::FailNext() matches.
//
// Thread safe: the record has a lock of its own, so a test may read it
// while the fake's calls run. A fake that records a call and then fills in
// its result (UpdateLast) does both under its own lock, so the last call is
// still its own.
//
// Example:
//   struct Call {
//     std::string name;
//     int result = 0;
//   };
//   hv::testing::CallLog<Call> log;
//   log.plan().FailCall(1, EIO);
//   std::optional<int> error = log.Count("open");  // call 0: std::nullopt
//   log.Add(Call{"open"});
//   log.UpdateLast([](Call& call) { call.result = 3; });
//   error = log.Count("mmap");  // call 1: EIO
//   // log.Names() == {"open"}, log.count() == 2
#ifndef HV_TESTING_FAKES_CALL_LOG_H_
#define HV_TESTING_FAKES_CALL_LOG_H_

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "testing/fakes/fault_plan.h"

namespace hv::testing {

template <typename Call>
class CallLog {
 public:
  CallLog() = default;
  CallLog(const CallLog&) = delete;
  CallLog& operator=(const CallLog&) = delete;

  // CallLog::Count(): counts one call named `name` in plan(): the error to
  // fail it with, or std::nullopt.
  std::optional<int> Count(const std::string& name) {
    return plan_.Count(name);
  }

  // CallLog::Add(): records `call` after the others.
  void Add(Call call) {
    std::lock_guard<std::mutex> lock(mutex_);
    calls_.push_back(std::move(call));
  }

  // CallLog::UpdateLast(): `update(call)` on the last call recorded (none:
  // nothing happens).
  template <typename Update>
  void UpdateLast(Update update) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!calls_.empty()) update(calls_.back());
  }

  // CallLog::Calls() / Names(): the calls recorded since construction or
  // Clear(), in order; or their names.
  std::vector<Call> Calls() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_;
  }
  std::vector<std::string> Names() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> names;
    names.reserve(calls_.size());
    for (const Call& call : calls_) names.push_back(call.name);
    return names;
  }

  // CallLog::Clear(): forgets the calls recorded (the plan and its count
  // stay; plan().Reset() restarts them).
  void Clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    calls_.clear();
  }

  // CallLog::count(): calls counted (plan().calls()): the number of the
  // next call, as FailCall() counts.
  uint64_t count() const { return plan_.calls(); }

  FaultPlan& plan() { return plan_; }

 private:
  mutable std::mutex mutex_;
  std::vector<Call> calls_ ABSL_GUARDED_BY(mutex_);
  FaultPlan plan_;
};

}  // namespace hv::testing

#endif  // HV_TESTING_FAKES_CALL_LOG_H_
