#include "hypervisor/geniezone/geniezone_hypervisor.h"

#include <cerrno>
#include <string>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/str_format.h"
#include "hypervisor/geniezone/geniezone_abi.h"
#include "hypervisor/geniezone/geniezone_vm.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/ioctl_seam.h"
#include "hypervisor/os/status_macros.h"

namespace hv {
namespace {

// GZVM_CHECK_EXTENSION(GZVM_CAP_VM_GPA_SIZE): the driver writes the width
// into the __u64 that held the cap; -EOPNOTSUPP means it does not say, and
// the backend assumes what crosvm assumes (40 bits).
absl::StatusOr<uint32_t> QueryGpaBits(GeniezoneSys* sys, int fd) {
  uint64_t value = geniezone_abi::kCapVmGpaSize;
  if (sys->IoctlPtr(fd, geniezone_abi::kCheckExtension, &value) < 0) {
    if (errno == EOPNOTSUPP) return geniezone_abi::kDefaultGpaBits;
    return ErrnoStatus("GZVM_CHECK_EXTENSION(GZVM_CAP_VM_GPA_SIZE)");
  }
  if (value < 32 || value > 52) {
    return absl::InternalError(absl::StrFormat(
        "GZVM_CHECK_EXTENSION(GZVM_CAP_VM_GPA_SIZE) answered %u bits, not "
        "an arm64 physical address width (32..52)",
        value));
  }
  return static_cast<uint32_t>(value);
}

// The capabilities Geniezone has; CheckCapability() is false for every
// other. Not among them: kReadOnlyMemory (no read-only region flag),
// kDirtyLog (no dirty-log ioctl), kSplitIrqChip (x86 only), kMpState (not
// wired up, see README.md), and the x86 and state-access caps.
constexpr HypervisorCap kGeniezoneCaps[] = {
    HypervisorCap::kUserMemory,     // GZVM_SET_USER_MEMORY_REGION only
    HypervisorCap::kImmediateExit,  // gzvm_vcpu_run.immediate_exit, checked
                                    // on every GZVM_RUN
    HypervisorCap::kIrqfd,          // GZVM_IRQFD
    HypervisorCap::kIoEventfd,      // GZVM_IOEVENTFD
    HypervisorCap::kIrqChip,        // the GICv3 of GZVM_CREATE_DEVICE
};

}  // namespace

absl::StatusOr<std::unique_ptr<GeniezoneHypervisor>>
GeniezoneHypervisor::Create(absl::string_view device_path, GeniezoneSys* sys) {
  auto device = std::make_shared<GeniezoneDevice>();
  device->sys = sys;
  device->path = std::string(device_path);
  ASSIGN_OR_RETURN(device->fd, OpenSeamFd(sys, device_path));
  ASSIGN_OR_RETURN(device->gpa_bits, QueryGpaBits(sys, device->fd.get()));
  device->guest_address_limit = uint64_t{1} << device->gpa_bits;
  return std::unique_ptr<GeniezoneHypervisor>(
      new GeniezoneHypervisor(std::move(device)));
}

bool GeniezoneHypervisor::CheckCapability(HypervisorCap cap) const {
  return absl::c_linear_search(kGeniezoneCaps, cap);
}

uint32_t GeniezoneHypervisor::MaxVcpus() const {
  return geniezone_abi::kMaxVcpus;
}

absl::StatusOr<std::unique_ptr<Vm>> GeniezoneHypervisor::CreateVm() {
  ASSIGN_OR_RETURN(std::unique_ptr<GeniezoneVm> vm, GeniezoneVm::Create(device_));
  return std::unique_ptr<Vm>(std::move(vm));
}

}  // namespace hv
