// The one conversion from an errno value to an absl::Status in hv.
//
// Every failed system call in hv becomes a Status whose message names the
// operation and the errno text, with a code derived from the errno:
//
//   if (ioctl(fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
//     return hv::ErrnoStatus("KVM_SET_USER_MEMORY_REGION");
//   // -> INVALID_ARGUMENT "KVM_SET_USER_MEMORY_REGION: Invalid argument"
#ifndef HV_HYPERVISOR_OS_ERRNO_STATUS_H_
#define HV_HYPERVISOR_OS_ERRNO_STATUS_H_

#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace hv {

// ErrnoStatus(operation, error_number): "operation: strerror(error_number)"
// with the code absl::ErrnoToStatusCode gives. `error_number` must be
// non-zero; zero yields an INTERNAL status that says so.
absl::Status ErrnoStatus(absl::string_view operation, int error_number);

// ErrnoStatus(operation): the same, for the current value of errno.
inline absl::Status ErrnoStatus(absl::string_view operation) {
  return ErrnoStatus(operation, errno);
}

}  // namespace hv

#endif  // HV_HYPERVISOR_OS_ERRNO_STATUS_H_
