#include "tools/hvrun/hvrun_test_util.h"

#include <utility>

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

}  // namespace hv
