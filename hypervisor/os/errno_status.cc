#include "hypervisor/os/errno_status.h"

#include "absl/strings/str_cat.h"

namespace hv {

absl::Status ErrnoStatus(absl::string_view operation, int error_number) {
  if (error_number == 0) {
    return absl::InternalError(
        absl::StrCat(operation, ": failed without setting errno"));
  }
  return absl::ErrnoToStatus(error_number, operation);
}

}  // namespace hv
