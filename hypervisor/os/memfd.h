// Memfds: anonymous, shareable files that back guest memory and blobs.
//
// Example:
//   ASSIGN_OR_RETURN(hv::UniqueFd blob, hv::CreateMemfd("blob", 0x10000));
#ifndef HV_HYPERVISOR_OS_MEMFD_H_
#define HV_HYPERVISOR_OS_MEMFD_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hypervisor/os/unique_fd.h"

namespace hv {

// CreateMemfd(): memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING) sized to
// `size` bytes with ftruncate; its contents read as zeros.
absl::StatusOr<UniqueFd> CreateMemfd(absl::string_view name, uint64_t size);

}  // namespace hv

#endif  // HV_HYPERVISOR_OS_MEMFD_H_
