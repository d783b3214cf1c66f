#include "testing/fakes/fault_plan.h"

namespace hv::testing {

void FaultPlan::FailCall(uint64_t index, int error) {
  std::lock_guard<std::mutex> lock(mutex_);
  by_index_[index] = error;
}

void FaultPlan::FailNextCall(int error) {
  std::lock_guard<std::mutex> lock(mutex_);
  by_index_[calls_] = error;
}

void FaultPlan::FailNext(const std::string& name, int error, int skip) {
  std::lock_guard<std::mutex> lock(mutex_);
  by_name_[name] = Named{error, skip};
}

void FaultPlan::Clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  by_index_.clear();
  by_name_.clear();
}

void FaultPlan::Reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  calls_ = 0;
  by_index_.clear();
}

std::optional<int> FaultPlan::Count(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t index = calls_++;
  std::optional<int> error;
  if (auto it = by_index_.find(index); it != by_index_.end()) {
    error = it->second;
    by_index_.erase(it);
  } else if (auto named = by_name_.find(name); named != by_name_.end()) {
    if (named->second.skip > 0) {
      --named->second.skip;
    } else {
      error = named->second.error;
      by_name_.erase(named);
    }
  }
  if (error.has_value()) {
    ++faults_;
    last_fault_ = name;
  }
  return error;
}

uint64_t FaultPlan::calls() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return calls_;
}

uint64_t FaultPlan::faults_injected() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return faults_;
}

std::string FaultPlan::last_fault() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_fault_;
}

}  // namespace hv::testing
