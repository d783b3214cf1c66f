// The checks of one run of a KVM fault sweep (kvm_fault_sweep_test and
// kvm_aarch64_fault_sweep_test), written once. The caller runs its scenario on a
// FaultInjectingKvmSys planned to fail call N and hands over what came back;
// CheckKvmFaultRun() checks it with GTest assertions and returns the
// FaultRun for SweepFaults():
// - no fault injected (the scenario made fewer calls): it succeeded;
// - a fault, reported: the Status names the failed call and errno, and the
//   failed step left the slot table as it was;
// - a fault, not reported: it was a teardown close (which releases the
//   descriptor anyway) or munmap (nobody left to tell);
// - always: as many descriptors are open as before the sweep (otherwise the
//   run counts as leaked).
//
// Example:
//   const int fds_at_start = CountOpenFds();
//   const FaultSweep sweep = SweepFaults([&](uint64_t n) {
//     FaultInjectingKvmSys sys;
//     sys.FailCall(n, EIO);
//     const Outcome outcome = RunScenario(&sys);
//     return CheckKvmFaultRun(sys, {outcome.status, outcome.step,
//                                   outcome.table_changed}, fds_at_start);
//   });
#ifndef HV_HYPERVISOR_KVM_KVM_FAULT_RUN_H_
#define HV_HYPERVISOR_KVM_KVM_FAULT_RUN_H_

#include <string>

#include "absl/status/status.h"
#include "testing/fault_sweep.h"
#include "hypervisor/kvm/kvm_fault_injection.h"

namespace hv::testing {

// What a KVM fault-sweep scenario returned.
struct KvmScenarioOutcome {
  absl::Status status;
  std::string step;           // the step that failed ("add ram", ...)
  std::string table_changed;  // non-empty when the failed step moved the table
};

// CountOpenFds(): the process's open descriptors (/proc/self/fd), or -1.
int CountOpenFds();

// CheckKvmFaultRun(): checks one run as the file comment says.
FaultRun CheckKvmFaultRun(const FaultInjectingKvmSys& sys,
                          const KvmScenarioOutcome& outcome, int fds_at_start);

}  // namespace hv::testing

#endif  // HV_HYPERVISOR_KVM_KVM_FAULT_RUN_H_
