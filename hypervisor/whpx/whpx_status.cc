#include "hypervisor/whpx/whpx_status.h"

#include <cstdint>

#include "absl/strings/str_format.h"
#include "hypervisor/os/win_status.h"

namespace hv {

using namespace whpx_abi;  // NOLINT: the HRESULT constants

namespace {

struct WhvError {
  HRESULT hr;
  const char* name;
  absl::StatusCode code;
};

// The WHV_E_* codes of WinHvPlatform (winerror.h), which the generic
// conversion (hypervisor/os/win_status.h) does not know.
constexpr WhvError kWhvErrors[] = {
    {kWhvEUnknownCapability, "WHV_E_UNKNOWN_CAPABILITY",
     absl::StatusCode::kUnimplemented},
    {kWhvEInsufficientBuffer, "WHV_E_INSUFFICIENT_BUFFER",
     absl::StatusCode::kInvalidArgument},
    {kWhvEUnknownProperty, "WHV_E_UNKNOWN_PROPERTY",
     absl::StatusCode::kUnimplemented},
    {kWhvEUnsupportedHypervisorConfig, "WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG",
     absl::StatusCode::kUnavailable},
    {kWhvEInvalidPartitionConfig, "WHV_E_INVALID_PARTITION_CONFIG",
     absl::StatusCode::kFailedPrecondition},
    {kWhvEGpaRangeNotFound, "WHV_E_GPA_RANGE_NOT_FOUND",
     absl::StatusCode::kNotFound},
    {kWhvEVpAlreadyExists, "WHV_E_VP_ALREADY_EXISTS",
     absl::StatusCode::kAlreadyExists},
    {kWhvEVpDoesNotExist, "WHV_E_VP_DOES_NOT_EXIST",
     absl::StatusCode::kNotFound},
    {kWhvEInvalidVpState, "WHV_E_INVALID_VP_STATE",
     absl::StatusCode::kFailedPrecondition},
    {kWhvEInvalidVpRegisterName, "WHV_E_INVALID_VP_REGISTER_NAME",
     absl::StatusCode::kInvalidArgument},
};

const WhvError* FindWhvError(HRESULT hr) {
  for (const WhvError& error : kWhvErrors) {
    if (error.hr == hr) return &error;
  }
  return nullptr;
}

}  // namespace

const char* WhvErrorName(HRESULT hr) {
  const WhvError* error = FindWhvError(hr);
  return error == nullptr ? nullptr : error->name;
}

absl::Status HResultStatus(absl::string_view operation, HRESULT hr) {
  if (Succeeded(hr)) return absl::OkStatus();
  if (const WhvError* error = FindWhvError(hr)) {
    return absl::Status(
        error->code, absl::StrFormat("%s: %s (HRESULT 0x%08x)", operation,
                                     error->name, static_cast<uint32_t>(hr)));
  }
  return HresultStatus(operation, hr);
}

}  // namespace hv
