// The one conversion from a Windows error (a Win32 error code from
// GetLastError, or an HRESULT) to an absl::Status in hv; the Windows twin of
// errno_status.h.
//
// The message names the operation, the error's symbolic name where hv knows
// it, and its number; the code follows the error's meaning (access denied ->
// PERMISSION_DENIED, not found -> NOT_FOUND, out of memory ->
// RESOURCE_EXHAUSTED, ...). It is plain arithmetic on the numbers, so it
// builds and is tested on every platform (WHPX and HAXM code is tested on
// Linux against fakes); LastErrorStatus (windows_handle.h) reads
// GetLastError on Windows.
//
// Example:
//   if (!VirtualFree(p, 0, MEM_RELEASE)) return hv::LastErrorStatus("VirtualFree");
//   // -> INVALID_ARGUMENT "VirtualFree: ERROR_INVALID_PARAMETER (Win32 error 87)"
//   HRESULT hr = WHvCreatePartition(&partition);
//   if (FAILED(hr)) return hv::HresultStatus("WHvCreatePartition", hr);
//   // -> e.g. UNIMPLEMENTED "WHvCreatePartition: E_NOTIMPL (HRESULT 0x80004001)"
#ifndef HV_HYPERVISOR_OS_WIN_STATUS_H_
#define HV_HYPERVISOR_OS_WIN_STATUS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace hv {

// WinErrorStatus(operation, error): "operation: NAME (Win32 error N)" (or
// "operation: Win32 error N" for a code hv has no name for). `error` must be
// non-zero (ERROR_SUCCESS); zero yields an INTERNAL status that says so.
absl::Status WinErrorStatus(absl::string_view operation, uint32_t error);

// HresultStatus(operation, hr): "operation: NAME (HRESULT 0x8007xxxx)". A
// FACILITY_WIN32 HRESULT takes the code and name of its Win32 error. `hr`
// must be a failure (negative); a success code yields an INTERNAL status.
absl::Status HresultStatus(absl::string_view operation, int32_t hr);

// KnownWinError: an error number hv has a name and a status code for.
struct KnownWinError {
  uint32_t code;
  const char* name;
  absl::StatusCode status_code;
};

// FindWinError(): the entry of `table` for `code`, or nullptr.
const KnownWinError* FindWinError(absl::Span<const KnownWinError> table,
                                  uint32_t code);

// HresultStatus(operation, hr, own): the same, for an API with HRESULTs of
// its own (WHPX's WHV_E_*), which `own` names and maps first.
absl::Status HresultStatus(absl::string_view operation, int32_t hr,
                           absl::Span<const KnownWinError> own);

}  // namespace hv

#endif  // HV_HYPERVISOR_OS_WIN_STATUS_H_
