// hvrun and hvprobe given hostile input, run as a user would run them: one
// table row per input (a directory, /dev/zero, a FIFO with no writer, a
// 1 TiB sparse file, bad sizes and durations, flags that do not apply, ELF
// and bzImage files, ...), each asserting the exact exit status, that stdout
// is empty and that stderr is one line starting "hvrun:" (or "hvprobe:")
// with the expected words. No row needs a hypervisor: each is refused
// before one is opened, or names a device that does not exist.
// hvrun_hostile_guest_test has the rows that run guests on a real KVM.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "linux_boot/bzimage_fixture.h"
#include "testing/status_matchers.h"
#include "testing/subprocess.h"

namespace hv::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The directory the rows' files are made in, and a file in it.
std::string TmpDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/hostile");
}
std::string Tmp(const std::string& name) { return absl::StrCat(TmpDir(), "/", name); }

std::string Testdata(const std::string& name) {
  return RunfilePath("tools/hvrun/testdata/" + name);
}

struct Row {
  std::string name;  // the test's name
  std::string tool;  // "hvrun" or "hvprobe"
  std::vector<std::string> args;
  int exit_code;
  std::string message;          // a substring of the one stderr line
  std::vector<std::string> env;  // extra "NAME=value"
  bool needs_non_root = false;  // chmod 000 does not stop root
};

