// GeniezoneHypervisor: hv::Hypervisor over MediaTek's GenieZone hypervisor
// (/dev/gzvm), whose VMs are aarch64 VMs whatever the host.
//
// Create() opens the device and asks it, once, for the guest physical
// address width (GZVM_CHECK_EXTENSION(GZVM_CAP_VM_GPA_SIZE)); the rest of
// what the backend reports is fixed by the ABI (geniezone_abi.h) and answered
// from constants. Every system call goes through a GeniezoneSys seam
// (geniezone_sys.h), RealGeniezoneSys() unless a test passes its own (the fake
// of testing/fakes/geniezone_fake.h). The backend registers itself as kind
// "geniezone" with option "device" (default /dev/gzvm).
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::GeniezoneHypervisor> gz,
//                    hv::GeniezoneHypervisor::Create("/dev/gzvm"));
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, gz->CreateVm());
#ifndef HV_HYPERVISOR_GENIEZONE_GENIEZONE_HYPERVISOR_H_
#define HV_HYPERVISOR_GENIEZONE_GENIEZONE_HYPERVISOR_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hypervisor/geniezone/geniezone_fd.h"
#include "hypervisor/geniezone/geniezone_sys.h"
#include "hypervisor/hypervisor.h"

namespace hv {

// GeniezoneDevice: an open /dev/gzvm and what it said when opened. Shared
// (read-only) by the hypervisor and its VMs, so a VM may outlive the
// hypervisor object.
struct GeniezoneDevice {
  GeniezoneSys* sys = nullptr;
  GeniezoneFd fd;
  std::string path;
  uint32_t gpa_bits = 0;  // guest physical address width
  uint64_t guest_address_limit = 0;
};

class GeniezoneHypervisor final : public Hypervisor {
 public:
  // GeniezoneHypervisor::Create(): opens `device_path` through `sys`, which
  // must outlive the hypervisor and everything created from it.
  static absl::StatusOr<std::unique_ptr<GeniezoneHypervisor>> Create(
      absl::string_view device_path, GeniezoneSys* sys = RealGeniezoneSys());

  GeniezoneHypervisor(const GeniezoneHypervisor&) = delete;
  GeniezoneHypervisor& operator=(const GeniezoneHypervisor&) = delete;

  absl::string_view kind() const override { return "geniezone"; }
  bool CheckCapability(HypervisorCap cap) const override;
  uint32_t MaxVcpus() const override;
  absl::StatusOr<std::unique_ptr<Vm>> CreateVm() override;

  // GeniezoneHypervisor::device(): what Create() learned about the device.
  const GeniezoneDevice& device() const { return *device_; }

 private:
  explicit GeniezoneHypervisor(std::shared_ptr<const GeniezoneDevice> device)
      : device_(std::move(device)) {}

  const std::shared_ptr<const GeniezoneDevice> device_;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_GENIEZONE_GENIEZONE_HYPERVISOR_H_
