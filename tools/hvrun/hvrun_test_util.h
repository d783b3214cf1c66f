// Helpers for the tests that run the real hvrun binary as a user would
// (hvrun_test, hvrun_aarch64_test, hvrun_hostile_guest_test): start it with
// flags, name a test payload.
//
// Example:
//   hv::testing::SubprocessResult r =
//       hv::RunHvrun({hv::PayloadFlag("hello_real.bin"), "--mode=real"});
//   EXPECT_EQ(r.exit_code, (7 << 1) | 1) << r.stderr_text;
#ifndef HV_TOOLS_HVRUN_HVRUN_TEST_UTIL_H_
#define HV_TOOLS_HVRUN_HVRUN_TEST_UTIL_H_

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

}  // namespace hv

#endif  // HV_TOOLS_HVRUN_HVRUN_TEST_UTIL_H_
