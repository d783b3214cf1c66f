// RunSubprocess(): runs a program to completion, as a user would from a
// shell, and returns its exit code and everything it printed. For tests of
// hv's command-line tools.
//
// Example:
//   ASSERT_OK_AND_ASSIGN(hv::testing::SubprocessResult r,
//                        hv::testing::RunSubprocess({hvrun, "--stats"}));
//   EXPECT_EQ(r.exit_code, 0);
//   EXPECT_THAT(r.stdout_text, HasSubstr("hv demo"));
#ifndef HV_TESTING_SUBPROCESS_H_
#define HV_TESTING_SUBPROCESS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace hv::testing {

struct SubprocessResult {
  // The exit status, or 128 + the signal number if a signal killed it.
  int exit_code = 0;
  std::string stdout_text;
  std::string stderr_text;
};

struct SubprocessOptions {
  absl::Duration timeout = absl::Seconds(120);
  // "NAME=value" entries added to the environment (replacing the caller's
  // value of NAME).
  std::vector<std::string> env;
  // When `signal` is non-zero, it is sent to the process once its stdout
  // contains `signal_after_stdout` (at once when that is empty).
  int signal = 0;
  std::string signal_after_stdout;
  // When `echo_fd` is not -1, what the process writes to stdout and stderr
  // is also written there as it arrives (e.g. STDOUT_FILENO, for a test's
  // log to show what a process that hangs had printed; in a tools/vmtest
  // VM, a hang of the whole VM included).
  int echo_fd = -1;
};

// RunSubprocess(): `argv[0]` is a path. Kills the process and returns
// DEADLINE_EXCEEDED after `timeout`.
absl::StatusOr<SubprocessResult> RunSubprocess(
    const std::vector<std::string>& argv,
    absl::Duration timeout = absl::Seconds(120));
absl::StatusOr<SubprocessResult> RunSubprocess(
    const std::vector<std::string>& argv, const SubprocessOptions& options);

// RunfilePath(): the absolute path of `path` (workspace relative, e.g.
// "tools/hvrun/hvrun") in the test's runfiles.
std::string RunfilePath(const std::string& path);

}  // namespace hv::testing

#endif  // HV_TESTING_SUBPROCESS_H_
