// hvrun's snapshots as a user takes them (machine_snapshot.h): a payload
// stopped after N VM exits or on SIGUSR1, its snapshot restored by a fresh
// hvrun that prints the rest of an uninterrupted run's output; restores of
// missing, damaged or mismatched snapshots refused; the snapshot flags that
// do not fit together refused.
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/subprocess.h"
#include "tools/hvrun/hvrun_test_util.h"

namespace hv {
namespace {

using ::hv::testing::SubprocessOptions;
using ::hv::testing::SubprocessResult;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kHello[] = "hello from a real-mode payload\n";  // hello_real.bin's
constexpr int kHelloExit = (7 << 1) | 1;
// 1 MiB of RAM keeps the files small: a snapshot is about the RAM's size.
constexpr char kSmallMem[] = "--mem=1M";

// hello_real.bin stopped after `exits` VM exits (one per byte printed) into
// `path`: what it printed, checked to be the start of the line.
std::string SnapshotHelloAfter(int exits, const std::string& path) {
  SubprocessResult r = RunHvrun({PayloadFlag("hello_real.bin"), kSmallMem,
                                 absl::StrCat("--snapshot_after=", exits),
                                 absl::StrCat("--snapshot=", path)});
  EXPECT_EQ(r.exit_code, kSnapshotWritten) << r.stderr_text;
  EXPECT_THAT(LastLine(r.stderr_text),
              StartsWith(absl::StrCat("hvrun: stopped after ", exits,
                                      " VM exits; snapshot written to ", path, " (")));
  EXPECT_THAT(LastLine(r.stderr_text),
              HasSubstr(absl::StrCat("continue it with --restore=", path, "; exit status 14")));
  // The RAM and the state around it.
  EXPECT_GT(FileSize(path), 1 << 20);
  EXPECT_EQ(r.stdout_text, std::string(kHello).substr(0, exits));
  return r.stdout_text;
}

TEST(HvrunSnapshot, RestoredRunPrintsTheRestOfAnUninterruptedRun) {
  SubprocessResult whole = RunHvrun({PayloadFlag("hello_real.bin"), kSmallMem});
  ASSERT_EQ(whole.exit_code, kHelloExit) << whole.stderr_text;
  ASSERT_EQ(whole.stdout_text, kHello);
  // The first byte, the middle, and every byte printed (the next exit is
  // the debug exit).
  for (int exits : {1, 10, static_cast<int>(sizeof(kHello) - 1)}) {
    SCOPED_TRACE(exits);
    const std::string path = TempPath(absl::StrCat("hello_", exits, ".hvsnap"));
    const std::string before = SnapshotHelloAfter(exits, path);
    SubprocessResult after = RunHvrun({absl::StrCat("--restore=", path)});
    EXPECT_EQ(after.exit_code, kHelloExit) << after.stderr_text;
    EXPECT_EQ(before + after.stdout_text, whole.stdout_text);
    EXPECT_THAT(after.stderr_text,
                StartsWith(absl::StrCat("hvrun: restored ", path, " (1048576 bytes of RAM, 1 "
                                        "vCPU, taken on kvm after ",
                                        exits, " VM exits)\n")));
    // A restore does not change the file: a second one prints the same,
    // with the guest's clock advanced by the time since too (a payload
    // without kvmclock sees no difference).
    SubprocessResult again = RunHvrun({absl::StrCat("--restore=", path), kSmallMem,
                                       "--vcpus=1", "--advance_clock"});
    EXPECT_EQ(again.exit_code, kHelloExit) << again.stderr_text;
    EXPECT_EQ(again.stdout_text, after.stdout_text);
    ::unlink(path.c_str());
  }
}

// A snapshot of a restored run: the two stops and the last run together
// print the line once.
TEST(HvrunSnapshot, RestoredRunCanBeSnapshotAgain) {
  const std::string first = TempPath("chain_1.hvsnap");
  const std::string second = TempPath("chain_2.hvsnap");
  const std::string a = SnapshotHelloAfter(5, first);
  SubprocessResult b = RunHvrun({absl::StrCat("--restore=", first), "--snapshot_after=7",
                                 absl::StrCat("--snapshot=", second)});
  EXPECT_EQ(b.exit_code, kSnapshotWritten) << b.stderr_text;
  SubprocessResult c = RunHvrun({absl::StrCat("--restore=", second)});
  EXPECT_EQ(c.exit_code, kHelloExit) << c.stderr_text;
  EXPECT_EQ(b.stdout_text, " from a");
  EXPECT_EQ(a + b.stdout_text + c.stdout_text, kHello);
  ::unlink(first.c_str());
  ::unlink(second.c_str());
}

// Three vCPUs each print their index and halt: those that halted before
// the stop stay halted after the restore (hvrun's section of the file), so
// every index is printed once across the two runs.
TEST(HvrunSnapshot, HaltedVcpusStayHaltedAfterRestore) {
  const std::string path = TempPath("vcpus.hvsnap");
  SubprocessResult before =
      RunHvrun({PayloadFlag("hello_long.bin"), "--mode=long", "--vcpus=3", "--mem=32M",
                "--snapshot_after=2", absl::StrCat("--snapshot=", path)});
  ASSERT_EQ(before.exit_code, kSnapshotWritten) << before.stderr_text;
  SubprocessResult after = RunHvrun({absl::StrCat("--restore=", path)});
  ExpectEveryVcpuWroteItsIndex(after, 3, before.stdout_text);
  ::unlink(path.c_str());
}

// SIGUSR1 while the guest loops: a snapshot; the restored guest loops on
// where it was (it does not print its line again) until the timeout.
TEST(HvrunSnapshot, SignalStopsTheGuestForASnapshot) {
  const std::string path = TempPath("signal.hvsnap");
  SubprocessOptions options;
  options.signal = SIGUSR1;
  options.signal_after_stdout = "spinning until a signal\n";
  options.timeout = absl::Seconds(60);
  SubprocessResult r =
      RunHvrun({PayloadFlag("print_then_spin_real.bin"), kSmallMem, "--snapshot_on=USR1",
                absl::StrCat("--snapshot=", path), "--timeout=50s"},
               options);
  EXPECT_EQ(r.exit_code, kSnapshotWritten) << r.stderr_text;
  EXPECT_EQ(r.stdout_text, "spinning until a signal\n");
  EXPECT_THAT(LastLine(r.stderr_text),
              StartsWith(absl::StrCat("hvrun: stopped on SIGUSR1, after 24 VM exits; "
                                      "snapshot written to ",
                                      path)));
  EXPECT_GT(FileSize(path), 1 << 20);
  SubprocessResult after = RunHvrun({absl::StrCat("--restore=", path), "--timeout=1s"});
  EXPECT_EQ(after.exit_code, 10) << after.stderr_text;
  EXPECT_EQ(after.stdout_text, "");
  EXPECT_EQ(LastLine(after.stderr_text), "hvrun: the guest did not finish within 1s");
  ::unlink(path.c_str());
}

// The guest ends before the Nth exit: its own exit status, no file, and a
// line saying no snapshot was taken.
TEST(HvrunSnapshot, RunEndingFirstTakesNoSnapshot) {
  const std::string path = TempPath("never.hvsnap");
  SubprocessResult r = RunHvrun({PayloadFlag("hello_real.bin"), kSmallMem,
                                 "--snapshot_after=1000", absl::StrCat("--snapshot=", path)});
  EXPECT_EQ(r.exit_code, kHelloExit) << r.stderr_text;
  EXPECT_EQ(r.stdout_text, kHello);
  EXPECT_THAT(r.stderr_text,
              HasSubstr("hvrun: no snapshot taken: the run ended first, after 32 VM exits\n"));
  EXPECT_EQ(FileSize(path), -1);
}

TEST(HvrunSnapshot, UnwritableSnapshotExits16) {
  SubprocessResult r = RunHvrun({PayloadFlag("hello_real.bin"), kSmallMem,
                                 "--snapshot_after=3", "--snapshot=/nonexistent/dir/vm.hvsnap"});
  EXPECT_EQ(r.exit_code, 16) << r.stderr_text;
  EXPECT_EQ(LastLine(r.stderr_text),
            "hvrun: writing snapshot /nonexistent/dir/vm.hvsnap: open "
            "/nonexistent/dir/vm.hvsnap.tmp: No such file or directory");
}

TEST(HvrunSnapshot, BadRestoresAreRefused) {
  const std::string good = TempPath("good.hvsnap");
  SnapshotHelloAfter(3, good);
  const std::string garbage = TempPath("garbage.hvsnap");
  std::ofstream(garbage) << "this is not a snapshot\n";
  // A snapshot cut in half: its memory section (most of the file) runs
  // past the end.
  const std::string truncated = TempPath("truncated.hvsnap");
  {
    std::ifstream in(good, std::ios::binary);
    std::string head(FileSize(good) / 2, '\0');
    in.read(head.data(), head.size());
    std::ofstream(truncated, std::ios::binary) << head;
  }
  const std::string missing = TempPath("missing.hvsnap");
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--restore=" + missing}, 4,
       absl::StrCat("hvrun: reading snapshot ", missing, ": open ", missing,
                    ": No such file or directory")},
      {{"--restore=" + garbage}, 4,
       absl::StrCat("hvrun: reading snapshot ", garbage,
                    ": snapshot: not an hv snapshot (the file does not start with "
                    "\"HVSNAP\\r\\n\")")},
      {{"--restore=" + truncated}, 4,
       absl::StrCat("hvrun: reading snapshot ", truncated,
                    ": snapshot: section memory range (tag 1) index 0 claims")},
      {{"--restore=" + good, "--mem=2M"}, 2,
       absl::StrCat("hvrun: --restore=", good,
                    ": the snapshot's machine has 1048576 bytes of RAM; --mem=2M is 2097152 "
                    "bytes (leave --mem out to use the snapshot's)")},
      {{"--restore=" + good, "--vcpus=2"}, 2,
       absl::StrCat("hvrun: --restore=", good,
                    ": the snapshot's machine has 1 vCPU; --vcpus=2 differs (leave --vcpus "
                    "out to use the snapshot's)")},
  };
  for (const Case& c : cases) {
    SubprocessResult r = RunHvrun(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.message << "\n" << r.stderr_text;
    EXPECT_THAT(LastLine(r.stderr_text), StartsWith(c.message));
    EXPECT_EQ(r.stdout_text, "");
  }
  for (const std::string& path : {good, garbage, truncated}) ::unlink(path.c_str());
}

TEST(HvrunSnapshot, FlagsThatDoNotFitAreRefused) {
  const std::string real = PayloadFlag("hello_real.bin");
  const std::string file = "--snapshot=" + TempPath("unused.hvsnap");
  const std::vector<BadFlags> cases = {
      {{real, file}, "--snapshot=FILE needs --snapshot_after=N or --snapshot_on=SIGNAL"},
      {{real, "--snapshot_after=3"}, "--snapshot_after and --snapshot_on need --snapshot=FILE"},
      {{real, "--snapshot_on=USR1"}, "--snapshot_after and --snapshot_on need --snapshot=FILE"},
      {{real, file, "--snapshot_after=0"}, "--snapshot_after=0: expected at least 1 VM exit"},
      {{real, file, "--snapshot_after=-1"}, "snapshot_after"},
      {{real, file, "--snapshot_on=INT"},
       "--snapshot_on=INT: expected USR1, USR2 or HUP (with or without SIG)"},
      {{real, "--snapshot=", "--snapshot_after=3"}, "--snapshot=: expected a file name"},
      {{"--restore="}, "--restore=: expected a file name"},
      {{file, "--snapshot_after=3"},
       "--snapshot applies to --payload, --kernel or --restore only: the demo's own PCI bus "
       "is not saved"},
      // Linux guests take snapshots: the flags pass, the missing kernel does not.
      {{"--kernel=/nonexistent/bzImage", file, "--snapshot_after=3"},
       "--kernel=/nonexistent/bzImage: cannot open it"},
      {{"--restore=x.hvsnap", real}, "--payload does not apply to --restore: the snapshot "
                                     "holds the guest's RAM and registers"},
      {{"--restore=x.hvsnap", "--kernel=bzImage"}, "--kernel does not apply to --restore"},
      {{"--restore=x.hvsnap", "--mode=long"}, "--mode does not apply to --restore"},
      {{"--restore=x.hvsnap", "--entry=0x10000"}, "--entry does not apply to --restore"},
      {{real, "--advance_clock"}, "--advance_clock applies to --restore only"},
  };
  ExpectBadFlagsRefused(cases);
}

}  // namespace
}  // namespace hv
