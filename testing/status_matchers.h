// GMock matchers for absl::Status and absl::StatusOr.
//
// Debian's Abseil (20220623) has no status_matchers.h, so hv keeps a small
// equivalent. Match the specific error, not just "not ok".
//
// Example:
//   using ::hv::testing::StatusIs;
//   ASSERT_OK_AND_ASSIGN(auto vm, hypervisor->CreateVm());
//   EXPECT_THAT(vm->RemoveMemoryRegion(99),
//               StatusIs(absl::StatusCode::kNotFound, HasSubstr("slot 99")));
#ifndef HV_TESTING_STATUS_MATCHERS_H_
#define HV_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hv::testing {
namespace internal {

inline const absl::Status& GetStatus(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

}  // namespace internal

// IsOk(): matches an OK absl::Status or absl::StatusOr.
MATCHER(IsOk, "is OK") {
  const absl::Status& status = internal::GetStatus(arg);
  if (!status.ok()) *result_listener << "which is " << status;
  return status.ok();
}

// StatusIs(code[, message_matcher]): matches a status with `code` whose
// message matches `message_matcher`.
MATCHER_P2(StatusIs, code, message_matcher,
           "has code " + absl::StatusCodeToString(code) +
               " and a message that " +
               ::testing::DescribeMatcher<std::string>(message_matcher)) {
  const absl::Status& status = internal::GetStatus(arg);
  return status.code() == code &&
         ::testing::Matches(message_matcher)(std::string(status.message()));
}

// IsOkAndHolds(value_matcher): matches an OK absl::StatusOr whose value
// matches `value_matcher`.
MATCHER_P(IsOkAndHolds, value_matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "which is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

inline auto StatusIs(absl::StatusCode code) {
  return StatusIs(code, ::testing::_);
}

}  // namespace hv::testing

#define HV_TESTING_CONCAT_INNER_(a, b) a##b
#define HV_TESTING_CONCAT_(a, b) HV_TESTING_CONCAT_INNER_(a, b)

// EXPECT_OK(expr) / ASSERT_OK(expr): the Status (or StatusOr) is OK.
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::hv::testing::IsOk())
#define ASSERT_OK(expr) ASSERT_THAT((expr), ::hv::testing::IsOk())

// ASSERT_OK_AND_ASSIGN(lhs, expr): asserts the StatusOr is OK and moves its
// value into `lhs` (a declaration or an lvalue).
#define ASSERT_OK_AND_ASSIGN(lhs, expr)                                   \
  auto HV_TESTING_CONCAT_(hv_statusor_, __LINE__) = (expr);               \
  ASSERT_THAT(HV_TESTING_CONCAT_(hv_statusor_, __LINE__).status(),        \
              ::hv::testing::IsOk());                                     \
  lhs = std::move(HV_TESTING_CONCAT_(hv_statusor_, __LINE__)).value()

#endif  // HV_TESTING_STATUS_MATCHERS_H_
