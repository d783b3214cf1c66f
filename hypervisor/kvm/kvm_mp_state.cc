#include "hypervisor/kvm/kvm_mp_state.h"

#include <linux/kvm.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hypervisor/kvm/kvm_ioctl.h"
#include "hypervisor/os/status_macros.h"

namespace hv {
namespace {

struct MpStateNumber {
  MpState state;
  uint32_t kvm;
  bool x86;
  bool arm64;
};

// api.rst, 4.38 KVM_GET_MP_STATE: which value each architecture uses.
constexpr MpStateNumber kNumbers[] = {
    {MpState::kRunnable, KVM_MP_STATE_RUNNABLE, true, true},
    {MpState::kUninitialized, KVM_MP_STATE_UNINITIALIZED, true, false},
    {MpState::kInitReceived, KVM_MP_STATE_INIT_RECEIVED, true, false},
    {MpState::kHalted, KVM_MP_STATE_HALTED, true, false},
    {MpState::kSipiReceived, KVM_MP_STATE_SIPI_RECEIVED, true, false},
    {MpState::kStopped, KVM_MP_STATE_STOPPED, false, true},
    {MpState::kSuspended, KVM_MP_STATE_SUSPENDED, false, true},
};

bool OfArch(const MpStateNumber& number, MpArch arch) {
  return arch == MpArch::kX86 ? number.x86 : number.arm64;
}

absl::Status CheckCap(const KvmDevice& device, absl::string_view operation) {
  if (device.caps.mp_state > 0) return absl::OkStatus();
  return absl::UnimplementedError(
      absl::StrCat(operation, ": this KVM lacks KVM_CAP_MP_STATE"));
}

}  // namespace

absl::StatusOr<MpState> GetKvmMpState(const KvmDevice& device, int vcpu_fd,
                                      MpArch arch) {
  RETURN_IF_ERROR(CheckCap(device, "get MP state"));
  kvm_mp_state mp = {};
  RETURN_IF_ERROR(KvmIoctl(device.sys, vcpu_fd, KVM_GET_MP_STATE, &mp,
                           "KVM_GET_MP_STATE"));
  for (const MpStateNumber& number : kNumbers) {
    if (number.kvm == mp.mp_state && OfArch(number, arch)) return number.state;
  }
  return absl::InternalError(absl::StrFormat(
      "KVM_GET_MP_STATE: state %u is not one hv knows for this architecture",
      mp.mp_state));
}

absl::Status SetKvmMpState(const KvmDevice& device, int vcpu_fd, MpArch arch,
                           MpState state) {
  const std::string operation = absl::StrCat("set MP state ", MpStateName(state));
  RETURN_IF_ERROR(CheckCap(device, operation));
  std::optional<uint32_t> kvm;
  for (const MpStateNumber& number : kNumbers) {
    if (number.state == state && OfArch(number, arch)) kvm = number.kvm;
  }
  if (!kvm.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        operation, ": not a state of an ",
        arch == MpArch::kX86 ? "x86_64" : "aarch64", " vCPU"));
  }
  kvm_mp_state mp = {};
  mp.mp_state = *kvm;
  return KvmIoctl(device.sys, vcpu_fd, KVM_SET_MP_STATE, &mp,
                  absl::StrCat("KVM_SET_MP_STATE (", MpStateName(state), ")"));
}

}  // namespace hv