std::vector<Row> Rows() {
  const std::string real = "--payload=" + Testdata("hello_real.bin");
  const std::string lng = "--payload=" + Testdata("hello_long.bin");
  return {
      // The --payload file: exit 4.
      {"Directory", "hvrun", {"--payload=" + TmpDir()}, 4, "is a directory; it must be a regular file"},
      {"ParentIsAFile", "hvrun", {"--payload=" + Tmp("small.bin/child")}, 4, "cannot open it: Not a directory"},
      {"Unreadable", "hvrun", {"--payload=" + Tmp("unreadable.bin")}, 4, "cannot open it: Permission denied", {}, true},
      {"Missing", "hvrun", {"--payload=" + Tmp("missing.bin")}, 4, "cannot open it: No such file or directory"},
      {"DevZero", "hvrun", {"--payload=/dev/zero"}, 4, "is a character device (such as /dev/zero)"},
      {"FifoWithoutWriter", "hvrun", {"--payload=" + Tmp("fifo")}, 4, "is a FIFO; it must be a regular file"},
      {"SparseTebibyte", "hvrun", {"--payload=" + Tmp("sparse_1t.bin")}, 4,
       "the file is 1099511627776 bytes, larger than the 67108864 bytes of guest RAM"},
      {"LargerThanMem", "hvrun", {"--payload=" + Tmp("small.bin"), "--mem=4K"}, 4,
       "the file is 8192 bytes, larger than the 4096 bytes of guest RAM"},
      {"EmptyFile", "hvrun", {"--payload=" + Tmp("empty.bin")}, 4, "the file is empty"},
      {"EmptyPath", "hvrun", {"--payload="}, 4, "--payload=: expected the path of a flat binary"},
      {"ElfFile", "hvrun", {"--payload=" + Testdata("hello_long.elf")}, 4,
       "it is an ELF file, not a flat binary; convert it, e.g. objcopy -O binary"},
      {"BzImage", "hvrun", {"--payload=" + Testdata("fake_bzimage.bin")}, 4,
       "it is a Linux kernel (bzImage, \"HdrS\" at 0x202), not a flat binary; boot it with --kernel"},
      {"RelativeToBuildWorkingDirectory", "hvrun", {"--payload=subdir"}, 4,
       absl::StrCat("--payload=", Tmp("subdir"), ": is a directory"), {"BUILD_WORKING_DIRECTORY=" + TmpDir()}},
      // Where the payload goes: exit 2.
      {"PayloadBeyondRam", "hvrun", {real, "--mem=64K"}, 2, "bytes at 0x10000 does not fit in 0x10000 bytes of RAM at 0"},
      {"LoadAddressBeyondRam", "hvrun", {real, "--load_addr=0x10000000"}, 2, "at 0x10000000 does not fit"},
      {"LoadAddressNearTwoToThe64", "hvrun", {real, "--load_addr=0xfffffffffffff000"}, 2, "does not fit"},
      {"LoadAddressNegative", "hvrun", {real, "--load_addr=-4096"}, 2, "--load_addr=-4096: expected an unsigned number"},
      {"EntryOutsideRam", "hvrun", {real, "--entry=0x9999999"}, 2, "entry 0x9999999 is outside RAM [0, 0x4000000)"},
      {"EntryBeyondRealMode", "hvrun", {real, "--entry=0x200000"}, 2, "entry 0x200000 is beyond real mode's 1 MiB"},
      {"OverlapsPageTables", "hvrun", {lng, "--mode=long", "--load_addr=0x2000"}, 2,
       "payload at 0x2000 overlaps hv's boot tables at [0x1000, 0x8000)"},
      {"OverlapsStacks", "hvrun", {lng, "--mode=long", "--mem=1M", "--load_addr=0xf0000"}, 2,
       "overlaps the vCPUs' stacks [0xf0000, 0x100000); move it with --load_addr"},
      {"RealModeStacksOutsideRam", "hvrun", {real, "--mem=16K", "--load_addr=0x3000"}, 2,
       "real-mode stacks live below 0x8000; --mem=0x4000 does not reach it"},
      // Durations and sizes: exit 2.
      {"TimeoutNegative", "hvrun", {"--timeout=-1s"}, 2, "--timeout=-1s: expected more than 0 and at most 168h"},
      {"TimeoutZero", "hvrun", {"--timeout=0"}, 2, "--timeout=0: expected more than 0"},
      {"TimeoutHuge", "hvrun", {"--timeout=99999999999h"}, 2, "at most 168h"},
      {"TimeoutNotADuration", "hvrun", {"--timeout=soon"}, 2, "--timeout=soon: "},
      {"MemZero", "hvrun", {real, "--mem=0"}, 2, "memory size \"0\": expected a non-zero multiple of 4K"},
      {"MemNotPageMultiple", "hvrun", {real, "--mem=3K"}, 2, "memory size \"3K\": expected a non-zero multiple of 4K"},
      {"MemUnknownSuffix", "hvrun", {real, "--mem=1Q"}, 2, "memory size \"1Q\": unknown suffix 'Q'; expected K, M, G or T"},
      {"MemOverflow", "hvrun", {real, "--mem=99999999T"}, 2, "memory size \"99999999T\": larger than hvrun's limit of 64T"},
      {"MemOverflowBytes", "hvrun", {real, "--mem=18446744073709551616"}, 2, "memory size \"18446744073709551616\": expected digits"},
      {"MemNegative", "hvrun", {real, "--mem=-1M"}, 2, "memory size \"-1M\": expected digits"},
      // Modes and vCPUs: exit 2.
      {"BadMode", "hvrun", {real, "--mode=virtual8086"}, 2, "x86 mode \"virtual8086\": expected real, protected or long"},
      {"ModeOfTheOtherArch", "hvrun", {real, "--mode=el1"}, 2, "x86 mode \"el1\""},
      {"VcpusZero", "hvrun", {real, "--vcpus=0"}, 2, "--vcpus=0: --vcpus must be at least 1"},
      {"VcpusNegative", "hvrun", {real, "--vcpus=-1"}, 2, "--vcpus=-1: Illegal value"},
      {"VcpusOverflow", "hvrun", {real, "--vcpus=99999999999"}, 2, "--vcpus=99999999999: Illegal value"},
      {"VcpusHugeRealMode", "hvrun", {real, "--vcpus=4294967295"}, 2,
       "4294967295 vCPUs need 0x3fffffffc00 bytes of stack (0x400 each) in [0x1000, 0x8000), which holds 28 in real mode"},
      {"VcpusHugeLongMode", "hvrun", {lng, "--mode=long", "--vcpus=100000", "--mem=1G"}, 2,
       "100000 vCPUs need 0x186a00000 bytes of stack (0x10000 each)"},
      // The hypervisor spec: exit 2 when malformed or unknown, 6 when the
      // device cannot be opened.
      {"UnknownHypervisor", "hvrun", {"--hypervisor=nosuch"}, 2, "hypervisor \"nosuch\" is not linked into this build; linked: kvm"},
      {"MalformedHypervisorSpec", "hvrun", {"--hypervisor=kvm[device"}, 2, "hypervisor spec \"kvm[device\": expected kind or kind[key=value,...]"},
      {"UnknownHypervisorOption", "hvrun", {"--hypervisor=kvm[speed=9]"}, 2, "hypervisor \"kvm\" has no option \"speed\""},
      {"MissingHypervisorDevice", "hvrun", {"--hypervisor=kvm[device=/nonexistent/kvm]"}, 6, "open /nonexistent/kvm: No such file or directory"},
      // The command line itself: exit 2.
      {"Positional", "hvrun", {"extra"}, 2, "unexpected argument \"extra\" (try --help)"},
      {"PositionalAfterDashDash", "hvrun", {"--", "extra"}, 2, "unexpected argument \"extra\""},
      {"UnknownFlag", "hvrun", {"--no_such_flag"}, 2, "unknown flag \"--no_such_flag\" (try --help)"},
      {"FlagWithoutValue", "hvrun", {"--payload"}, 2, "--payload needs a value"},
      {"BoolFlagBadValue", "hvrun", {"--stats=maybe"}, 2, "--stats=maybe: Illegal value"},
      {"VcpusWithoutPayload", "hvrun", {"--vcpus=2"}, 2, "--vcpus applies to --payload or --kernel only"},
      {"ModeWithoutPayload", "hvrun", {"--mode=long"}, 2, "--mode applies to --payload only"},
      {"MemWithoutPayload", "hvrun", {"--mem=3K"}, 2, "--mem applies to --payload or --kernel only"},
      {"EntryWithoutPayload", "hvrun", {"--entry=0x10000"}, 2, "--entry applies to --payload only"},
      {"LoadAddrWithoutPayload", "hvrun", {"--load_addr=0x10000"}, 2, "--load_addr applies to --payload only"},
      // --kernel: each image or flag fault is one line before any hypervisor
      // is opened (the bad-image table of README's reliability section).
      {"KernelAndPayload", "hvrun", {real, "--kernel=" + Tmp("bzimage")}, 2,
       "--payload and --kernel exclude each other"},
      {"ModeWithKernel", "hvrun", {"--kernel=" + Tmp("bzimage"), "--mode=long"}, 2,
       "--mode applies to --payload only; --kernel sets its own"},
      {"InitrdWithoutKernel", "hvrun", {"--initrd=" + Tmp("small.bin")}, 2,
       "--initrd applies to --kernel only"},
      {"CmdlineWithoutKernel", "hvrun", {real, "--cmdline=quiet"}, 2,
       "--cmdline applies to --kernel only"},
      {"KernelMissing", "hvrun", {"--kernel=" + Tmp("missing.bin")}, 4,
       "--kernel=" + Tmp("missing.bin") + ": cannot open it: No such file or directory"},
      {"KernelDirectory", "hvrun", {"--kernel=" + TmpDir()}, 4, "is a directory; it must be a regular file"},
      {"KernelNotABzImage", "hvrun", {"--kernel=" + Tmp("small.bin")}, 4,
       "bzImage: no Linux setup header (boot flag 0xAA55 at 0x1fe and \"HdrS\" at 0x202)"},
      {"KernelTruncated", "hvrun", {"--kernel=" + Tmp("bzimage_truncated")}, 4,
       "bzImage: 512 bytes is too short for a Linux setup header"},
      {"KernelOldProtocol", "hvrun", {"--kernel=" + Tmp("bzimage_2_11")}, 4,
       "bzImage: boot protocol 2.11 is older than 2.12"},
      {"KernelNo64BitEntry", "hvrun", {"--kernel=" + Tmp("bzimage_32bit")}, 4,
       "bzImage: the kernel has no 64-bit entry point (XLF_KERNEL_64 clear)"},
      {"KernelBadAlignment", "hvrun", {"--kernel=" + Tmp("bzimage_bad_alignment")}, 4,
       "bzImage: kernel_alignment 0x300000 is not a power of two"},
      {"KernelSyssizeLies", "hvrun", {"--kernel=" + Tmp("bzimage_syssize")}, 4,
       "bzImage: syssize says the kernel is 0x4000 bytes, but the file has 0x3000"},
      {"KernelLargerThanMem", "hvrun", {"--kernel=" + Tmp("bzimage"), "--mem=16M"}, 4,
       "linux boot: the kernel needs [0x1000000, 0x1100000) (pref_address + init_size) in RAM"},
      {"InitrdDoesNotFit", "hvrun",
       {"--kernel=" + Tmp("bzimage"), "--initrd=" + Tmp("initrd_24m"), "--mem=32M"}, 4,
       "linux boot: the 25165824-byte initrd does not fit between the kernel's end 0x1100000"},
      {"InitrdMissing", "hvrun", {"--kernel=" + Tmp("bzimage"), "--initrd=" + Tmp("missing.bin")}, 4,
       "--initrd=" + Tmp("missing.bin") + ": cannot open it"},
      {"CmdlineTooLong", "hvrun", {"--kernel=" + Tmp("bzimage"), "--cmdline=" + std::string(3000, 'x')}, 4,
       "linux boot: the command line is 3000 bytes; at most 2047 fit"},
      // hvprobe's command line: exit 2.
      {"HvprobeUnknownFlag", "hvprobe", {"--bogus"}, 2, "unknown flag \"--bogus\" (try --help)"},
      {"HvprobePositional", "hvprobe", {"kvm"}, 2, "unexpected argument \"kvm\""},
      {"HvprobeBadJsonValue", "hvprobe", {"--json=maybe"}, 2, "--json=maybe: Illegal value"},
  };
}

