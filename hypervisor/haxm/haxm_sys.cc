// The platform-neutral part of the HaxmSys seam: error conversion (hv's one
// errno and one Win32-error conversion) and the tunnel address check both
// real seams share.
#include "hypervisor/haxm/haxm_sys.h"

#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/win_status.h"

namespace hv {

absl::Status HaxmErrorStatus(const haxm_abi::Platform& platform,
                             absl::string_view operation, int error) {
  if (platform.kind == haxm_abi::PlatformKind::kPosix) {
    return ErrnoStatus(operation, error);
  }
  return WinErrorStatus(operation, static_cast<uint32_t>(error));
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
