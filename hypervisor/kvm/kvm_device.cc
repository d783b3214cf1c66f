#include "hypervisor/kvm/kvm_device.h"

#include <fcntl.h>

#include <cerrno>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hypervisor/kvm/kvm_abi.h"
#include "hypervisor/kvm/kvm_ioctl.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/status_macros.h"

namespace hv {
namespace {

// api.rst: "If the KVM_CAP_NR_VCPUS does not exist, you should assume that
// max_vcpus is 4 cpus max."
constexpr uint32_t kDefaultMaxVcpus = 4;
// The capabilities Open() asks the device for, in this order.
constexpr KvmCapQuery<KvmDeviceCaps> kDeviceCaps[] = {
    {&KvmDeviceCaps::user_memory, HV_KVM_CAP(KVM_CAP_USER_MEMORY)},
    {&KvmDeviceCaps::immediate_exit, HV_KVM_CAP(KVM_CAP_IMMEDIATE_EXIT)},
    {&KvmDeviceCaps::readonly_mem, HV_KVM_CAP(KVM_CAP_READONLY_MEM)},
    {&KvmDeviceCaps::irqfd, HV_KVM_CAP(KVM_CAP_IRQFD)},
    {&KvmDeviceCaps::ioeventfd, HV_KVM_CAP(KVM_CAP_IOEVENTFD)},
    {&KvmDeviceCaps::irqchip, HV_KVM_CAP(KVM_CAP_IRQCHIP)},
    {&KvmDeviceCaps::split_irqchip, HV_KVM_CAP(KVM_CAP_SPLIT_IRQCHIP)},
    {&KvmDeviceCaps::pit2, kvm_abi::kCapPit2, "KVM_CAP_PIT2"},
    {&KvmDeviceCaps::xcrs, kvm_abi::kCapXcrs, "KVM_CAP_XCRS"},
    {&KvmDeviceCaps::xsave, kvm_abi::kCapXsave, "KVM_CAP_XSAVE"},
    {&KvmDeviceCaps::xsave2, HV_KVM_CAP(KVM_CAP_XSAVE2)},
    {&KvmDeviceCaps::vcpu_attributes, HV_KVM_CAP(KVM_CAP_VCPU_ATTRIBUTES)},
    {&KvmDeviceCaps::sync_regs, HV_KVM_CAP(KVM_CAP_SYNC_REGS)},
    {&KvmDeviceCaps::check_extension_vm,
     HV_KVM_CAP(KVM_CAP_CHECK_EXTENSION_VM)},
    {&KvmDeviceCaps::adjust_clock, HV_KVM_CAP(KVM_CAP_ADJUST_CLOCK)},
    {&KvmDeviceCaps::nr_memslots, HV_KVM_CAP(KVM_CAP_NR_MEMSLOTS)},
    {&KvmDeviceCaps::nr_vcpus, HV_KVM_CAP(KVM_CAP_NR_VCPUS)},
    {&KvmDeviceCaps::max_vcpus, HV_KVM_CAP(KVM_CAP_MAX_VCPUS)},
    {&KvmDeviceCaps::mp_state, HV_KVM_CAP(KVM_CAP_MP_STATE)},
    {&KvmDeviceCaps::vcpu_events, HV_KVM_CAP(KVM_CAP_VCPU_EVENTS)},
    {&KvmDeviceCaps::guest_debug, HV_KVM_CAP(KVM_CAP_SET_GUEST_DEBUG)},
    {&KvmDeviceCaps::tsc_control, HV_KVM_CAP(KVM_CAP_TSC_CONTROL)},
    {&KvmDeviceCaps::kvmclock_ctrl, HV_KVM_CAP(KVM_CAP_KVMCLOCK_CTRL)},
    {&KvmDeviceCaps::msr_features, HV_KVM_CAP(KVM_CAP_GET_MSR_FEATURES)},
};

}  // namespace

absl::StatusOr<std::shared_ptr<const KvmDevice>> KvmDevice::Open(
    KvmSys* sys, absl::string_view path) {
  auto device = std::make_shared<KvmDevice>();
  device->sys = sys;
  std::string path_string(path);
  device->fd = KvmFd(sys, sys->Open(path_string.c_str(), O_RDWR | O_CLOEXEC));
  if (!device->fd.valid()) return ErrnoStatus(absl::StrCat("open ", path));
  const int fd = device->fd.get();

  ASSIGN_OR_RETURN(int version, KvmIoctlValue(sys, fd, KVM_GET_API_VERSION, 0,
                                              "KVM_GET_API_VERSION"));
  if (version != kvm_abi::kApiVersion) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "KVM_GET_API_VERSION: %s speaks KVM API version %d; hv needs %d",
        path, version, kvm_abi::kApiVersion));
  }
  RETURN_IF_ERROR(KvmCheckExtensions<KvmDeviceCaps>(sys, fd, kDeviceCaps,
                                                   device->caps));
  if (device->caps.user_memory == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " lacks KVM_CAP_USER_MEMORY, which hv needs for guest memory"));
  }
  const KvmDeviceCaps& caps = device->caps;
  device->max_vcpus = caps.max_vcpus > 0   ? caps.max_vcpus
                      : caps.nr_vcpus > 0 ? caps.nr_vcpus
                                          : kDefaultMaxVcpus;
  ASSIGN_OR_RETURN(int mmap_size, KvmIoctlValue(sys, fd, KVM_GET_VCPU_MMAP_SIZE,
                                                0, "KVM_GET_VCPU_MMAP_SIZE"));
  if (static_cast<size_t>(mmap_size) < sizeof(kvm_run)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "KVM_GET_VCPU_MMAP_SIZE: %d bytes is smaller than struct kvm_run (%d)",
        mmap_size, sizeof(kvm_run)));
  }
  device->vcpu_mmap_size = static_cast<uint64_t>(mmap_size);

  RETURN_IF_ERROR(QueryArch(*device));
  return std::shared_ptr<const KvmDevice>(std::move(device));
}

}  // namespace hv
