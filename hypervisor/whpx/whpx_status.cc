#include "hypervisor/whpx/whpx_status.h"

#include <cstdint>

#include "hypervisor/os/win_status.h"

namespace hv {

using namespace whpx_abi;  // NOLINT: the HRESULT constants

namespace {

using Code = absl::StatusCode;

// Whv(): a row of kWhvErrors.
constexpr KnownWinError Whv(HRESULT hr, const char* name, Code code) {
  return {static_cast<uint32_t>(hr), name, code};
}

// The WHV_E_* codes of WinHvPlatform (winerror.h), which the generic
// conversion (hypervisor/os/win_status.h) does not know.
constexpr KnownWinError kWhvErrors[] = {
    Whv(kWhvEUnknownCapability, "WHV_E_UNKNOWN_CAPABILITY", Code::kUnimplemented),
    Whv(kWhvEInsufficientBuffer, "WHV_E_INSUFFICIENT_BUFFER", Code::kInvalidArgument),
    Whv(kWhvEUnknownProperty, "WHV_E_UNKNOWN_PROPERTY", Code::kUnimplemented),
    Whv(kWhvEUnsupportedHypervisorConfig, "WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG", Code::kUnavailable),
    Whv(kWhvEInvalidPartitionConfig, "WHV_E_INVALID_PARTITION_CONFIG", Code::kFailedPrecondition),
    Whv(kWhvEGpaRangeNotFound, "WHV_E_GPA_RANGE_NOT_FOUND", Code::kNotFound),
    Whv(kWhvEVpAlreadyExists, "WHV_E_VP_ALREADY_EXISTS", Code::kAlreadyExists),
    Whv(kWhvEVpDoesNotExist, "WHV_E_VP_DOES_NOT_EXIST", Code::kNotFound),
    Whv(kWhvEInvalidVpState, "WHV_E_INVALID_VP_STATE", Code::kFailedPrecondition),
    Whv(kWhvEInvalidVpRegisterName, "WHV_E_INVALID_VP_REGISTER_NAME", Code::kInvalidArgument),
};

}  // namespace

const char* WhvErrorName(HRESULT hr) {
  const KnownWinError* error =
      FindWinError(kWhvErrors, static_cast<uint32_t>(hr));
  return error == nullptr ? nullptr : error->name;
}

absl::Status HResultStatus(absl::string_view operation, HRESULT hr) {
  if (Succeeded(hr)) return absl::OkStatus();
  return HresultStatus(operation, hr, kWhvErrors);
}

}  // namespace hv
