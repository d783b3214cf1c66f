#include "hypervisor/os/win_status.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace hv {
namespace {

// Win32 error codes (winerror.h values) hv's Windows code meets.
constexpr KnownWinError kWin32Errors[] = {
    {1, "ERROR_INVALID_FUNCTION", absl::StatusCode::kUnimplemented},
    {2, "ERROR_FILE_NOT_FOUND", absl::StatusCode::kNotFound},
    {3, "ERROR_PATH_NOT_FOUND", absl::StatusCode::kNotFound},
    {4, "ERROR_TOO_MANY_OPEN_FILES", absl::StatusCode::kResourceExhausted},
    {5, "ERROR_ACCESS_DENIED", absl::StatusCode::kPermissionDenied},
    {6, "ERROR_INVALID_HANDLE", absl::StatusCode::kFailedPrecondition},
    {8, "ERROR_NOT_ENOUGH_MEMORY", absl::StatusCode::kResourceExhausted},
    {14, "ERROR_OUTOFMEMORY", absl::StatusCode::kResourceExhausted},
    {32, "ERROR_SHARING_VIOLATION", absl::StatusCode::kUnavailable},
    {50, "ERROR_NOT_SUPPORTED", absl::StatusCode::kUnimplemented},
    {80, "ERROR_FILE_EXISTS", absl::StatusCode::kAlreadyExists},
    {87, "ERROR_INVALID_PARAMETER", absl::StatusCode::kInvalidArgument},
    {120, "ERROR_CALL_NOT_IMPLEMENTED", absl::StatusCode::kUnimplemented},
    {122, "ERROR_INSUFFICIENT_BUFFER", absl::StatusCode::kInvalidArgument},
    {126, "ERROR_MOD_NOT_FOUND", absl::StatusCode::kNotFound},
    {127, "ERROR_PROC_NOT_FOUND", absl::StatusCode::kNotFound},
    {183, "ERROR_ALREADY_EXISTS", absl::StatusCode::kAlreadyExists},
    {298, "ERROR_TOO_MANY_POSTS", absl::StatusCode::kOutOfRange},
    {487, "ERROR_INVALID_ADDRESS", absl::StatusCode::kInvalidArgument},
    {1132, "ERROR_MAPPED_ALIGNMENT", absl::StatusCode::kInvalidArgument},
    {1455, "ERROR_COMMITMENT_LIMIT", absl::StatusCode::kResourceExhausted},
    {1460, "ERROR_TIMEOUT", absl::StatusCode::kDeadlineExceeded},
};

// HRESULTs that are not FACILITY_WIN32 wrappers.
constexpr KnownWinError kHresults[] = {
    {0x80004001u, "E_NOTIMPL", absl::StatusCode::kUnimplemented},
    {0x80004002u, "E_NOINTERFACE", absl::StatusCode::kUnimplemented},
    {0x80004003u, "E_POINTER", absl::StatusCode::kInvalidArgument},
    {0x80004004u, "E_ABORT", absl::StatusCode::kAborted},
    {0x80004005u, "E_FAIL", absl::StatusCode::kInternal},
    {0x8000FFFFu, "E_UNEXPECTED", absl::StatusCode::kInternal},
    {0x8007000Eu, "E_OUTOFMEMORY", absl::StatusCode::kResourceExhausted},
    {0x80070057u, "E_INVALIDARG", absl::StatusCode::kInvalidArgument},
    {0x80070005u, "E_ACCESSDENIED", absl::StatusCode::kPermissionDenied},
};

constexpr uint32_t kFacilityWin32 = 7;

}  // namespace

const KnownWinError* FindWinError(absl::Span<const KnownWinError> table,
                                  uint32_t code) {
  for (const KnownWinError& e : table) {
    if (e.code == code) return &e;
  }
  return nullptr;
}

absl::Status WinErrorStatus(absl::string_view operation, uint32_t error) {
  if (error == 0) {
    return absl::InternalError(
        absl::StrCat(operation, ": failed without setting an error (ERROR_SUCCESS)"));
  }
  if (const KnownWinError* known = FindWinError(kWin32Errors, error)) {
    return absl::Status(known->status_code,
                        absl::StrFormat("%s: %s (Win32 error %u)", operation,
                                        known->name, error));
  }
  return absl::UnknownError(absl::StrFormat("%s: Win32 error %u", operation, error));
}

absl::Status HresultStatus(absl::string_view operation, int32_t hr) {
  return HresultStatus(operation, hr, {});
}

absl::Status HresultStatus(absl::string_view operation, int32_t hr,
                           absl::Span<const KnownWinError> own) {
  const uint32_t bits = static_cast<uint32_t>(hr);
  if (hr >= 0) {
    return absl::InternalError(absl::StrFormat(
        "%s: called a failure with success HRESULT 0x%08x", operation, bits));
  }
  const KnownWinError* known = FindWinError(own, bits);
  if (known == nullptr) known = FindWinError(kHresults, bits);
  if (known == nullptr && ((bits >> 16) & 0x1FFF) == kFacilityWin32) {
    known = FindWinError(kWin32Errors, bits & 0xFFFF);
  }
  if (known != nullptr) {
    return absl::Status(known->status_code,
                        absl::StrFormat("%s: %s (HRESULT 0x%08x)", operation,
                                        known->name, bits));
  }
  return absl::UnknownError(
      absl::StrFormat("%s: HRESULT 0x%08x", operation, bits));
}

}  // namespace hv
