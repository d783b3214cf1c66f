// Helpers for the tests that run the real hvrun binary as a user would
// (hvrun_test, hvrun_aarch64_test, hvrun_hostile_guest_test, the snapshot
// and Linux guest tests): start it with flags, name a test payload and a
// temporary file, and the checks the x86_64 and aarch64 tests both make.
//
// Example:
//   hv::testing::SubprocessResult r =
//       hv::RunHvrun({hv::PayloadFlag("hello_real.bin"), "--mode=real"});
//   EXPECT_EQ(r.exit_code, (7 << 1) | 1) << r.stderr_text;
#ifndef HV_TOOLS_HVRUN_HVRUN_TEST_UTIL_H_
#define HV_TOOLS_HVRUN_HVRUN_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "testing/subprocess.h"

namespace hv {

// RunHvrun(): runs tools/hvrun/hvrun_bin (a data dependency of the test)
// with `args`; a failure to start it is a test failure, returned as exit
// code -1 with empty output.
testing::SubprocessResult RunHvrun(std::vector<std::string> args,
                                   const testing::SubprocessOptions& options = {});

// PayloadFlag(): "--payload=" and the runfile path of
// tools/hvrun/testdata/`name`.
std::string PayloadFlag(const std::string& name);

// hvrun's exit status once it has written a snapshot (hvrun --help; the
// tests spell it out rather than share exit_codes.h's, to pin it).
inline constexpr int kSnapshotWritten = 14;

// TempPath(): a path for a test's file `name`: in TEST_TMPDIR (or /tmp),
// named for this process.
std::string TempPath(const std::string& name);

// FileSize(): the size of the file at `path`, or -1 when there is none.
int64_t FileSize(const std::string& path);

// BadFlags: hvrun given `args` must fail naming `message`.
struct BadFlags {
  std::vector<std::string> args;
  std::string message;
};

// ExpectBadFlagsRefused(): runs each case; each must exit with one of
// hvrun's own (even, non-zero) statuses, not crash, and say its message on
// stderr.
void ExpectBadFlagsRefused(const std::vector<BadFlags>& cases);

// LastLine(): the last non-empty line of `text`, "" when there is none.
std::string LastLine(const std::string& text);

// ExpectTimesOut(): hvrun runs `payload_flag`'s guest, which never ends,
// on two vCPUs with --timeout=1s: exit 10, the last line says so, and the
// line before it for each vCPU shows it runnable with `registers` (e.g.
// "rip=0 ") at the start of its registers.
void ExpectTimesOut(const std::string& payload_flag, const std::string& registers);

// ExpectEveryVcpuWroteItsIndex(): the run ended with exit 0 and its
// output is "0", "1", ... once each for `vcpus` vCPUs, in any order (the
// scheduler's). For a restored run, `before_snapshot` is what the run
// that took its snapshot printed: the two together hold each index once.
void ExpectEveryVcpuWroteItsIndex(const testing::SubprocessResult& r, int vcpus,
                                  const std::string& before_snapshot = "");

}  // namespace hv

#endif  // HV_TOOLS_HVRUN_HVRUN_TEST_UTIL_H_
