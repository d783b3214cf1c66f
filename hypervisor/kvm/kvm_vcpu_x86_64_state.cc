// KvmVcpuX86_64's calls for saving and restoring a vCPU: the whole XSAVE
// image, vCPU events, MP state, the TSC frequency and KVM_KVMCLOCK_CTRL.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_format.h"
#include "hypervisor/kvm/kvm_abi_x86_64.h"
#include "hypervisor/kvm/kvm_guest_debug.h"
#include "hypervisor/kvm/kvm_ioctl.h"
#include "hypervisor/kvm/kvm_mp_state.h"
#include "hypervisor/kvm/kvm_vcpu_x86_64.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/status_macros.h"

namespace hv {

size_t KvmVcpuX86_64::XsaveSize() const {
  if (device_->caps.xsave == 0) return 0;
  // KVM_CAP_XSAVE2 gives the image size when it exceeds 4 KiB (e.g. with
  // AMX state); KVM_GET_XSAVE2 then fills the larger buffer, and
  // KVM_SET_XSAVE reads that many bytes (api.rst, 4.42 and 4.128).
  return std::max<size_t>(sizeof(kvm_abi::XsaveImage), device_->caps.xsave2);
}

absl::StatusOr<std::vector<uint8_t>> KvmVcpuX86_64::GetXsave() {
  const size_t size = XsaveSize();
  if (size == 0) {
    return absl::UnimplementedError("get xsave: this KVM lacks KVM_CAP_XSAVE");
  }
  std::vector<uint8_t> xsave(size);
  if (size > sizeof(kvm_abi::XsaveImage)) {
    RETURN_IF_ERROR(KvmIoctl(sys_, fd_.get(), kvm_abi::kGetXsave2, xsave.data(),
                             "KVM_GET_XSAVE2"));
  } else {
    RETURN_IF_ERROR(KvmIoctl(sys_, fd_.get(), kvm_abi::kGetXsave, xsave.data(),
                             "KVM_GET_XSAVE"));
  }
  return xsave;
}

absl::Status KvmVcpuX86_64::SetXsave(absl::Span<const uint8_t> image) {
  const size_t size = XsaveSize();
  if (size == 0) {
    return absl::UnimplementedError("set xsave: this KVM lacks KVM_CAP_XSAVE");
  }
  if (image.size() != size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "set xsave: the image is %u bytes; this KVM's XSAVE image is %u",
        image.size(), size));
  }
  return KvmIoctl(sys_, fd_.get(), kvm_abi::kSetXsave, image.data(),
                  "KVM_SET_XSAVE");
}

absl::StatusOr<VcpuEvents> KvmVcpuX86_64::GetVcpuEvents() {
  if (device_->caps.vcpu_events == 0) {
    return absl::UnimplementedError(
        "get vCPU events: this KVM lacks KVM_CAP_VCPU_EVENTS");
  }
  kvm_vcpu_events e = {};
  RETURN_IF_ERROR(KvmIoctl(sys_, fd_.get(), KVM_GET_VCPU_EVENTS, &e,
                           "KVM_GET_VCPU_EVENTS"));
  VcpuEvents events;
  // Without KVM_CAP_EXCEPTION_PAYLOAD (hv does not enable it) KVM reports
  // a pending exception as injected, so `pending` is not read.
  events.exception.injected = e.exception.injected != 0;
  events.exception.vector = e.exception.nr;
  events.exception.has_error_code = e.exception.has_error_code != 0;
  events.exception.error_code = e.exception.error_code;
  events.interrupt.injected = e.interrupt.injected != 0;
  events.interrupt.vector = e.interrupt.nr;
  events.interrupt.soft = e.interrupt.soft != 0;
  events.interrupt.shadow = e.interrupt.shadow;
  events.nmi.injected = e.nmi.injected != 0;
  events.nmi.pending = e.nmi.pending != 0;
  events.nmi.masked = e.nmi.masked != 0;
  if ((e.flags & KVM_VCPUEVENT_VALID_SIPI_VECTOR) != 0) {
    events.sipi_vector = static_cast<uint8_t>(e.sipi_vector);
  }
  if ((e.flags & KVM_VCPUEVENT_VALID_SMM) != 0) {
    events.smi.smm = e.smi.smm != 0;
    events.smi.pending = e.smi.pending != 0;
    events.smi.smm_inside_nmi = e.smi.smm_inside_nmi != 0;
    events.smi.latched_init = e.smi.latched_init != 0;
  }
  return events;
}

