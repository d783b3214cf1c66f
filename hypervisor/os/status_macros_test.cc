#include "hypervisor/os/status_macros.h"

#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::StatusIs;

absl::Status ReturnIfError(absl::Status inner, int* reached) {
  RETURN_IF_ERROR(inner);
  ++*reached;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<int>> MakeInt(bool ok, int value) {
  if (!ok) return absl::NotFoundError("no int");
  return std::make_unique<int>(value);
}

absl::StatusOr<int> AssignOrReturn(bool ok) {
  ASSIGN_OR_RETURN(std::unique_ptr<int> p, MakeInt(ok, 7));  // move-only
  int sum = *p;
  ASSIGN_OR_RETURN(p, MakeInt(ok, 5));  // existing lvalue
  return sum + *p;
}

TEST(StatusMacros, ReturnIfErrorPassesOkThrough) {
  int reached = 0;
  EXPECT_THAT(ReturnIfError(absl::OkStatus(), &reached), IsOk());
  EXPECT_EQ(reached, 1);
}

TEST(StatusMacros, ReturnIfErrorReturnsTheError) {
  int reached = 0;
  EXPECT_THAT(ReturnIfError(absl::AbortedError("stop"), &reached),
              StatusIs(absl::StatusCode::kAborted, "stop"));
  EXPECT_EQ(reached, 0);
}

TEST(StatusMacros, AssignOrReturnMovesValues) {
  absl::StatusOr<int> result = AssignOrReturn(true);
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(*result, 12);
}

TEST(StatusMacros, AssignOrReturnReturnsTheError) {
  EXPECT_THAT(AssignOrReturn(false),
              StatusIs(absl::StatusCode::kNotFound, "no int"));
}

}  // namespace
}  // namespace hv
