// Snapshots of a Linux guest with hvrun, as a user would take them:
//
//   hvrun --kernel=vmlinuz --initrd=initramfs.cpio --vcpus=2 --mem=128M
//         --snapshot_on=USR1 --snapshot=linux.hvsnap      (kill -USR1: exit 14)
//   hvrun --restore=linux.hvsnap --snapshot_after=100 --snapshot=again.hvsnap
//   hvrun --restore=again.hvsnap --advance_clock
//
// The kernel and busybox are the tools/vmtest VM's, as in
// hvrun_linux_boot_test (which says why this runs there on every host):
// x86_64's bzImage in the SVM VM, or arm64's Image in the arm64 VM
// (--config=aarch64-kvm), where the GICv3's state and the virtual timer
// travel too.
// The guest's init counts ticks on its console, one a second; each
// restored run must go on counting from where its snapshot stopped, in a
// fresh hvrun process, without booting again. All three runs are in one
// test binary, so in one VM: one VM boot, one Linux boot.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/subprocess.h"
#include "tools/hvrun/hvrun_test_util.h"
#include "tools/hvrun/linux_guest/guest_test_util.h"

namespace hv {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

#if defined(__aarch64__)
constexpr char kCmdline[] = "--cmdline=console=ttyS0 panic=-1";
#else
constexpr char kCmdline[] = "--cmdline=console=ttyS0 reboot=k panic=-1";
#endif
constexpr int kEndedBySigint = 128 + SIGINT;
constexpr char kTick[] = "hv-init: tick ";

// Counts forever, each tick with the guest's uptime (seconds, two
// decimals): a restored guest's console shows where it went on, and what
// time it saw pass.
constexpr char kInit[] = R"sh(#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
echo "hv-init: counting"
i=0
while true; do
  i=$((i + 1))
  echo "hv-init: tick $i at $(cut -d ' ' -f 1 /proc/uptime)"
  sleep 1
done
)sh";
// How long the test waits before the last restore, which advances the
// guest's clock by the time since the snapshot: the guest then sees one
// step between two ticks of at least this; every other step is the
// guest's `sleep 1` (a few seconds at most in the emulated VMs).
constexpr absl::Duration kWaitBeforeAdvancedRestore = absl::Seconds(6);

// Each tick in `console`, in order: its number and the guest's uptime then
// (hundredths of a second; -1 where the line is cut short). Found wherever
// they stand, not line by line: a kernel message (e.g. "hrtimer: interrupt
// took N ns" after a slow restore in the arm64 VM) can land on the line a
// stop left without its line end.
struct Tick {
  int64_t number = 0;
  int64_t uptime = -1;
};
std::vector<Tick> Ticks(absl::string_view console) {
  std::vector<Tick> ticks;
  for (size_t at = console.find(kTick); at != absl::string_view::npos;
       at = console.find(kTick, at + 1)) {
    absl::string_view rest = console.substr(at + sizeof(kTick) - 1);
    const size_t end = rest.find_first_not_of("0123456789");
    Tick tick;
    if (!absl::SimpleAtoi(rest.substr(0, end), &tick.number)) continue;
    rest.remove_prefix(std::min(end, rest.size()));
    if (absl::ConsumePrefix(&rest, " at ")) {
      std::string uptime(rest.substr(0, rest.find_first_not_of("0123456789.")));
      uptime.erase(std::remove(uptime.begin(), uptime.end(), '.'), uptime.end());
      if (!absl::SimpleAtoi(uptime, &tick.uptime)) tick.uptime = -1;
    }
    ticks.push_back(tick);
  }
  return ticks;
}

// Runs hvrun with its console and stderr in the log as they come (should
// the whole VM stop, the log shows how far the guest got), then how long it
// took.
testing::SubprocessResult RunLogged(const std::string& what, std::vector<std::string> args,
                                    testing::SubprocessOptions options) {
  std::cout << "--- " << what << " ---" << std::endl;
  options.echo_fd = STDOUT_FILENO;
  const absl::Time start = absl::Now();
  testing::SubprocessResult r = RunHvrun(std::move(args), options);
  std::cout << "\n--- " << what << ": " << absl::FormatDuration(absl::Now() - start)
            << ", exit " << r.exit_code << " ---" << std::endl;
  return r;
}

testing::SubprocessOptions SignalAfter(int signal, const std::string& stdout_text) {
  testing::SubprocessOptions options;
  options.timeout = absl::Minutes(3);
  options.signal = signal;
  options.signal_after_stdout = stdout_text;
  return options;
}

