// GunyahVmCore: what a Gunyah VM shares with its vCPUs: the VM fd and the
// VM's lifecycle (not started -> started). Internal to hypervisor/gunyah.
//
// Gunyah's resource manager builds the VM when GH_VM_START runs (from the
// devicetree given with GH_VM_SET_DTB_CONFIG and the memory added so far),
// and a vCPU cannot run before that (GH_VCPU_RUN: ENODEV). hv starts the VM
// on the first Run() of any of its vCPUs, as the kernel's own
// gh_vm_ensure_started() does for GH_VM_START; after that no memory can be
// added and no boot register set.
//
// Example:
//   RETURN_IF_ERROR(core->EnsureStarted());  // first Run()
#ifndef HV_HYPERVISOR_GUNYAH_GUNYAH_VM_CORE_H_
#define HV_HYPERVISOR_GUNYAH_GUNYAH_VM_CORE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "hypervisor/gunyah/gunyah_abi.h"
#include "hypervisor/gunyah/gunyah_fd.h"
#include "hypervisor/gunyah/gunyah_hypervisor.h"

namespace hv {

class GunyahVmCore {
 public:
  GunyahVmCore(std::shared_ptr<const GunyahDevice> device, GunyahFd vm_fd)
      : device_(std::move(device)), vm_fd_(std::move(vm_fd)) {}
  GunyahVmCore(const GunyahVmCore&) = delete;
  GunyahVmCore& operator=(const GunyahVmCore&) = delete;

  GunyahSys* sys() const { return device_->sys; }
  int fd() const { return vm_fd_.get(); }

  // GunyahVmCore::EnsureStarted(): GH_VM_START unless the VM has started.
  // FAILED_PRECONDITION (no ioctl) when no devicetree was configured.
  absl::Status EnsureStarted();
  bool started() const;

  // GunyahVmCore::SetDtbConfig(): GH_VM_SET_DTB_CONFIG, before the start.
  absl::Status SetDtbConfig(uint64_t guest_address, uint64_t size);
  std::optional<gunyah_abi::VmDtbConfig> dtb_config() const;

  // GunyahVmCore::SetBootRegister(): GH_VM_SET_BOOT_CONTEXT, before the
  // start; `name` names the register in errors.
  absl::Status SetBootRegister(uint32_t reg, uint64_t value, const char* name);

  // The lock that orders memory changes against the start: held by
  // GunyahVm while it adds memory, so the VM cannot start in between.
  std::mutex& lifecycle_mutex() const ABSL_LOCK_RETURNED(mutex_) {
    return mutex_;
  }
  bool started_locked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return started_;
  }

 private:
  const std::shared_ptr<const GunyahDevice> device_;
  const GunyahFd vm_fd_;
  mutable std::mutex mutex_;
  bool started_ ABSL_GUARDED_BY(mutex_) = false;
  std::optional<gunyah_abi::VmDtbConfig> dtb_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace hv

#endif  // HV_HYPERVISOR_GUNYAH_GUNYAH_VM_CORE_H_