class HostileInput : public ::testing::TestWithParam<Row> {
 protected:
  // The files the rows name, made once.
  static void SetUpTestSuite() {
    ASSERT_EQ(::mkdir(TmpDir().c_str(), 0755), 0) << TmpDir();
    ASSERT_EQ(::mkdir(Tmp("subdir").c_str(), 0755), 0);
    ASSERT_EQ(::mkfifo(Tmp("fifo").c_str(), 0644), 0);
    WriteFile(Tmp("empty.bin"), 0);
    WriteFile(Tmp("small.bin"), 8192);
    // bzImages with one fault each (linux_boot/bzimage_fixture.h).
    WriteBytes(Tmp("bzimage"), TestBzImage().Build());
    std::vector<uint8_t> truncated = TestBzImage().Build();
    truncated.resize(512);
    WriteBytes(Tmp("bzimage_truncated"), truncated);
    WriteBzImage("bzimage_2_11", [](TestBzImage& b) { b.protocol = 0x020b; });
    WriteBzImage("bzimage_32bit", [](TestBzImage& b) { b.xloadflags = 0; });
    WriteBzImage("bzimage_bad_alignment",
                 [](TestBzImage& b) { b.kernel_alignment = 0x300000; });
    WriteBzImage("bzimage_syssize",
                 [](TestBzImage& b) { b.syssize_bytes = 0x4000; });
    WriteFile(Tmp("initrd_24m"), 0);
    ASSERT_EQ(::truncate(Tmp("initrd_24m").c_str(), 24 << 20), 0);
    WriteFile(Tmp("unreadable.bin"), 4096);
    ASSERT_EQ(::chmod(Tmp("unreadable.bin").c_str(), 0), 0);
    WriteFile(Tmp("sparse_1t.bin"), 0);
    ASSERT_EQ(::truncate(Tmp("sparse_1t.bin").c_str(), 1ll << 40), 0)
        << "the test's filesystem cannot hold a 1 TiB sparse file";
  }

