// The one conversion from a WHPX HRESULT to an absl::Status in hv.
//
// Every failed WHv* call becomes a Status naming the call (and its
// arguments, as the caller words it) and the HRESULT in hex with its
// symbolic name where hv knows it:
//
//   RETURN_IF_ERROR(hv::HResultStatus(
//       "WHvMapGpaRange (gpa 0x1000, size 0x2000)",
//       api->WHvMapGpaRange(partition, host, 0x1000, 0x2000, flags)));
//   // -> INVALID_ARGUMENT "WHvMapGpaRange (gpa 0x1000, size 0x2000):
//   //    HRESULT 0x80070057 (E_INVALIDARG)"
#ifndef HV_HYPERVISOR_WHPX_WHPX_STATUS_H_
#define HV_HYPERVISOR_WHPX_WHPX_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "hypervisor/whpx/whpx_abi.h"

namespace hv {

// HResultStatus(): OK for a success HRESULT (>= 0); otherwise
// "operation: HRESULT 0x%08x (NAME)" with a code derived from the HRESULT.
absl::Status HResultStatus(absl::string_view operation,
                           whpx_abi::HRESULT hr);

// HResultName(): "E_INVALIDARG", "WHV_E_GPA_RANGE_NOT_FOUND", ... or
// nullptr for an HRESULT hv does not name.
const char* HResultName(whpx_abi::HRESULT hr);

}  // namespace hv

#endif  // HV_HYPERVISOR_WHPX_WHPX_STATUS_H_
