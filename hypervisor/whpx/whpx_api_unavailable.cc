// LoadWhpxApi() where there is no Windows: the WHPX DLLs exist only there,
// so the backend builds and runs (against a fake table in tests) but the
// real table is UNAVAILABLE.
#include "absl/status/status.h"
#include "hypervisor/whpx/whpx_api.h"

namespace hv {

absl::StatusOr<const WhpxApi*> LoadWhpxApi() {
  return absl::UnavailableError(
      "WHPX: the Windows Hypervisor Platform (winhvplatform.dll) exists only "
      "on Windows; this build is not for Windows");
}

}  // namespace hv
