#include "hypervisor/gunyah/gunyah_vm_core.h"

#include "absl/strings/str_format.h"
#include "hypervisor/os/errno_status.h"

namespace hv {

absl::Status GunyahVmCore::EnsureStarted() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (started_) return absl::OkStatus();
  if (!dtb_.has_value()) {
    return absl::FailedPreconditionError(
        "GH_VM_START: a Gunyah VM is configured from its devicetree; call "
        "VmAArch64::InitArch() with the devicetree's guest address and "
        "size (inside an added memory region) before the first Run()");
  }
  if (sys()->Ioctl(fd(), gunyah_abi::kVmStart, 0) < 0) {
    return ErrnoStatus(absl::StrFormat(
        "GH_VM_START (devicetree at %#x, %#x bytes)", dtb_->guest_phys_addr,
        dtb_->size));
  }
  started_ = true;
  return absl::OkStatus();
}

bool GunyahVmCore::started() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return started_;
}

absl::Status GunyahVmCore::SetDtbConfig(uint64_t guest_address,
                                        uint64_t size) {
  if (size == 0 || guest_address + size < guest_address) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "GH_VM_SET_DTB_CONFIG: devicetree range [%#x, +%#x) is empty or "
        "wraps",
        guest_address, size));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (started_) {
    return absl::FailedPreconditionError(
        "GH_VM_SET_DTB_CONFIG: the VM has started; its devicetree is fixed");
  }
  gunyah_abi::VmDtbConfig config = {};
  config.guest_phys_addr = guest_address;
  config.size = size;
  if (sys()->IoctlPtr(fd(), gunyah_abi::kVmSetDtbConfig, &config) < 0) {
    return ErrnoStatus(absl::StrFormat("GH_VM_SET_DTB_CONFIG ([%#x, +%#x))",
                                       guest_address, size));
  }
  dtb_ = config;
  return absl::OkStatus();
}

std::optional<gunyah_abi::VmDtbConfig> GunyahVmCore::dtb_config() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dtb_;
}

absl::Status GunyahVmCore::SetBootRegister(uint32_t reg, uint64_t value,
                                           const char* name) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (started_) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "set %s: the VM has started; Gunyah does not let the host access a "
        "running VM's registers (only the boot context before GH_VM_START)",
        name));
  }
  gunyah_abi::VmBootContext context = {};
  context.reg = reg;
  context.value = value;
  if (sys()->IoctlPtr(fd(), gunyah_abi::kVmSetBootContext, &context) < 0) {
    return ErrnoStatus(
        absl::StrFormat("GH_VM_SET_BOOT_CONTEXT (%s, reg %#x)", name, reg));
  }
  return absl::OkStatus();
}

}  // namespace hv
