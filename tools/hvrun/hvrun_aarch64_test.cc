// Runs the aarch64 hvrun binary as a user would, on a real arm64 KVM (in
// the arm64 vmtest VM where the host has none): the demo (ECAM, the virtio
// shared-memory BAR, the host's blob), flat payloads at two load addresses,
// several vCPUs, --stats, the timeout, bad flags and bad kernel images
// (the Linux boot itself: hvrun_linux_boot_test), and snapshots of payload
// machines restored by a fresh hvrun (x86_64's: hvrun_snapshot_test; Linux
// guests': hvrun_linux_snapshot_test).
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "linux_boot/arm64_image_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "testing/subprocess.h"
#include "tools/hvrun/hvrun_test_util.h"

namespace hv {
namespace {

using ::hv::testing::SubprocessResult;
using ::testing::HasSubstr;

TEST(HvrunAArch64, DemoFindsTheVirtioDeviceThroughEcamAndReadsTheHostBlob) {
  SubprocessResult r = RunHvrun({});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_THAT(r.stderr_text, HasSubstr("virtio device in PCI slot 3 (ECAM at 0x30000000)"));
  EXPECT_THAT(r.stdout_text, HasSubstr("hv demo: guest running at EL1 on aarch64\n"));
  EXPECT_THAT(r.stdout_text,
              HasSubstr("hv demo: found virtio PCI device 0x1050 in slot 0x0003\n"));
  EXPECT_THAT(r.stdout_text,
              HasSubstr("hv demo: shared memory at 0x0000000010000000, length 0x01000000\n"));
  EXPECT_THAT(r.stdout_text,
              HasSubstr("hv demo: the host's blob says: greetings from the host, "
                        "read through the virtio shared-memory BAR\n"));
  EXPECT_THAT(r.stderr_text,
              HasSubstr("hvrun: guest finished (system off) with value 0: the demo worked\n"));
}

TEST(HvrunAArch64, DemoStatsListMmioExits) {
  SubprocessResult r = RunHvrun({"--stats"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_THAT(r.stderr_text, HasSubstr("\nmmio "));
  EXPECT_THAT(r.stderr_text, HasSubstr("\nsystem_event "));
  EXPECT_THAT(r.stderr_text, HasSubstr("\ntotal "));
}

TEST(HvrunAArch64, PayloadPrintsAndSetsTheExitCodeBeforeSystemOff) {
  SubprocessResult r = RunHvrun({PayloadFlag("hello_aarch64.bin")});
  EXPECT_EQ(r.exit_code, 15) << r.stderr_text;  // value 7: (7 << 1) | 1
  EXPECT_EQ(r.stdout_text, "hello from an aarch64 payload\n");
}

TEST(HvrunAArch64, PayloadRunsAtAnotherLoadAddressAndEntry) {
  SubprocessResult r = RunHvrun({PayloadFlag("hello_aarch64.bin"), "--load_addr=0x40200000",
                              "--entry=0x40200000", "--mode=el1", "--mem=8M"});
  EXPECT_EQ(r.exit_code, 15) << r.stderr_text;
  EXPECT_EQ(r.stdout_text, "hello from an aarch64 payload\n");
}

TEST(HvrunAArch64, PayloadRunsOnEveryVcpu) {
  SubprocessResult r = RunHvrun({PayloadFlag("vcpus_aarch64.bin"), "--vcpus=3", "--mem=32M"});
  ExpectEveryVcpuWroteItsIndex(r, 3);  // then SYSTEM_OFF without a value
  EXPECT_THAT(r.stderr_text, HasSubstr("guest finished (system off) without a value"));
}

TEST(HvrunAArch64, SpinningGuestHitsTheTimeout) {
  // The payload is one `b` to itself at the default load address.
  ExpectTimesOut(PayloadFlag("spin_aarch64.bin"), "pc=0x40000000 ");
}

TEST(HvrunAArch64, BadFlagsGiveOneClearLineAndNonZeroExit) {
  const std::string hello = PayloadFlag("hello_aarch64.bin");
  const std::vector<BadFlags> cases = {
      {{hello, "--mode=long"}, "aarch64 mode \"long\": expected el1"},
      {{hello, "--load_addr=0x1000"}, "does not fit in 0x4000000 bytes of RAM at 0x40000000"},
      {{hello, "--load_addr=0x40000002"}, "must be 4-byte aligned on aarch64"},
      {{hello, "--mem=lots"}, "memory size \"lots\""},
      {{hello, "--vcpus=0"}, "--vcpus must be at least 1"},
      {{hello, "--vcpus=2", "--mem=64K"}, "2 vCPUs need 0x20000 bytes of stack"},
      {{"--hypervisor=nosuch"}, "hypervisor \"nosuch\" is not linked into this build"},
      {{"--payload=/nonexistent.bin"}, "--payload=/nonexistent.bin: cannot open it"},
  };
  ExpectBadFlagsRefused(cases);
}

// Writes `bytes` to TempPath(name); its path.
std::string TempFile(const std::string& name, const std::vector<uint8_t>& bytes) {
  const std::string path = TempPath(name);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return path;
}

TEST(HvrunAArch64, BadKernelImagesGiveOneLineAndExitFour) {
  TestArm64Image huge;
  huge.image_size = 1ull << 30;
  TestArm64Image not_arm64;
  not_arm64.magic = 0x53726448;  // "HdrS", an x86 setup header's magic
  std::vector<uint8_t> gzip(4096, 0);
  gzip[0] = 0x1f;
  gzip[1] = 0x8b;
  const std::string good = TempFile("good.Image", TestArm64Image().Build());
  const std::string initrd = TempFile("big.initrd", std::vector<uint8_t>(60 << 20, 0x5a));
  const struct {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{"--kernel=" + TempFile("short.Image", std::vector<uint8_t>(32, 0))},
       "arm64 Image: 32 bytes is too short for the 64-byte Image header"},
      {{"--kernel=" + TempFile("vmlinuz.gz", gzip)}, "arm64 Image: a gzip file"},
      {{"--kernel=" + TempFile("bzImage", not_arm64.Build())}, "no \"ARM\\x64\" magic"},
      {{"--kernel=" + TempFile("huge.Image", huge.Build()), "--mem=64M"},
       "linux boot: the kernel (0x40000000 bytes"},
      {{"--kernel=" + good, "--initrd=" + initrd, "--mem=64M"},
       "linux boot: the initrd (0x3c00000 bytes) does not fit"},
      {{"--kernel=/nonexistent/Image"}, "--kernel=/nonexistent/Image"},
  };
  for (const auto& c : cases) {
    testing::SubprocessResult r = RunHvrun(c.args);
    EXPECT_EQ(r.exit_code, 4) << c.message << "\n" << r.stderr_text;
    // One line, hvrun's, naming what is wrong.
    EXPECT_EQ(r.stderr_text.rfind("hvrun: ", 0), 0u) << r.stderr_text;
    EXPECT_EQ(std::count(r.stderr_text.begin(), r.stderr_text.end(), '\n'), 1) << r.stderr_text;
    EXPECT_THAT(r.stderr_text, HasSubstr(c.message));
    EXPECT_EQ(r.stdout_text, "") << c.message;
  }
}

constexpr char kHello[] = "hello from an aarch64 payload\n";  // hello_aarch64.bin's
constexpr int kHelloExit = 15;                                 // value 7: (7 << 1) | 1

// hello_aarch64.bin stops after `exits` VM exits (one MMIO exit per byte
// printed) for a snapshot; a fresh hvrun restores it and prints the rest
// of the line, then the payload's value and SYSTEM_OFF end the run as they
// end an uninterrupted one.
TEST(HvrunAArch64, RestoredPayloadPrintsTheRestOfAnUninterruptedRun) {
  for (int exits : {1, 12, static_cast<int>(sizeof(kHello) - 1)}) {
    SCOPED_TRACE(exits);
    const std::string path = TempPath(absl::StrCat("hello_", exits, ".hvsnap"));
    SubprocessResult before =
        RunHvrun({PayloadFlag("hello_aarch64.bin"), "--mem=1M",
                  absl::StrCat("--snapshot_after=", exits), "--snapshot=" + path});
    ASSERT_EQ(before.exit_code, kSnapshotWritten) << before.stderr_text;
    EXPECT_THAT(before.stderr_text,
                HasSubstr(absl::StrFormat("stopped after %d VM exits; snapshot written to %s",
                                          exits, path)));
    EXPECT_EQ(before.stdout_text, std::string(kHello).substr(0, exits));
    SubprocessResult after = RunHvrun({"--restore=" + path});
    EXPECT_EQ(after.exit_code, kHelloExit) << after.stderr_text;
    EXPECT_THAT(after.stderr_text, HasSubstr("hvrun: restored " + path));
    EXPECT_EQ(before.stdout_text + after.stdout_text, kHello);
    ::unlink(path.c_str());
  }
}

// A snapshot of a restored run: the two stops and the last run together
// print the line once.
TEST(HvrunAArch64, RestoredPayloadCanBeSnapshotAgain) {
  const std::string first = TempPath("chain_1.hvsnap");
  const std::string second = TempPath("chain_2.hvsnap");
  SubprocessResult a = RunHvrun({PayloadFlag("hello_aarch64.bin"), "--mem=1M",
                                 "--snapshot_after=5", "--snapshot=" + first});
  ASSERT_EQ(a.exit_code, kSnapshotWritten) << a.stderr_text;
  SubprocessResult b =
      RunHvrun({"--restore=" + first, "--snapshot_after=7", "--snapshot=" + second});
  ASSERT_EQ(b.exit_code, kSnapshotWritten) << b.stderr_text;
  SubprocessResult c = RunHvrun({"--restore=" + second});
  EXPECT_EQ(c.exit_code, kHelloExit) << c.stderr_text;
  EXPECT_EQ(b.stdout_text, " from a");
  EXPECT_EQ(a.stdout_text + b.stdout_text + c.stdout_text, kHello);
  ::unlink(first.c_str());
  ::unlink(second.c_str());
}

// counter_aarch64.bin stopped at its third print and restored 1.5 s
// later: by default the guest's virtual counter goes on from the capture,
// so it sees no jump (the other 17 prints, value 0); with --advance_clock
// the counter moves on by the time since, and the guest sees it jump by a
// second or more at once (value 1).
TEST(HvrunAArch64, AdvanceClockLetsARestoredGuestSeeTheTimeSince) {
  const std::string path = TempPath("counter.hvsnap");
  SubprocessResult before = RunHvrun({PayloadFlag("counter_aarch64.bin"), "--mem=1M",
                                      "--snapshot_after=3", "--snapshot=" + path});
  ASSERT_EQ(before.exit_code, kSnapshotWritten) << before.stderr_text;
  EXPECT_EQ(before.stdout_text, "...");
  absl::SleepFor(absl::Milliseconds(1500));
  SubprocessResult paused = RunHvrun({"--restore=" + path});
  EXPECT_EQ(paused.exit_code, 1) << paused.stderr_text;  // value 0: (0 << 1) | 1
  EXPECT_EQ(paused.stdout_text, std::string(17, '.'));
  SubprocessResult advanced = RunHvrun({"--restore=" + path, "--advance_clock"});
  EXPECT_EQ(advanced.exit_code, 3) << advanced.stderr_text;  // value 1
  EXPECT_EQ(advanced.stdout_text, "J");
  ::unlink(path.c_str());
}

// Three vCPUs: vCPU 0 waits in RAM for the others' flags, so the restored
// machine must bring back every vCPU's registers and the RAM: each index
// is printed once across the two runs, and SYSTEM_OFF ends the second.
TEST(HvrunAArch64, RestoredVcpusCarryOnWhereTheyStopped) {
  const std::string path = TempPath("vcpus.hvsnap");
  SubprocessResult before =
      RunHvrun({PayloadFlag("vcpus_aarch64.bin"), "--vcpus=3", "--mem=32M",
                "--snapshot_after=1", "--snapshot=" + path});
  ASSERT_EQ(before.exit_code, kSnapshotWritten) << before.stderr_text;
  SubprocessResult after = RunHvrun({"--restore=" + path});
  ExpectEveryVcpuWroteItsIndex(after, 3, before.stdout_text);
  EXPECT_THAT(after.stderr_text, HasSubstr("guest finished (system off) without a value"));
  ::unlink(path.c_str());
}

TEST(HvrunAArch64, BadRestoresAreRefused) {
  const std::string missing = TempPath("missing.hvsnap");
  SubprocessResult none = RunHvrun({"--restore=" + missing});
  EXPECT_EQ(none.exit_code, 4) << none.stderr_text;
  EXPECT_THAT(none.stderr_text, HasSubstr("reading snapshot " + missing));

  const std::string path = TempPath("shape.hvsnap");
  SubprocessResult taken = RunHvrun({PayloadFlag("hello_aarch64.bin"), "--mem=1M",
                                     "--snapshot_after=3", "--snapshot=" + path});
  ASSERT_EQ(taken.exit_code, kSnapshotWritten) << taken.stderr_text;
  SubprocessResult other_mem = RunHvrun({"--restore=" + path, "--mem=2M"});
  EXPECT_EQ(other_mem.exit_code, 2) << other_mem.stderr_text;
  EXPECT_THAT(other_mem.stderr_text, HasSubstr("the snapshot's machine has 1048576 bytes"));
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace hv
