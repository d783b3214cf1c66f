// CheckFdRoomForVcpus() on Windows: kernel handles have no per-process
// limit to check against up front.
#include "tools/hvrun/host_limits.h"

namespace hv {

absl::Status CheckFdRoomForVcpus(uint32_t) { return absl::OkStatus(); }

}  // namespace hv
