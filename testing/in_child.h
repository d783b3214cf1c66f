// InChild(): runs a piece of a test in a forked child process and hands
// back the text it answers, for tests that show state carried to another
// process (a snapshot restored into a new VM there).
//
// Example:
//   std::string answer = hv::testing::InChild([&] {
//     absl::StatusOr<uint64_t> sum = RestoreAndFinish(paths);
//     return sum.ok() ? absl::StrCat("ok ", *sum) : sum.status().ToString();
//   });
//   EXPECT_EQ(answer, "ok 42");
#ifndef HV_TESTING_IN_CHILD_H_
#define HV_TESTING_IN_CHILD_H_

#include <string>

#include "absl/functional/function_ref.h"

namespace hv::testing {

// InChild(): forks; the child calls `body`, writes its answer to a pipe
// and exits at once (_exit: no atexit handlers, no gtest teardown). The
// parent returns the answer, with " (the child failed)" appended when the
// child did not exit with 0, or "error: pipe" / "error: fork". Call it with
// no other thread running (fork copies only the calling one).
std::string InChild(absl::FunctionRef<std::string()> body);

}  // namespace hv::testing

#endif  // HV_TESTING_IN_CHILD_H_
