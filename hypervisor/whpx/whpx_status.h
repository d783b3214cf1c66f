// A WHv* call's HRESULT as an absl::Status: OK for success; the WHV_E_*
// codes of WinHvPlatform with their names and codes; everything else through
// hv's one Windows-error conversion (hypervisor/os/win_status.h). The
// message names the call (and its arguments, as the caller words it) and the
// HRESULT in hex:
//
//   RETURN_IF_ERROR(hv::HResultStatus(
//       "WHvMapGpaRange (gpa 0x1000, size 0x2000)",
//       api->WHvMapGpaRange(partition, host, 0x1000, 0x2000, flags)));
//   // -> INVALID_ARGUMENT "WHvMapGpaRange (gpa 0x1000, size 0x2000):
//   //    E_INVALIDARG (HRESULT 0x80070057)"
#ifndef HV_HYPERVISOR_WHPX_WHPX_STATUS_H_
#define HV_HYPERVISOR_WHPX_WHPX_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "hypervisor/whpx/whpx_abi.h"

namespace hv {

// HResultStatus(): OK for a success HRESULT (>= 0); otherwise
// "operation: NAME (HRESULT 0x%08x)" with a code derived from the HRESULT.
absl::Status HResultStatus(absl::string_view operation,
                           whpx_abi::HRESULT hr);

// WhvErrorName(): "WHV_E_GPA_RANGE_NOT_FOUND", ... or nullptr for an
// HRESULT outside the WHV_E_* codes.
const char* WhvErrorName(whpx_abi::HRESULT hr);

}  // namespace hv

#endif  // HV_HYPERVISOR_WHPX_WHPX_STATUS_H_
