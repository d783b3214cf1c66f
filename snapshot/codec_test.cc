// ByteReader's version checks: one version (ExpectVersion) and a range of
// them (GetVersion), what each accepts and what each refuses.
#include "snapshot/codec.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace hv::snapshot {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::IsOkAndHolds;
using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

std::vector<uint8_t> Version(uint32_t version) {
  ByteWriter out;
  out.Put32(version);
  return out.Take();
}

TEST(ByteReader, ExpectVersionTakesOnlyThatVersion) {
  const std::vector<uint8_t> two = Version(2);
  ByteReader good(two, "record");
  EXPECT_THAT(good.ExpectVersion(2, "thing state"), IsOk());
  ByteReader bad(two, "record");
  EXPECT_THAT(bad.ExpectVersion(3, "thing state"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("thing state: version 2; this build reads version 3")));
}

TEST(ByteReader, GetVersionReturnsAVersionInTheRange) {
  for (uint32_t v : {1u, 2u, 3u}) {
    const std::vector<uint8_t> bytes = Version(v);
    ByteReader in(bytes, "record");
    EXPECT_THAT(in.GetVersion(1, 3, "thing state"), IsOkAndHolds(v));
  }
  for (uint32_t v : {0u, 4u}) {
    const std::vector<uint8_t> bytes = Version(v);
    ByteReader in(bytes, "record");
    EXPECT_THAT(in.GetVersion(1, 3, "thing state"),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("this build reads versions 1 to 3")));
  }
  ByteReader empty({}, "record");
  EXPECT_THAT(empty.GetVersion(1, 3, "thing state"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("version needs 4 bytes")));
}

}  // namespace
}  // namespace hv::snapshot
