#include "hypervisor/whpx/whpx_status.h"

#include <cstdint>

#include "absl/strings/str_format.h"

namespace hv {

using namespace whpx_abi;  // NOLINT: the HRESULT constants

const char* HResultName(HRESULT hr) {
  switch (hr) {
    case kSOk: return "S_OK";
    case kEInvalidArg: return "E_INVALIDARG";
    case kEOutOfMemory: return "E_OUTOFMEMORY";
    case kEHandle: return "E_HANDLE";
    case kEAccessDenied: return "E_ACCESSDENIED";
    case kEPointer: return "E_POINTER";
    case kENotImpl: return "E_NOTIMPL";
    case kEFail: return "E_FAIL";
    case kEUnexpected: return "E_UNEXPECTED";
    case kWhvEUnknownCapability: return "WHV_E_UNKNOWN_CAPABILITY";
    case kWhvEInsufficientBuffer: return "WHV_E_INSUFFICIENT_BUFFER";
    case kWhvEUnknownProperty: return "WHV_E_UNKNOWN_PROPERTY";
    case kWhvEUnsupportedHypervisorConfig:
      return "WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG";
    case kWhvEInvalidPartitionConfig: return "WHV_E_INVALID_PARTITION_CONFIG";
    case kWhvEGpaRangeNotFound: return "WHV_E_GPA_RANGE_NOT_FOUND";
    case kWhvEVpAlreadyExists: return "WHV_E_VP_ALREADY_EXISTS";
    case kWhvEVpDoesNotExist: return "WHV_E_VP_DOES_NOT_EXIST";
    case kWhvEInvalidVpState: return "WHV_E_INVALID_VP_STATE";
    case kWhvEInvalidVpRegisterName: return "WHV_E_INVALID_VP_REGISTER_NAME";
  }
  return nullptr;
}

namespace {

absl::StatusCode CodeFor(HRESULT hr) {
  switch (hr) {
    case kEInvalidArg:
    case kEPointer:
    case kEHandle:
    case kWhvEInsufficientBuffer:
    case kWhvEInvalidVpRegisterName:
      return absl::StatusCode::kInvalidArgument;
    case kEOutOfMemory:
      return absl::StatusCode::kResourceExhausted;
    case kEAccessDenied:
      return absl::StatusCode::kPermissionDenied;
    case kENotImpl:
    case kWhvEUnknownCapability:
    case kWhvEUnknownProperty:
      return absl::StatusCode::kUnimplemented;
    case kWhvEUnsupportedHypervisorConfig:
      return absl::StatusCode::kUnavailable;
    case kWhvEInvalidPartitionConfig:
    case kWhvEInvalidVpState:
      return absl::StatusCode::kFailedPrecondition;
    case kWhvEGpaRangeNotFound:
    case kWhvEVpDoesNotExist:
      return absl::StatusCode::kNotFound;
    case kWhvEVpAlreadyExists:
      return absl::StatusCode::kAlreadyExists;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::Status HResultStatus(absl::string_view operation, HRESULT hr) {
  if (Succeeded(hr)) return absl::OkStatus();
  const char* name = HResultName(hr);
  return absl::Status(
      CodeFor(hr),
      absl::StrFormat("%s: HRESULT 0x%08x (%s)", operation,
                      static_cast<uint32_t>(hr),
                      name != nullptr ? name : "unknown"));
}

}  // namespace hv
