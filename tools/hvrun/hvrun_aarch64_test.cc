// Runs the aarch64 hvrun binary as a user would, on a real arm64 KVM (in
// the arm64 vmtest VM where the host has none): the demo (ECAM, the virtio
// shared-memory BAR, the host's blob), flat payloads at two load addresses,
// several vCPUs, --stats, the timeout, and bad flags.
#include <string>
#include <vector>

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
  ExpectTimesOut(PayloadFlag("spin_aarch64.bin"));
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

}  // namespace
}  // namespace hv
