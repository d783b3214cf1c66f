// The aarch64 part of KvmDevice: the guest-physical address (IPA) size the
// VMs are created with, and the capabilities behind vCPU features, PVTIME
// and the counter offset.
#include "absl/status/status.h"
#include "hypervisor/kvm/kvm_abi_aarch64.h"
#include "hypervisor/kvm/kvm_device.h"
#include "hypervisor/kvm/kvm_ioctl.h"
#include "hypervisor/os/status_macros.h"

namespace hv {
namespace {

// api.rst (KVM_CREATE_VM, arm64): a VM created with machine type 0 has a
// 40-bit IPA space, the only one kernels without KVM_CAP_ARM_VM_IPA_SIZE
// offer.
constexpr int kDefaultIpaBits = 40;

// The aarch64 capabilities QueryArch() asks the device for, in this order.
constexpr KvmCapQuery<KvmDeviceCaps> kArchCaps[] = {
    {&KvmDeviceCaps::arm_vm_ipa_size, HV_KVM_CAP(KVM_CAP_ARM_VM_IPA_SIZE)},
    {&KvmDeviceCaps::arm_psci_0_2, HV_KVM_CAP(KVM_CAP_ARM_PSCI_0_2)},
    {&KvmDeviceCaps::arm_pmu_v3, HV_KVM_CAP(KVM_CAP_ARM_PMU_V3)},
    {&KvmDeviceCaps::arm_sve, HV_KVM_CAP(KVM_CAP_ARM_SVE)},
    {&KvmDeviceCaps::arm_ptrauth_address,
     HV_KVM_CAP(KVM_CAP_ARM_PTRAUTH_ADDRESS)},
    {&KvmDeviceCaps::arm_ptrauth_generic,
     HV_KVM_CAP(KVM_CAP_ARM_PTRAUTH_GENERIC)},
    {&KvmDeviceCaps::steal_time, HV_KVM_CAP(KVM_CAP_STEAL_TIME)},
    {&KvmDeviceCaps::counter_offset, kvm_abi::kCapCounterOffset,
     "KVM_CAP_COUNTER_OFFSET"},
    {&KvmDeviceCaps::arm_hw_breakpoints, HV_KVM_CAP(KVM_CAP_GUEST_DEBUG_HW_BPS)},
};

}  // namespace

absl::Status KvmDevice::QueryArch(KvmDevice& device) {
  KvmSys* sys = device.sys;
  const int fd = device.fd.get();
  KvmDeviceCaps& caps = device.caps;
  RETURN_IF_ERROR(KvmCheckExtensions<KvmDeviceCaps>(sys, fd, kArchCaps, caps));
  // The largest IPA space the kernel offers; VMs ask for it in their type
  // (KVM_VM_TYPE_ARM_IPA_SIZE), so every address below the limit is usable.
  int ipa_bits = kDefaultIpaBits;
  device.vm_type = 0;
  if (caps.arm_vm_ipa_size > 0) {
    ipa_bits = caps.arm_vm_ipa_size;
    device.vm_type = KVM_VM_TYPE_ARM_IPA_SIZE(ipa_bits);
  }
  device.guest_address_limit = ipa_bits >= 64 ? ~0ull : 1ull << ipa_bits;
  // arm64's KVM_CAP_VCPU_EVENTS is about SErrors; hv's VcpuEvents are x86's.
  caps.vcpu_events = 0;
  caps.irqchip_state = 1;
  return absl::OkStatus();
}

bool KvmDevice::TscOffsetHonoured() const {
  // arm64 has no x86 TSC; its counter offset is VmAArch64::SetCounterOffset.
  return false;
}

bool KvmDevice::XcrsHonoured() const { return false; }

}  // namespace hv