absl::Status KvmVcpuX86_64::SetVcpuEvents(const VcpuEvents& events) {
  if (device_->caps.vcpu_events == 0) {
    return absl::UnimplementedError(
        "set vCPU events: this KVM lacks KVM_CAP_VCPU_EVENTS");
  }
  if (events.interrupt.shadow > 3) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "set vCPU events: interrupt shadow %#x has bits beyond STI (1) and "
        "MOV SS (2)",
        events.interrupt.shadow));
  }
  if (events.exception.injected && events.exception.vector >= 32) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "set vCPU events: exception vector %u is not an exception (0-31)",
        events.exception.vector));
  }
  kvm_vcpu_events e = {};
  e.exception.injected = events.exception.injected ? 1 : 0;
  e.exception.nr = events.exception.vector;
  e.exception.has_error_code = events.exception.has_error_code ? 1 : 0;
  e.exception.error_code = events.exception.error_code;
  e.interrupt.injected = events.interrupt.injected ? 1 : 0;
  e.interrupt.nr = events.interrupt.vector;
  e.interrupt.soft = events.interrupt.soft ? 1 : 0;
  e.interrupt.shadow = events.interrupt.shadow;
  e.nmi.injected = events.nmi.injected ? 1 : 0;
  e.nmi.pending = events.nmi.pending ? 1 : 0;
  e.nmi.masked = events.nmi.masked ? 1 : 0;
  // Every field is set, as the contract says: the pending NMI and the
  // shadow always; the SIPI vector when there is one; SMM only when it
  // says something (KVM refuses SMM state where SMM is not built in).
  e.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
  if (events.sipi_vector.has_value()) {
    e.flags |= KVM_VCPUEVENT_VALID_SIPI_VECTOR;
    e.sipi_vector = *events.sipi_vector;
  }
  const VcpuEvents::Smi& smi = events.smi;
  if (smi.smm || smi.pending || smi.smm_inside_nmi || smi.latched_init) {
    e.flags |= KVM_VCPUEVENT_VALID_SMM;
    e.smi.smm = smi.smm ? 1 : 0;
    e.smi.pending = smi.pending ? 1 : 0;
    e.smi.smm_inside_nmi = smi.smm_inside_nmi ? 1 : 0;
    e.smi.latched_init = smi.latched_init ? 1 : 0;
  }
  return KvmIoctl(sys_, fd_.get(), KVM_SET_VCPU_EVENTS, &e,
                  "KVM_SET_VCPU_EVENTS");
}

absl::Status KvmVcpuX86_64::SetTscKhz(uint32_t khz) {
  if (device_->caps.tsc_control == 0) {
    return absl::UnimplementedError(absl::StrFormat(
        "set TSC frequency %u kHz: this KVM lacks KVM_CAP_TSC_CONTROL", khz));
  }
  if (khz == 0) {
    return absl::InvalidArgumentError("set TSC frequency: 0 kHz");
  }
  return KvmIoctlValue(sys_, fd_.get(), KVM_SET_TSC_KHZ, khz,
                       absl::StrFormat("KVM_SET_TSC_KHZ (%u kHz)", khz))
      .status();
}

absl::Status KvmVcpuX86_64::NotifyGuestPaused() {
  if (device_->caps.kvmclock_ctrl == 0) {
    return absl::UnimplementedError(
        "notify guest paused: this KVM lacks KVM_CAP_KVMCLOCK_CTRL");
  }
  if (sys_->Ioctl(fd_.get(), KVM_KVMCLOCK_CTRL, 0) < 0) {
    // api.rst: EINVAL when the guest has not set up its pvclock page.
    if (errno == EINVAL) {
      return absl::FailedPreconditionError(
          "KVM_KVMCLOCK_CTRL: the guest has not enabled kvmclock on this "
          "vCPU");
    }
    return ErrnoStatus("KVM_KVMCLOCK_CTRL");
  }
  return absl::OkStatus();
}

absl::StatusOr<MpState> KvmVcpuX86_64::GetMpState() {
  return GetKvmMpState(*device_, fd_.get(), MpArch::kX86);
}

absl::Status KvmVcpuX86_64::SetMpState(MpState state) {
  return SetKvmMpState(*device_, fd_.get(), MpArch::kX86, state);
}

absl::Status KvmVcpuX86_64::SetGuestDebug(const GuestDebug& debug) {
  if (device_->caps.guest_debug == 0) {
    return absl::UnimplementedError(
        "set guest debug: this KVM lacks KVM_CAP_SET_GUEST_DEBUG");
  }
  // DR0-DR3 (Intel SDM Vol. 3, Section 18.2.4).
  constexpr size_t kBreakpoints = 4;
  if (debug.hw_breakpoints.size() > kBreakpoints) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "set guest debug: %u hardware breakpoints; x86 has %u (DR0-DR3)",
        debug.hw_breakpoints.size(), kBreakpoints));
  }
  for (uint64_t address : debug.hw_breakpoints) {
    // A linear address must be canonical (48-bit: bits 63:47 equal).
    const uint64_t top = address >> 47;
    if (top != 0 && top != 0x1ffff) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "set guest debug: breakpoint address %#x is not canonical", address));
    }
  }
  kvm_guest_debug request = {};
  request.control = KvmGuestDebugControl(debug, KVM_GUESTDBG_USE_HW_BP);
  if (debug.enable) {
    if (!debug.hw_breakpoints.empty()) {
      uint64_t dr7 = 0;
      for (size_t i = 0; i < debug.hw_breakpoints.size(); ++i) {
        request.arch.debugreg[i] = debug.hw_breakpoints[i];
        // G<i> (bit 2i + 1), with R/W and LEN 00: an instruction fetch
        // breakpoint (Section 18.2.4).
        dr7 |= uint64_t{1} << (2 * i + 1);
      }
      request.arch.debugreg[7] = dr7;
    }
  }
  return KvmIoctl(sys_, fd_.get(), KVM_SET_GUEST_DEBUG, &request,
                  "KVM_SET_GUEST_DEBUG");
}

}  // namespace hv
