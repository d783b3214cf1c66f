// SweepFaults(): the loop of every fault-sweep test. A scenario (create a
// hypervisor, a VM, memory, vCPUs, ... and tear them down) is run once per
// call it makes through a backend's seam, with that call failing: call 0,
// then call 1, and so on (call numbers as testing/fakes/fault_plan.h counts
// them), until a run ends with no fault injected because the scenario made
// fewer calls. Each run should either report a Status that names the failed
// call or, for calls the kernel cannot refuse usefully (a close, a munmap),
// succeed; either way nothing may leak.
//
// The caller supplies one run: build a fresh seam (a fake, or
// FaultInjectingKvmSys), plan call N to fail, run the scenario, check what
// its backend promises (the Status, the state, no leak) with GTest
// assertions, and say whether the fault fired and what the scenario
// returned. The loop counts the outcomes.
//
// Example (RunScenario: a GunyahHypervisor on the fake, a VM with RAM and a
// devicetree, and their teardown):
//   const FaultSweep sweep = SweepFaults([&](uint64_t n) {
//     GunyahFake fake;
//     fake.FailCall(n, EIO);
//     const absl::Status status = RunScenario(fake);
//     EXPECT_EQ(fake.open_fds(), 0u);
//     return FaultRun{fake.call_count() > n, status};
//   });
//   EXPECT_EQ(sweep.calls, 6u);     // every seam call the scenario makes
//   EXPECT_EQ(sweep.reported, 4u);  // all but the two teardown closes
#ifndef HV_TESTING_FAULT_SWEEP_H_
#define HV_TESTING_FAULT_SWEEP_H_

#include <cstdint>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace hv::testing {

// One run of the scenario with one call failing.
struct FaultRun {
  bool injected = false;  // the call planned to fail was made (and failed)
  absl::Status status;    // what the scenario returned
  bool leaked = false;    // it left something behind (an fd, a handle, ...)
};

// What a sweep saw.
struct FaultSweep {
  uint64_t calls = 0;       // runs with a fault injected: the scenario's calls
  uint64_t reported = 0;    // of those, runs that returned an error Status
  uint64_t unreported = 0;  // runs that succeeded all the same (teardown, ...)
  uint64_t leaked = 0;      // runs with a fault injected that leaked
};

// SweepFaults(): runs `run_with_fault(n)` (returning a FaultRun) for n = 0,
// 1, ... until a run has no fault injected, or `limit` runs (then the test
// fails: the scenario seems never to end). Each run is traced with its n.
template <typename RunWithFault>
FaultSweep SweepFaults(RunWithFault run_with_fault, uint64_t limit = 10000) {
  FaultSweep sweep;
  for (uint64_t n = 0;; ++n) {
    if (n == limit) {
      ADD_FAILURE() << "the fault sweep ran " << limit
                    << " times and the scenario made more calls still";
      break;
    }
    SCOPED_TRACE(::testing::Message() << "failing call " << n);
    const FaultRun run = run_with_fault(n);
    if (!run.injected) break;
    ++sweep.calls;
    if (run.leaked) ++sweep.leaked;
    if (run.status.ok()) {
      ++sweep.unreported;
    } else {
      ++sweep.reported;
    }
  }
  return sweep;
}

}  // namespace hv::testing

#endif  // HV_TESTING_FAULT_SWEEP_H_
