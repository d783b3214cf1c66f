// GunyahHypervisor: hv::Hypervisor over Qualcomm's Gunyah (/dev/gunyah),
// aarch64 guests.
//
// Create() opens the device; Gunyah's ABI has no capability or limit query
// (the resource manager configures each VM from its devicetree), so the
// capabilities below are what the ABI revision offers (see README.md). Every
// system call goes through a GunyahSys seam (gunyah_sys.h), RealGunyahSys()
// unless a test passes its own. The backend registers itself as kind
// "gunyah" with option "device" (default /dev/gunyah).
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::GunyahHypervisor> gunyah,
//                    hv::GunyahHypervisor::Create("/dev/gunyah"));
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, gunyah->CreateVm());
#ifndef HV_HYPERVISOR_GUNYAH_GUNYAH_HYPERVISOR_H_
#define HV_HYPERVISOR_GUNYAH_GUNYAH_HYPERVISOR_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hypervisor/gunyah/gunyah_fd.h"
#include "hypervisor/gunyah/gunyah_sys.h"
#include "hypervisor/hypervisor.h"

namespace hv {

// GunyahDevice: an open /dev/gunyah, shared by the hypervisor and its VMs.
struct GunyahDevice {
  GunyahSys* sys = nullptr;
  GunyahFd fd;
};

class GunyahVm;

class GunyahHypervisor final : public Hypervisor {
 public:
  // hv's bound on vCPU ids: Gunyah creates the vCPUs the VM's devicetree
  // lists and the kernel ABI states no limit, so hv caps ids at 512.
  static constexpr uint32_t kMaxVcpus = 512;

  // GunyahHypervisor::Create(): opens `device_path` through `sys`, which
  // must outlive the hypervisor and everything created from it.
  static absl::StatusOr<std::unique_ptr<GunyahHypervisor>> Create(
      absl::string_view device_path, GunyahSys* sys = RealGunyahSys());

  GunyahHypervisor(const GunyahHypervisor&) = delete;
  GunyahHypervisor& operator=(const GunyahHypervisor&) = delete;

  absl::string_view kind() const override { return "gunyah"; }
  bool CheckCapability(HypervisorCap cap) const override;
  uint32_t MaxVcpus() const override { return kMaxVcpus; }
  absl::StatusOr<std::unique_ptr<Vm>> CreateVm() override;


 private:
  explicit GunyahHypervisor(std::shared_ptr<const GunyahDevice> device)
      : device_(std::move(device)) {}

  // Shared with every VM, so a VM may outlive the hypervisor.
  const std::shared_ptr<const GunyahDevice> device_;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_GUNYAH_GUNYAH_HYPERVISOR_H_
