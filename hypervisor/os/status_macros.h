// Control-flow macros for absl::Status and absl::StatusOr.
//
// Debian's Abseil (20220623) predates Abseil's own status macros, so hv
// defines the two it uses, once, here.
//
// Example:
//   absl::StatusOr<int> OpenCount(std::string_view path) {
//     RETURN_IF_ERROR(CheckPath(path));
//     ASSIGN_OR_RETURN(UniqueFd fd, OpenPath(path));
//     return Count(fd);
//   }
#ifndef HV_HYPERVISOR_OS_STATUS_MACROS_H_
#define HV_HYPERVISOR_OS_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// RETURN_IF_ERROR(expr): evaluates `expr` (an absl::Status) and returns it
// from the enclosing function when it is not OK.
#define RETURN_IF_ERROR(expr)                                 \
  do {                                                        \
    ::absl::Status hv_status_macro_status_ = (expr);          \
    if (!hv_status_macro_status_.ok()) {                      \
      return hv_status_macro_status_;                         \
    }                                                         \
  } while (false)

// ASSIGN_OR_RETURN(lhs, expr): evaluates `expr` (an absl::StatusOr<T>);
// returns its status when not OK, otherwise moves the value into `lhs`,
// which may be a declaration (`auto x`) or an existing lvalue.
#define ASSIGN_OR_RETURN(lhs, expr)                                         \
  HV_ASSIGN_OR_RETURN_IMPL_(                                                \
      HV_STATUS_MACROS_CONCAT_(hv_statusor_, __LINE__), lhs, expr)

#define HV_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                              \
  if (!statusor.ok()) {                                \
    return std::move(statusor).status();               \
  }                                                    \
  lhs = std::move(statusor).value()

#define HV_STATUS_MACROS_CONCAT_(a, b) HV_STATUS_MACROS_CONCAT_INNER_(a, b)
#define HV_STATUS_MACROS_CONCAT_INNER_(a, b) a##b

#endif  // HV_HYPERVISOR_OS_STATUS_MACROS_H_