  // Tmp(`name`): the test bzImage with the one change `fault` makes.
  template <typename Fault>
  static void WriteBzImage(const std::string& name, Fault fault) {
    TestBzImage image;
    fault(image);
    WriteBytes(Tmp(name), image.Build());
  }

  static void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good()) << path;
  }

  static void WriteFile(const std::string& path, size_t size) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0) << path;
    const std::string bytes(size, '\x90');
    ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(size));
    ::close(fd);
  }
};

TEST_P(HostileInput, ExitsWithItsCodeAndOneLine) {
  const Row& row = GetParam();
  if (row.needs_non_root && ::geteuid() == 0) {
    GTEST_SKIP() << "running as root, which reads a chmod 000 file; ParentIsAFile "
                    "covers a path that cannot be opened";
  }
  std::vector<std::string> argv = {RunfilePath(row.tool == "hvrun" ? "tools/hvrun/hvrun_bin"
                                                                   : "tools/hvprobe/hvprobe")};
  argv.insert(argv.end(), row.args.begin(), row.args.end());
  SubprocessOptions options;
  options.timeout = absl::Seconds(60);  // a FIFO that blocked would hang here
  options.env = row.env;
  absl::StatusOr<SubprocessResult> r = RunSubprocess(argv, options);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->exit_code, row.exit_code) << r->stderr_text;
  EXPECT_EQ(r->stdout_text, "");
  const std::vector<std::string> lines =
      absl::StrSplit(r->stderr_text, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u) << r->stderr_text;
  EXPECT_THAT(lines[0], StartsWith(row.tool + ": "));
  EXPECT_THAT(lines[0], HasSubstr(row.message));
  EXPECT_TRUE(absl::EndsWith(r->stderr_text, "\n"));
}

