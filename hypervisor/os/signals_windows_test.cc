// The kick signal on Windows: none; the calls say so.
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/signals.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

TEST(KickSignalWindows, ThereIsNone) { EXPECT_EQ(KickSignal(), -1); }

TEST(KickSignalWindows, InstallAndKickAreUnimplemented) {
  EXPECT_THAT(InstallKickSignalHandler(),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("no POSIX signals")));
  EXPECT_THAT(KickThread(pthread_self()),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("no POSIX signals")));
}

}  // namespace
}  // namespace hv
