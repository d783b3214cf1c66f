// Runs the hvrun binary as a user would: the demo, flat payloads in real and
// long mode, several vCPUs, --stats, the timeout, and bad flags.
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
using ::testing::Not;

TEST(Hvrun, DemoFindsTheVirtioDeviceAndReadsTheHostBlob) {
  SubprocessResult r = RunHvrun({});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_THAT(r.stdout_text, HasSubstr("hv demo: guest running in 32-bit protected mode\n"));
  EXPECT_THAT(r.stdout_text,
              HasSubstr("hv demo: found virtio PCI device 0x1050 in slot 0x0003\n"));
  EXPECT_THAT(r.stdout_text, HasSubstr("hv demo: shared memory at 0xc"));
  EXPECT_THAT(r.stdout_text, HasSubstr(", length 0x01000000\n"));
  EXPECT_THAT(r.stdout_text,
              HasSubstr("hv demo: the host's blob says: greetings from the host, "
                        "read through the virtio shared-memory BAR"));
  EXPECT_THAT(r.stderr_text, HasSubstr("hvrun: demo on kvm (x86_64): virtio device in PCI slot 3"));
  EXPECT_THAT(r.stderr_text,
              HasSubstr("\nhvrun: guest finished (debug exit) with value 0: the demo worked\n"));
  EXPECT_THAT(r.stdout_text, Not(HasSubstr("hvrun:")));
}

TEST(Hvrun, DemoStatsListExitKinds) {
  SubprocessResult r = RunHvrun({"--stats"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_THAT(r.stderr_text, HasSubstr("count%"));
  EXPECT_THAT(r.stderr_text, HasSubstr("\nio "));
  EXPECT_THAT(r.stderr_text, HasSubstr("\ntotal "));
}

// The guest writes 7 to the debug exit: exit status (7 << 1) | 1.
TEST(Hvrun, RealModePayloadPrintsAndSetsExitCode) {
  SubprocessResult r = RunHvrun({PayloadFlag("hello_real.bin"), "--mode=real"});
  EXPECT_EQ(r.exit_code, 15) << r.stderr_text;
  EXPECT_EQ(r.stdout_text, "hello from a real-mode payload\n");
}

TEST(Hvrun, LongModePayloadRunsOnEveryVcpu) {
  SubprocessResult r = RunHvrun({PayloadFlag("hello_long.bin"), "--mode=long",
                              "--vcpus=3", "--mem=32M"});
  ExpectEveryVcpuWroteItsIndex(r, 3);
}

TEST(Hvrun, SpinningGuestHitsTheTimeout) {
  // The payload is one `jmp` to itself at cs:ip 0x1000:0.
  ExpectTimesOut(PayloadFlag("spin_real.bin"), "rip=0 ");
}

TEST(Hvrun, BadFlagsGiveOneClearLineAndNonZeroExit) {
  const std::string real = PayloadFlag("hello_real.bin");
  const std::vector<BadFlags> cases = {
      {{real, "--mode=virtual8086"}, "x86 mode \"virtual8086\": expected real, protected or long"},
      {{real, "--mem=lots"}, "memory size \"lots\""},
      {{real, "--load_addr=zero"}, "--load_addr=zero: expected an unsigned number"},
      {{"--hypervisor=nosuch"}, "hypervisor \"nosuch\" is not linked into this build; linked: kvm"},
      {{"--hypervisor=kvm[speed=9]"}, "hypervisor \"kvm\" has no option \"speed\"; it accepts: device"},
      {{"--hypervisor=kvm[device=/nonexistent/kvm]"}, "open /nonexistent/kvm"},
      {{"--payload=/nonexistent.bin"}, "--payload=/nonexistent.bin: cannot open it"},
      {{real, "--mem=64K"}, "does not fit"},
      {{real, "--vcpus=0"}, "--vcpus must be at least 1"},
      {{"extra"}, "unexpected argument \"extra\""},
      {{"--no_such_flag"}, "no_such_flag"},
  };
  ExpectBadFlagsRefused(cases);
}

}  // namespace
}  // namespace hv
