// The platform-neutral part of the HaxmSys seam: error conversion and the
// tunnel address check both real seams share.
#include "hypervisor/haxm/haxm_sys.h"

#include "absl/strings/str_format.h"
#include "hypervisor/os/errno_status.h"

namespace hv {
namespace {

// Win32 errors HAXM's ioctls and device opens produce, with their system
// message text and the closest status code.
struct Win32Error {
  int code;
  absl::StatusCode status;
  const char* text;
};

constexpr Win32Error kWin32Errors[] = {
    {1, absl::StatusCode::kUnimplemented, "Incorrect function"},
    {2, absl::StatusCode::kNotFound, "The system cannot find the file specified"},
    {5, absl::StatusCode::kPermissionDenied, "Access is denied"},
    {6, absl::StatusCode::kInvalidArgument, "The handle is invalid"},
    {8, absl::StatusCode::kResourceExhausted,
     "Not enough memory resources are available to process this command"},
    {31, absl::StatusCode::kInternal,
     "A device attached to the system is not functioning"},
    {50, absl::StatusCode::kUnimplemented, "The request is not supported"},
    {87, absl::StatusCode::kInvalidArgument, "The parameter is incorrect"},
    {122, absl::StatusCode::kInvalidArgument,
     "The data area passed to a system call is too small"},
    {998, absl::StatusCode::kInvalidArgument,
     "Invalid access to memory location"},
};

}  // namespace

absl::Status HaxmErrorStatus(const haxm_abi::Platform& platform,
                             absl::string_view operation, int error) {
  if (platform.kind == haxm_abi::PlatformKind::kPosix) {
    return ErrnoStatus(operation, error);
  }
  if (error == 0) {
    return absl::InternalError(
        absl::StrFormat("%s: failed without a Win32 error", operation));
  }
  for (const Win32Error& known : kWin32Errors) {
    if (known.code == error) {
      return absl::Status(known.status,
                          absl::StrFormat("%s: %s (Win32 error %d)", operation,
                                          known.text, error));
    }
  }
  return absl::UnknownError(
      absl::StrFormat("%s: Win32 error %d", operation, error));
}

absl::Status HaxmSys::ErrorStatus(absl::string_view operation,
                                  int error) const {
  return HaxmErrorStatus(platform(), operation, error);
}

int MapDriverTunnel(const haxm_abi::Platform& platform,
                    const haxm_abi::hax_tunnel_info& info, HaxmTunnel* tunnel) {
  if (info.va == 0 || info.io_va == 0 ||
      info.size < sizeof(haxm_abi::hax_tunnel)) {
    return platform.errors.invalid_parameter;
  }
  // The driver mapped both into this process (hax_setup_vcpumem) and reports
  // their user addresses; the I/O buffer is IOS_MAX_BUFFER bytes of a page.
  tunnel->tunnel = reinterpret_cast<haxm_abi::hax_tunnel*>(
      static_cast<uintptr_t>(info.va));
  tunnel->io_buffer =
      reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(info.io_va));
  tunnel->tunnel_size = info.size;
  tunnel->io_buffer_size = haxm_abi::kIoBufferSize;
  return 0;
}

}  // namespace hv
