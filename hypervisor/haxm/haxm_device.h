// HaxmDevice: the open system device (\\.\HAX or /dev/HAX) and what the
// driver reported about itself, shared by a HaxmHypervisor and every VM and
// vCPU created from it. Internal to hypervisor/haxm.
//
// Example:
//   ASSIGN_OR_RETURN(std::shared_ptr<const hv::HaxmDevice> device,
//                    hv::HaxmDevice::Open(sys, "/dev/HAX"));
//   bool rom = device->Has(hv::haxm_abi::kCapImplicitRamblock);
#ifndef HV_HYPERVISOR_HAXM_HAXM_DEVICE_H_
#define HV_HYPERVISOR_HAXM_HAXM_DEVICE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hypervisor/haxm/haxm_abi.h"
#include "hypervisor/haxm/haxm_sys.h"

namespace hv {

struct HaxmDevice {
  // HaxmDevice::Open(): opens `path`, asks HAX_IOCTL_VERSION and
  // HAX_IOCTL_CAPABILITY, and refuses a driver hv cannot drive:
  // FAILED_PRECONDITION for API < v4, a driver that is not working (naming
  // VT-x / NX), or one without HAX_VM_IOCTL_SET_RAM2 or fast MMIO.
  static absl::StatusOr<std::shared_ptr<const HaxmDevice>> Open(
      HaxmSys* sys, absl::string_view path);

  // HaxmDevice::Has(): whether HAX_IOCTL_CAPABILITY reported `winfo_bit`.
  bool Has(uint16_t winfo_bit) const { return (caps.winfo & winfo_bit) != 0; }

  HaxmSys* sys = nullptr;
  std::string path;
  HaxmHandleOwner handle;
  haxm_abi::hax_module_version version = {};
  haxm_abi::hax_capabilityinfo caps = {};
};

// HaxmIoctl(): issues `code` on `handle` through `sys`; a failure is a
// Status "<ioctl name>[ (detail)]: <error text>".
absl::Status HaxmIoctl(HaxmSys* sys, HaxmHandle handle,
                       haxm_abi::DeviceLevel level, uint32_t code, void* buffer,
                       uint32_t in_size, uint32_t out_size,
                       absl::string_view detail = "");

}  // namespace hv

#endif  // HV_HYPERVISOR_HAXM_HAXM_DEVICE_H_
