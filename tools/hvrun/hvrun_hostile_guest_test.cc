// hvrun running guests that end badly or unusually, on a real KVM (the
// host's, or a QEMU VM's where the host has none): a triple fault, an
// emulation failure, every kind of debug-exit value, SSE in protected and
// long mode, --vcpus over the hypervisor's own limit, too few file
// descriptors for the vCPUs, the timeout and
// SIGTERM/SIGINT with --stats. Each row asserts the exact exit status and
// hvrun's last stderr line. hvrun_hostile_input_test has the inputs that are
// refused before a hypervisor is opened.
#include <signal.h>
#include <sys/resource.h>

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "testing/subprocess.h"
#include "tools/hvrun/hvrun_test_util.h"

namespace hv::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// hvrun's stderr lines.
std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

struct GuestRow {
  std::string name;
  std::vector<std::string> args;
  int exit_code;
  std::string message;  // a substring of stderr's one line
  std::string stdout_text = "";
  std::vector<std::string> env = {};
};

std::vector<GuestRow> GuestRows() {
  return {
      {"TripleFault", {PayloadFlag("triple_fault_protected.bin"), "--mode=protected"}, 8,
       "hvrun: guest triple-faulted (shutdown) on vCPU 0; registers as the hypervisor "
       "reports them after the shutdown: rip=0x"},
      {"EmulationFailure", {PayloadFlag("fetch_outside_ram_protected.bin"), "--mode=protected"}, 8,
       "hvrun: guest hit an emulation failure (hypervisor internal error, suberror 1) on "
       "vCPU 0; registers as the hypervisor reports them after it: rip=0x"},
      {"DebugExitZero", {PayloadFlag("exit_value_0.bin")}, 1,
       "hvrun: guest finished (debug exit) with value 0; exit status 1"},
      {"DebugExitSeven", {PayloadFlag("hello_real.bin")}, 15,
       "hvrun: guest finished (debug exit) with value 7; exit status 15",
       "hello from a real-mode payload\n"},
      {"DebugExitSixtyThree", {PayloadFlag("exit_value_63.bin")}, 127,
       "hvrun: guest finished (debug exit) with value 63; exit status 127"},
      {"DebugExitSixtyFour", {PayloadFlag("exit_value_64.bin")}, 12,
       "hvrun: guest finished (debug exit) with value 64, above the 63 an exit status "
       "can carry; exit status 12"},
      {"DebugExitThreeHundred", {PayloadFlag("exit_value_300.bin")}, 12,
       "with value 300, above the 63"},
      {"AllVcpusHalted", {PayloadFlag("hello_long.bin"), "--mode=long", "--vcpus=2"}, 0,
       "hvrun: guest finished (all vCPUs halted) without a value"},
      {"SseInLongMode", {PayloadFlag("sse_long.bin"), "--mode=long"}, 85,
       "with value 42; exit status 85"},
      {"SseInProtectedModeOnThreeVcpus",
       {PayloadFlag("sse_protected.bin"), "--mode=protected", "--vcpus=3"}, 85,
       "with value 42; exit status 85"},
      {"StackAtFourGiB", {PayloadFlag("sse_protected.bin"), "--mode=protected", "--mem=5G"}, 85,
       "with value 42; exit status 85"},
      {"RealModeStacksOnFourVcpus", {PayloadFlag("exit_value_63.bin"), "--vcpus=4"}, 127,
       "with value 63; exit status 127"},
      {"RelativePayloadUnderBazelRun", {"--payload=hello_real.bin"}, 15,
       "with value 7; exit status 15", "hello from a real-mode payload\n",
       {"BUILD_WORKING_DIRECTORY=" + RunfilePath("tools/hvrun/testdata")}},
  };
}

class HostileGuest : public ::testing::TestWithParam<GuestRow> {};