INSTANTIATE_TEST_SUITE_P(Rows, HostileInput, ::testing::ValuesIn(Rows()),
                         [](const ::testing::TestParamInfo<Row>& info) {
                           return info.param.name;
                         });

// `tool` (a runfile path) run with `args`.
absl::StatusOr<SubprocessResult> RunTool(const std::string& tool,
                                         std::vector<std::string> args) {
  args.insert(args.begin(), RunfilePath(tool));
  return RunSubprocess(args);
}

TEST(HvrunHelp, ListsEveryFlagAndExitsZero) {
  ASSERT_OK_AND_ASSIGN(SubprocessResult r,
                       RunTool("tools/hvrun/hvrun_bin", {"--help"}));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.stderr_text, "");
  for (const char* flag : {"--payload", "--mode", "--load_addr", "--entry", "--mem",
                           "--vcpus", "--hypervisor", "--timeout", "--stats"}) {
    EXPECT_THAT(r.stdout_text, HasSubstr(absl::StrCat("\n  ", flag, " (default: "))) << flag;
  }
  EXPECT_THAT(r.stdout_text, HasSubstr("\n  --help\n"));
  EXPECT_THAT(r.stdout_text, HasSubstr("Exit status: 0 the guest ended without a value"));
}

TEST(HvprobeHelp, ListsItsFlagAndExitsZero) {
  ASSERT_OK_AND_ASSIGN(SubprocessResult r,
                       RunTool("tools/hvprobe/hvprobe", {"--help"}));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.stdout_text, HasSubstr("\n  --json "));
  EXPECT_THAT(r.stdout_text, HasSubstr("Exit status: 0 when at least one backend is usable"));
}

// hvprobe --json on this host, whatever it has: the JSON's shape, and an
// exit status that agrees with it (0 when a backend is usable, 1 when none
// is; a host without /dev/kvm has none).
TEST(HvprobeJson, ShapeAndExitStatusAgree) {
  absl::StatusOr<SubprocessResult> r = RunTool("tools/hvprobe/hvprobe", {"--json"});
  ASSERT_THAT(r, IsOk());
  const std::string& json = r->stdout_text;
  EXPECT_THAT(json, StartsWith("{\"any_usable\": "));
  EXPECT_TRUE(absl::EndsWith(json, "]}\n")) << json;
  const bool any_usable = absl::StartsWith(json, "{\"any_usable\": true");
  EXPECT_EQ(r->exit_code, any_usable ? 0 : 1) << json;
  EXPECT_THAT(json, HasSubstr("\"backends\": [{\"kind\": \"kvm\", \"options\": [\"device\"]"));
  if (any_usable) {
    EXPECT_THAT(json, HasSubstr("\"usable\": true, \"error\": null, \"hypervisor\": "
                                "{\"max_vcpus\": "));
    EXPECT_THAT(json, HasSubstr("\"vm\": {\"memory_slots\": "));
  } else {
    EXPECT_THAT(json, HasSubstr("\"usable\": false, \"error\": "));
    EXPECT_THAT(json, HasSubstr("\"vm\": null"));
  }
  // Balanced braces and brackets outside strings: the JSON is well formed
  // at least in its nesting.
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
    ASSERT_GE(depth, 0) << json;
  }
  EXPECT_EQ(depth, 0) << json;
  EXPECT_FALSE(in_string) << json;
}

}  // namespace
}  // namespace hv::testing