TEST(HvrunLinuxSnapshot, RestoredGuestGoesOnCountingInAFreshProcess) {
  const std::string kernel = SharedGuestKernel();
  ASSERT_FALSE(kernel.empty());
  // The initramfs: busybox and the counting init.
  const std::string initrd = WriteBusyboxInitramfs({"bin", "dev", "proc"}, {{"init", kInit}});
  ASSERT_FALSE(initrd.empty());
  const std::string first = TempPath("linux.hvsnap");
  const std::string second = TempPath("again.hvsnap");

  // 1. Boot; SIGUSR1 once the third tick is out.
  const testing::SubprocessResult boot = RunLogged(
      "boot, snapshot on SIGUSR1",
      {absl::StrCat("--kernel=", kernel), "--initrd=" + initrd, "--vcpus=2", "--mem=128M",
       kCmdline, "--snapshot_on=USR1",
       "--snapshot=" + first, "--timeout=150s"},
      SignalAfter(SIGUSR1, absl::StrCat(kTick, 3, " at ")));
  ASSERT_EQ(boot.exit_code, kSnapshotWritten) << boot.stderr_text;
  EXPECT_THAT(boot.stdout_text, HasSubstr("Linux version"));
  EXPECT_THAT(boot.stderr_text, HasSubstr("hvrun: stopped on SIGUSR1, after "));
  std::cout << "snapshot on SIGUSR1: " << FileSize(first) << " bytes\n";
  EXPECT_GT(FileSize(first), 128 << 20);  // the RAM, and the rest

  // 2. Restore in a fresh process; a snapshot again after 100 VM exits
  // (some 3 ticks: each tick was about 30 in the SVM VM).
  const testing::SubprocessResult middle =
      RunLogged("restore, snapshot after 100 exits",
                {"--restore=" + first, "--snapshot_after=100", "--snapshot=" + second,
                 "--timeout=60s"},
                testing::SubprocessOptions());
  ASSERT_EQ(middle.exit_code, kSnapshotWritten) << middle.stderr_text;
  EXPECT_THAT(middle.stderr_text, HasSubstr("hvrun: restored " + first));
  EXPECT_THAT(middle.stderr_text, HasSubstr("2 vCPUs"));
  // The vCPU that handled the 100th exit stops the run; the other one may
  // finish the exit it was handling (hvrun's --snapshot_after help).
  EXPECT_THAT(middle.stderr_text, ContainsRegex("stopped after 10[01] VM exits"));
  std::cout << "snapshot after 100 exits: " << FileSize(second) << " bytes\n";

  // 3. Restore that one with the guest's clock moved on by the time since
  // (--advance_clock: its timers see the seconds the snapshot waited);
  // SIGINT two ticks on.
  const std::vector<Tick> so_far = Ticks(boot.stdout_text + middle.stdout_text);
  ASSERT_FALSE(so_far.empty());
  const int64_t until = so_far.back().number + 2;
  absl::SleepFor(kWaitBeforeAdvancedRestore);
  const testing::SubprocessResult last =
      RunLogged("restore with --advance_clock, SIGINT two ticks on",
                {"--restore=" + second, "--advance_clock", "--timeout=60s"},
                SignalAfter(SIGINT, absl::StrCat(kTick, until, " at ")));
  EXPECT_EQ(last.exit_code, kEndedBySigint) << last.stderr_text;

  // The three consoles are one count, 1, 2, 3, ... with no tick repeated or
  // missing, and the restored runs did not boot again.
  const std::string console = boot.stdout_text + middle.stdout_text + last.stdout_text;
  const std::vector<Tick> ticks = Ticks(console);
  ASSERT_GE(ticks.size(), 5u);
  for (size_t i = 0; i < ticks.size(); ++i) {
    EXPECT_EQ(ticks[i].number, static_cast<int64_t>(i) + 1) << "tick " << i;
  }
  // The guest's uptime between ticks: one step of kWaitBeforeAdvancedRestore
  // or more (the advanced restore; the first restore, without
  // --advance_clock, let the guest see none of the time it waited), every
  // other one below it.
  std::vector<int64_t> steps;
  for (size_t i = 1; i < ticks.size(); ++i) {
    ASSERT_GE(ticks[i - 1].uptime, 0) << console;
    ASSERT_GE(ticks[i].uptime, 0) << console;
    steps.push_back(ticks[i].uptime - ticks[i - 1].uptime);
  }
  std::sort(steps.rbegin(), steps.rend());
  const int64_t wait = absl::ToInt64Milliseconds(kWaitBeforeAdvancedRestore) / 10;
  std::cout << "uptime steps between ticks (1/100 s), largest first:";
  for (int64_t step : steps) std::cout << " " << step;
  std::cout << "\n";
  EXPECT_GE(steps[0], wait);
  EXPECT_LT(steps[1], wait);
  EXPECT_GE(ticks.back().number, until);
  EXPECT_GT(Ticks(middle.stdout_text + last.stdout_text).size(), 1u)
      << "the restored runs counted nothing";
  for (const std::string* restored : {&middle.stdout_text, &last.stdout_text}) {
    EXPECT_THAT(*restored, Not(HasSubstr("Linux version")));
    EXPECT_THAT(*restored, Not(HasSubstr("hv-init: counting")));
  }
  ::unlink(first.c_str());
  ::unlink(second.c_str());
}

}  // namespace
}  // namespace hv
