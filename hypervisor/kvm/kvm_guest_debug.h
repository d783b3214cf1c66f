// The control word of KVM_SET_GUEST_DEBUG, the same for both
// architectures' vCPUs; each fills its own breakpoint registers. Internal
// to hypervisor/kvm.
//
// Example (what a vCPU's SetGuestDebug does):
//   kvm_guest_debug request = {};
//   request.control = hv::KvmGuestDebugControl(debug, KVM_GUESTDBG_USE_HW);
#ifndef HV_HYPERVISOR_KVM_KVM_GUEST_DEBUG_H_
#define HV_HYPERVISOR_KVM_KVM_GUEST_DEBUG_H_

#include <linux/kvm.h>

#include <cstdint>

#include "hypervisor/vcpu.h"

namespace hv {

// KvmGuestDebugControl(): 0 when `debug` is off; else KVM_GUESTDBG_ENABLE,
// with KVM_GUESTDBG_SINGLESTEP for single stepping and `use_hw` (x86:
// KVM_GUESTDBG_USE_HW_BP; arm64: KVM_GUESTDBG_USE_HW) when it names
// hardware breakpoints (api.rst, 4.59 KVM_SET_GUEST_DEBUG).
inline uint32_t KvmGuestDebugControl(const Vcpu::GuestDebug& debug,
                                     uint32_t use_hw) {
  if (!debug.enable) return 0;
  uint32_t control = KVM_GUESTDBG_ENABLE;
  if (debug.single_step) control |= KVM_GUESTDBG_SINGLESTEP;
  if (!debug.hw_breakpoints.empty()) control |= use_hw;
  return control;
}

}  // namespace hv

#endif  // HV_HYPERVISOR_KVM_KVM_GUEST_DEBUG_H_
