#include "hypervisor/haxm/haxm_device.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"

namespace hv {

absl::Status HaxmIoctl(HaxmSys* sys, HaxmHandle handle,
                       haxm_abi::DeviceLevel level, uint32_t code, void* buffer,
                       uint32_t in_size, uint32_t out_size,
                       absl::string_view detail) {
  const int error = sys->Ioctl(handle, code, buffer, in_size, out_size);
  if (error == 0) return absl::OkStatus();
  std::string operation = haxm_abi::IoctlName(sys->platform(), level, code);
  if (!detail.empty()) absl::StrAppend(&operation, " (", detail, ")");
  return sys->ErrorStatus(operation, error);
}

absl::StatusOr<std::shared_ptr<const HaxmDevice>> HaxmDevice::Open(
    HaxmSys* sys, absl::string_view path) {
  auto device = std::make_shared<HaxmDevice>();
  device->sys = sys;
  device->path = std::string(path);
  HaxmHandle handle = kInvalidHaxmHandle;
  if (const int error = sys->Open(device->path, &handle); error != 0) {
    return sys->ErrorStatus(absl::StrCat("open ", path), error);
  }
  device->handle = HaxmHandleOwner(sys, handle);
  const haxm_abi::IoctlCodes& codes = sys->platform().codes;
  using haxm_abi::DeviceLevel;

  RETURN_IF_ERROR(HaxmIoctl(sys, handle, DeviceLevel::kSystem, codes.version,
                            &device->version, 0, sizeof(device->version)));
  const haxm_abi::hax_module_version& v = device->version;
  if (v.cur_version < haxm_abi::kApiVersionRequired) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: HAXM API v%u is too old; hv needs v%u (HAXM 7.x) to unmap memory "
        "with HAX_RAM_INFO_INVALID",
        path, v.cur_version, haxm_abi::kApiVersionRequired));
  }
  if (v.compat_version > haxm_abi::kApiVersionRequired) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: HAXM supports API v%u..v%u only; hv speaks v%u", path,
        v.compat_version, v.cur_version, haxm_abi::kApiVersionRequired));
  }

  RETURN_IF_ERROR(HaxmIoctl(sys, handle, DeviceLevel::kSystem,
                            codes.capability, &device->caps, 0,
                            sizeof(device->caps)));
  const haxm_abi::hax_capabilityinfo& caps = device->caps;
  if ((caps.wstatus & haxm_abi::kCapStatusWorking) == 0) {
    std::string why;
    if (caps.winfo & haxm_abi::kCapFailReasonVt) {
      why += " VT-x is unsupported or disabled;";
    }
    if (caps.winfo & haxm_abi::kCapFailReasonNx) {
      why += " NX (Execute Disable) is unsupported or disabled;";
    }
    if (why.empty()) why = " no reason given;";
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: HAXM reports it is not working:%s (wstatus %#x winfo %#x)", path,
        why, caps.wstatus, caps.winfo));
  }
  if (!device->Has(haxm_abi::kCap64BitSetRam)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: HAXM lacks HAX_CAP_64BIT_SETRAM (HAX_VM_IOCTL_SET_RAM2)", path));
  }
  if (!device->Has(haxm_abi::kCapFastMmio)) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: HAXM lacks HAX_CAP_FASTMMIO", path));
  }
  return std::shared_ptr<const HaxmDevice>(std::move(device));
}

}  // namespace hv
