#include "hypervisor/kvm/kvm_fault_run.h"

#include <dirent.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace hv::testing {

int CountOpenFds() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count;
}

FaultRun CheckKvmFaultRun(const FaultInjectingKvmSys& sys,
                          const KvmScenarioOutcome& outcome, int fds_at_start) {
  const bool injected = sys.faults_injected() > 0;
  const std::string failed = sys.last_fault();
  if (!injected) {
    EXPECT_OK(outcome.status) << outcome.step;
  } else if (outcome.status.ok()) {
    EXPECT_TRUE(failed == "close" || failed == "munmap")
        << failed << " failed but the scenario succeeded";
  } else {
    EXPECT_THAT(std::string(outcome.status.message()),
                ::testing::AllOf(::testing::HasSubstr(failed),
                                 ::testing::HasSubstr("Input/output error")))
        << "step " << outcome.step;
    EXPECT_EQ(outcome.table_changed, "") << "step " << outcome.step;
  }
  const int fds = CountOpenFds();
  EXPECT_EQ(fds, fds_at_start) << "fd leak after failing " << failed;
  return {injected, outcome.status, fds != fds_at_start};
}

}  // namespace hv::testing
