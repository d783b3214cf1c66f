// RunSubprocess: exit codes, both output streams, the timeout, the signal
// sent on a line of output, the environment and the live echo.
#include "testing/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/unique_fd.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::HasSubstr;

TEST(RunSubprocess, ReturnsTheExitCodeAndBothStreams) {
  ASSERT_OK_AND_ASSIGN(SubprocessResult r,
                       RunSubprocess({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.stdout_text, "out\n");
  EXPECT_EQ(r.stderr_text, "err\n");
}

TEST(RunSubprocess, ReportsAKillingSignalAs128PlusIt) {
  ASSERT_OK_AND_ASSIGN(SubprocessResult r, RunSubprocess({"/bin/sh", "-c", "kill -TERM $$"}));
  EXPECT_EQ(r.exit_code, 128 + SIGTERM);
}

TEST(RunSubprocess, KillsAProcessPastItsTimeoutAndKeepsItsOutput) {
  absl::StatusOr<SubprocessResult> r = RunSubprocess(
      {"/bin/sh", "-c", "echo started; exec sleep 60"}, absl::Milliseconds(500));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(r.status().message(), HasSubstr("did not finish within 500ms"));
  EXPECT_THAT(r.status().message(), HasSubstr("its stdout so far: started"));
}

TEST(RunSubprocess, SendsTheSignalOnceStdoutHoldsTheText) {
  SubprocessOptions options;
  options.signal = SIGUSR1;
  options.signal_after_stdout = "ready\n";
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult r,
      RunSubprocess({"/bin/sh", "-c", "trap 'echo got it; exit 7' USR1; echo ready; "
                                      "while :; do sleep 0.05; done"},
                    options));
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_EQ(r.stdout_text, "ready\ngot it\n");
}

TEST(RunSubprocess, AddsAndReplacesEnvironmentEntries) {
  ASSERT_EQ(::setenv("HV_SUBPROCESS_TEST", "caller", 1), 0);
  SubprocessOptions options;
  options.env = {"HV_SUBPROCESS_TEST=child", "HV_SUBPROCESS_EXTRA=1"};
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult r,
      RunSubprocess({"/bin/sh", "-c", "echo $HV_SUBPROCESS_TEST $HV_SUBPROCESS_EXTRA"}, options));
  EXPECT_EQ(r.stdout_text, "child 1\n");
}

TEST(RunSubprocess, EchoesBothStreamsAsTheyArrive) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const std::string marker =
      absl::StrCat(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp",
                   "/subprocess_echo_", ::getpid());
  // The process prints "one", then waits for the marker file, which the
  // reader thread makes once "one" has come through the echo: without a
  // live echo the run would end at its timeout.
  std::string echoed;
  std::thread reader([&] {
    char buffer[64];
    ssize_t got;
    bool made = false;
    while ((got = ::read(read_end.get(), buffer, sizeof(buffer))) > 0) {
      echoed.append(buffer, got);
      if (!made && echoed == "one\n") {
        UniqueFd file(::open(marker.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
        made = true;
      }
    }
  });
  SubprocessOptions options;
  options.echo_fd = write_end.get();
  options.timeout = absl::Seconds(20);
  absl::StatusOr<SubprocessResult> r = RunSubprocess(
      {"/bin/sh", "-c",
       absl::StrCat("echo one; while [ ! -e ", marker, " ]; do sleep 0.01; done; echo two >&2")},
      options);
  write_end.reset();
  reader.join();
  ::unlink(marker.c_str());
  ASSERT_OK(r.status());
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->stdout_text, "one\n");
  EXPECT_EQ(r->stderr_text, "two\n");
  EXPECT_EQ(echoed, "one\ntwo\n");
}

}  // namespace
}  // namespace hv::testing
