#include "hypervisor/haxm/haxm_abi.h"

#include <cerrno>

#include "absl/strings/str_format.h"

namespace hv::haxm_abi {

const Platform& PosixPlatform() {
  static const Platform platform = {
      PlatformKind::kPosix,
      "posix",
      kLinuxCodes,
      // The POSIX port checks no buffer sizes (the size is in the number);
      // its core functions return -EINVAL / -ENOMEM, copies -EFAULT, and an
      // unknown vCPU ioctl -ENOSYS.
      DriverErrors{EINVAL, EINVAL, EINVAL, ENOSYS, ENOMEM, EFAULT, ENOENT,
                   EBADF},
  };
  return platform;
}

const Platform& WindowsPlatform() {
  static const Platform platform = {
      PlatformKind::kWindows,
      "windows",
      kWindowsCodes,
      // ERROR_INVALID_PARAMETER, ERROR_GEN_FAILURE, ERROR_INSUFFICIENT_BUFFER,
      // ERROR_INVALID_FUNCTION, ERROR_NOT_ENOUGH_MEMORY, ERROR_NOACCESS,
      // ERROR_FILE_NOT_FOUND, ERROR_INVALID_HANDLE.
      DriverErrors{87, 31, 122, 1, 8, 998, 2, 6},
  };
  return platform;
}

std::string SystemDevicePath(const Platform& platform) {
  return platform.kind == PlatformKind::kWindows ? "\\\\.\\HAX" : "/dev/HAX";
}

std::string VmDevicePath(const Platform& platform, uint32_t vm_id) {
  return platform.kind == PlatformKind::kWindows
             ? absl::StrFormat("\\\\.\\hax_vm%02u", vm_id)
             : absl::StrFormat("/dev/hax_vm/vm%02u", vm_id);
}

std::string VcpuDevicePath(const Platform& platform, uint32_t vm_id,
                           uint32_t vcpu_id) {
  return platform.kind == PlatformKind::kWindows
             ? absl::StrFormat("\\\\.\\hax_vm%02u_vcpu%02u", vm_id, vcpu_id)
             : absl::StrFormat("/dev/hax_vm%02u/vcpu%02u", vm_id, vcpu_id);
}

std::string IoctlName(const Platform& platform, DeviceLevel level,
                      uint32_t code) {
  const IoctlCodes& c = platform.codes;
  struct Entry {
    DeviceLevel level;
    uint32_t code;
    const char* name;
  };
  const Entry entries[] = {
      {DeviceLevel::kSystem, c.version, "HAX_IOCTL_VERSION"},
      {DeviceLevel::kSystem, c.create_vm, "HAX_IOCTL_CREATE_VM"},
      {DeviceLevel::kSystem, c.capability, "HAX_IOCTL_CAPABILITY"},
      {DeviceLevel::kSystem, c.set_memlimit, "HAX_IOCTL_SET_MEMLIMIT"},
      {DeviceLevel::kVm, c.vm_vcpu_create, "HAX_VM_IOCTL_VCPU_CREATE"},
      {DeviceLevel::kVm, c.vm_alloc_ram, "HAX_VM_IOCTL_ALLOC_RAM"},
      {DeviceLevel::kVm, c.vm_set_ram, "HAX_VM_IOCTL_SET_RAM"},
      {DeviceLevel::kVm, c.vm_add_ramblock, "HAX_VM_IOCTL_ADD_RAMBLOCK"},
      {DeviceLevel::kVm, c.vm_set_ram2, "HAX_VM_IOCTL_SET_RAM2"},
      {DeviceLevel::kVm, c.vm_protect_ram, "HAX_VM_IOCTL_PROTECT_RAM"},
      {DeviceLevel::kVm, c.vm_notify_qemu_version,
       "HAX_VM_IOCTL_NOTIFY_QEMU_VERSION"},
      {DeviceLevel::kVcpu, c.vcpu_run, "HAX_VCPU_IOCTL_RUN"},
      {DeviceLevel::kVcpu, c.vcpu_set_msrs, "HAX_VCPU_IOCTL_SET_MSRS"},
      {DeviceLevel::kVcpu, c.vcpu_get_msrs, "HAX_VCPU_IOCTL_GET_MSRS"},
      {DeviceLevel::kVcpu, c.vcpu_set_fpu, "HAX_VCPU_IOCTL_SET_FPU"},
      {DeviceLevel::kVcpu, c.vcpu_get_fpu, "HAX_VCPU_IOCTL_GET_FPU"},
      {DeviceLevel::kVcpu, c.vcpu_setup_tunnel, "HAX_VCPU_IOCTL_SETUP_TUNNEL"},
      {DeviceLevel::kVcpu, c.vcpu_interrupt, "HAX_VCPU_IOCTL_INTERRUPT"},
      {DeviceLevel::kVcpu, c.vcpu_set_regs, "HAX_VCPU_SET_REGS"},
      {DeviceLevel::kVcpu, c.vcpu_get_regs, "HAX_VCPU_GET_REGS"},
      {DeviceLevel::kVcpu, c.vcpu_kickoff, "HAX_VCPU_IOCTL_KICKOFF"},
      {DeviceLevel::kVcpu, c.vcpu_debug, "HAX_IOCTL_VCPU_DEBUG"},
      {DeviceLevel::kVcpu, c.vcpu_set_cpuid, "HAX_VCPU_IOCTL_SET_CPUID"},
  };
  for (const Entry& entry : entries) {
    if (entry.code != 0 && entry.level == level && entry.code == code) {
      return entry.name;
    }
  }
  return absl::StrFormat("ioctl %#x", code);
}

const char* ExitStatusName(uint32_t status) {
  switch (status) {
    case kExitIo:
      return "HAX_EXIT_IO";
    case kExitMmio:
      return "HAX_EXIT_MMIO";
    case kExitRealMode:
      return "HAX_EXIT_REALMODE";
    case kExitInterrupt:
      return "HAX_EXIT_INTERRUPT";
    case kExitUnknown:
      return "HAX_EXIT_UNKNOWN";
    case kExitHlt:
      return "HAX_EXIT_HLT";
    case kExitStateChange:
      return "HAX_EXIT_STATECHANGE";
    case kExitPaused:
      return "HAX_EXIT_PAUSED";
    case kExitFastMmio:
      return "HAX_EXIT_FAST_MMIO";
    case kExitPageFault:
      return "HAX_EXIT_PAGEFAULT";
    case kExitDebug:
      return "HAX_EXIT_DEBUG";
    default:
      return "HAX_EXIT_(unknown)";
  }
}

}  // namespace hv::haxm_abi
