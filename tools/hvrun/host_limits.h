// CheckFdRoomForVcpus(): whether this process may open the file
// descriptors a Machine with `vcpus` vCPUs needs (one per vCPU on every
// fd-based backend, plus the hypervisor, the VM and guest RAM), asked of
// RLIMIT_NOFILE before any is created, so `ulimit -n` too low for --vcpus
// gets one line naming the limit rather than a failure halfway through
// creating vCPUs. POSIX (host_limits_posix.cc); on Windows, whose handles
// have no such limit, always OK (host_limits_windows.cc).
//
// Example:
//   RETURN_IF_ERROR(hv::CheckFdRoomForVcpus(options.vcpus));
#ifndef HV_TOOLS_HVRUN_HOST_LIMITS_H_
#define HV_TOOLS_HVRUN_HOST_LIMITS_H_

#include <cstdint>

#include "absl/status/status.h"

namespace hv {

// RESOURCE_EXHAUSTED naming RLIMIT_NOFILE's soft limit and what is needed.
absl::Status CheckFdRoomForVcpus(uint32_t vcpus);

}  // namespace hv

#endif  // HV_TOOLS_HVRUN_HOST_LIMITS_H_
