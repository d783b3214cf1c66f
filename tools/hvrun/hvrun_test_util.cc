#include "tools/hvrun/hvrun_test_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace hv {

testing::SubprocessResult RunHvrun(std::vector<std::string> args,
                                   const testing::SubprocessOptions& options) {
  args.insert(args.begin(), testing::RunfilePath("tools/hvrun/hvrun_bin"));
  absl::StatusOr<testing::SubprocessResult> result =
      testing::RunSubprocess(args, options);
  EXPECT_THAT(result, testing::IsOk());
  return result.ok() ? *std::move(result) : testing::SubprocessResult{-1, "", ""};
}

std::string PayloadFlag(const std::string& name) {
  return "--payload=" + testing::RunfilePath("tools/hvrun/testdata/" + name);
}

void ExpectBadFlagsRefused(const std::vector<BadFlags>& cases) {
  using ::testing::HasSubstr;
  using ::testing::Not;
  for (const BadFlags& c : cases) {
    testing::SubprocessResult r = RunHvrun(c.args);
    EXPECT_NE(r.exit_code, 0) << c.message;
    EXPECT_EQ(r.exit_code % 2, 0) << c.message << ": hvrun's own errors are even";
    EXPECT_LT(r.exit_code, 128) << c.message << ": crashed\n" << r.stderr_text;
    EXPECT_THAT(r.stderr_text, HasSubstr(c.message));
    EXPECT_THAT(r.stderr_text, Not(HasSubstr("Check failed")));
  }
}

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/hvrun_test_", ::getpid(), "_", name);
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

std::string LastLine(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  return lines.empty() ? "" : lines.back();
}

void ExpectTimesOut(const std::string& payload_flag, const std::string& registers) {
  testing::SubprocessResult r = RunHvrun({payload_flag, "--timeout=1s", "--vcpus=2"});
  EXPECT_EQ(r.exit_code, 10) << r.stderr_text;
  EXPECT_EQ(LastLine(r.stderr_text), "hvrun: the guest did not finish within 1s");
  for (int vcpu = 0; vcpu < 2; ++vcpu) {
    EXPECT_THAT(r.stderr_text,
                ::testing::ContainsRegex(absl::StrFormat(
                    "(^|\n)hvrun: vCPU %d: [0-9]+ exits?, MP state runnable; %s", vcpu,
                    registers)));
  }
}

void ExpectEveryVcpuWroteItsIndex(const testing::SubprocessResult& r, int vcpus,
                                  const std::string& before_snapshot) {
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  std::string digits = before_snapshot + r.stdout_text;
  std::sort(digits.begin(), digits.end());
  std::string expected;
  for (int i = 0; i < vcpus; ++i) expected += static_cast<char>('0' + i);
  EXPECT_EQ(digits, expected) << "before the snapshot: " << before_snapshot
                              << ", the run: " << r.stdout_text;
}

}  // namespace hv