TEST_P(HostileGuest, EndsWithItsExitStatusAndOneLine) {
  const GuestRow& row = GetParam();
  SubprocessOptions options;
  options.env = row.env;
  SubprocessResult r = RunHvrun(row.args, options);
  EXPECT_EQ(r.exit_code, row.exit_code) << r.stderr_text;
  const std::vector<std::string> lines = Lines(r.stderr_text);
  ASSERT_EQ(lines.size(), 1u) << r.stderr_text;
  EXPECT_THAT(lines[0], HasSubstr(row.message));
  if (!row.stdout_text.empty()) {
    EXPECT_EQ(r.stdout_text, row.stdout_text);
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, HostileGuest, ::testing::ValuesIn(GuestRows()),
                         [](const ::testing::TestParamInfo<GuestRow>& info) {
                           return info.param.name;
                         });

// The limit as the hypervisor reports it (hvprobe --json asks the backend).
uint32_t KvmMaxVcpus() {
  absl::StatusOr<SubprocessResult> probe =
      RunSubprocess({RunfilePath("tools/hvprobe/hvprobe"), "--json"});
  EXPECT_THAT(probe, IsOk());
  if (!probe.ok()) return 0;
  const std::string key = "\"hypervisor\": {\"max_vcpus\": ";
  const size_t at = probe->stdout_text.find(key);
  EXPECT_NE(at, std::string::npos) << probe->stdout_text;
  if (at == std::string::npos) return 0;
  const std::string rest = probe->stdout_text.substr(at + key.size());
  uint32_t max = 0;
  EXPECT_TRUE(absl::SimpleAtoi(rest.substr(0, rest.find(',')), &max)) << rest;
  return max;
}

TEST(HostileGuestVcpus, OverTheHypervisorsLimitIsRefusedNamingIt) {
  const uint32_t max = KvmMaxVcpus();
  ASSERT_GT(max, 0u);
  // Enough RAM for every vCPU's 64 KiB stack, so only the limit refuses.
  const uint64_t mem_mib = ((uint64_t{max} + 1) * 0x10000 >> 20) + 2;
  SubprocessResult r = RunHvrun({PayloadFlag("hello_long.bin"), "--mode=long",
                              absl::StrCat("--vcpus=", max + 1),
                              absl::StrCat("--mem=", mem_mib, "M")});
  EXPECT_EQ(r.exit_code, 2) << r.stderr_text;
  EXPECT_EQ(r.stderr_text,
            absl::StrCat("hvrun: machine: ", max + 1, " vCPUs requested; the kvm "
                         "hypervisor's limit is ", max, " vCPUs per VM (as it reports it)\n"));
}

// A resource limit too low for the vCPUs: hvrun runs with room for 32 file
// descriptors and is asked for 40 vCPUs, one fd each; it asks the limit up
// front and refuses naming it. (Were it to run out halfway, the vCPUs made
// so far would be torn down and it would exit 6 all the same; the up-front
// check also keeps UBSan's runtime, which needs a free fd for its vptr
// checks, from failing in that teardown.) The limit is lowered in this
// process for the spawn only (the child inherits it).
TEST(HostileGuestLimits, TooFewFileDescriptorsForTheVcpus) {
  rlimit saved;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = 32;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  SubprocessResult r = RunHvrun({PayloadFlag("hello_long.bin"), "--mode=long", "--vcpus=40"});
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_EQ(r.exit_code, 6) << r.stderr_text;
  const std::vector<std::string> lines = Lines(r.stderr_text);
  ASSERT_EQ(lines.size(), 1u) << r.stderr_text;
  EXPECT_THAT(lines[0], StartsWith("hvrun: --vcpus=40 needs about "));
  EXPECT_THAT(lines[0], HasSubstr("file descriptors (one per vCPU), more than this process "
                                  "may open (RLIMIT_NOFILE 32; raise it with ulimit -n)"));
}

TEST(HostileGuestTimeout, EndsWithExitTenAndStats) {
  SubprocessResult r = RunHvrun({PayloadFlag("spin_real.bin"), "--timeout=1s", "--stats"});
  EXPECT_EQ(r.exit_code, 10) << r.stderr_text;
  EXPECT_THAT(r.stderr_text, HasSubstr("\ntotal "));
  const std::vector<std::string> lines = Lines(r.stderr_text);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "hvrun: the guest did not finish within 1s");
}

// A signal while the guest loops forever: its output flushed, --stats
// printed, the last line saying so, exit 128 + the signal.
void ExpectSignalEndsTheRun(int signal, const std::string& name) {
  SubprocessOptions options;
  options.signal = signal;
  options.signal_after_stdout = "spinning until a signal\n";
  options.timeout = absl::Seconds(60);
  SubprocessResult r = RunHvrun({PayloadFlag("print_then_spin_real.bin"), "--stats"}, options);
  EXPECT_EQ(r.exit_code, 128 + signal) << r.stderr_text;
  EXPECT_EQ(r.stdout_text, "spinning until a signal\n");
  EXPECT_THAT(r.stderr_text, StartsWith("exit "));
  EXPECT_THAT(r.stderr_text, HasSubstr("\ntotal "));
  const std::vector<std::string> lines = Lines(r.stderr_text);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), absl::StrCat("hvrun: interrupted by ", name,
                                       "; the guest's output so far is flushed to "
                                       "stdout; exit status ", 128 + signal));
}

TEST(HostileGuestSignal, SigtermFlushesPrintsStatsAndExits143) {
  ExpectSignalEndsTheRun(SIGTERM, "SIGTERM");
}

TEST(HostileGuestSignal, SigintFlushesPrintsStatsAndExits130) {
  ExpectSignalEndsTheRun(SIGINT, "SIGINT");
}

}  // namespace
}  // namespace hv::testing
