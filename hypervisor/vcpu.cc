// Vcpu's defaults for the calls a hypervisor may lack, and MpStateName.
#include "hypervisor/vcpu.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace hv {

const char* MpStateName(MpState state) {
  switch (state) {
    case MpState::kRunnable: return "runnable";
    case MpState::kUninitialized: return "uninitialized";
    case MpState::kInitReceived: return "init_received";
    case MpState::kHalted: return "halted";
    case MpState::kSipiReceived: return "sipi_received";
    case MpState::kStopped: return "stopped";
    case MpState::kSuspended: return "suspended";
  }
  return "unknown";
}

absl::StatusOr<MpState> Vcpu::GetMpState() {
  return absl::UnimplementedError(
      "get MP state: this hypervisor offers no MP state "
      "(HypervisorCap::kMpState is false)");
}

absl::Status Vcpu::SetMpState(MpState state) {
  return absl::UnimplementedError(
      absl::StrCat("set MP state ", MpStateName(state),
                   ": this hypervisor offers no MP state "
                   "(HypervisorCap::kMpState is false)"));
}

absl::Status Vcpu::SetGuestDebug(const GuestDebug& /*debug*/) {
  return absl::UnimplementedError(
      "set guest debug: this hypervisor offers no guest debugging "
      "(HypervisorCap::kGuestDebug is false)");
}

}  // namespace hv
