// HaxmHypervisor: hv::Hypervisor over the Intel HAXM driver (legacy: HAXM is
// retired upstream), on Windows (\\.\HAX) and its POSIX port (/dev/HAX).
//
// Create() opens the system device, checks the API version (v4 or later)
// and the capability report once (see HaxmDevice::Open); every later query
// is answered from that snapshot. Every driver call goes through a HaxmSys
// seam (haxm_sys.h), RealHaxmSys() unless a test passes its own. The backend
// registers itself as kind "haxm" with option "device".
//
// What HAXM offers: guest memory from user mappings (read-only too), one
// vCPU thread per vCPU with exits through the tunnel page, port I/O, fast
// MMIO, HLT, interrupt injection by vector. What it lacks (so the backend
// says UNIMPLEMENTED, naming the operation): dirty logging, ioeventfds,
// irqfds, an in-kernel irqchip, XCRs, LAPIC state, NMI injection, TSC
// control, a paravirtual clock. See README.md.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::HaxmHypervisor> haxm,
//                    hv::HaxmHypervisor::Create("/dev/HAX"));
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, haxm->CreateVm());
#ifndef HV_HYPERVISOR_HAXM_HAXM_HYPERVISOR_H_
#define HV_HYPERVISOR_HAXM_HAXM_HYPERVISOR_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hypervisor/haxm/haxm_device.h"
#include "hypervisor/haxm/haxm_sys.h"
#include "hypervisor/hypervisor.h"

namespace hv {

class HaxmHypervisor final : public Hypervisor {
 public:
  // HaxmHypervisor::Create(): opens `device_path` through `sys`, which must
  // outlive the hypervisor and everything created from it.
  static absl::StatusOr<std::unique_ptr<HaxmHypervisor>> Create(
      absl::string_view device_path, HaxmSys* sys = RealHaxmSys());

  // HaxmHypervisor::DefaultDevicePath(): \\.\HAX on Windows, /dev/HAX on
  // the POSIX port.
  static std::string DefaultDevicePath(const HaxmSys& sys);

  HaxmHypervisor(const HaxmHypervisor&) = delete;
  HaxmHypervisor& operator=(const HaxmHypervisor&) = delete;

  absl::string_view kind() const override { return "haxm"; }
  bool CheckCapability(HypervisorCap cap) const override;
  uint32_t MaxVcpus() const override { return haxm_abi::kMaxVcpus; }
  absl::StatusOr<std::unique_ptr<Vm>> CreateVm() override;

  // HaxmHypervisor::device(): what Create() learned about the driver.
  const HaxmDevice& device() const { return *device_; }

 private:
  explicit HaxmHypervisor(std::shared_ptr<const HaxmDevice> device)
      : device_(std::move(device)) {}

  // Shared with every VM, so a VM may outlive the hypervisor.
  const std::shared_ptr<const HaxmDevice> device_;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_HAXM_HAXM_HYPERVISOR_H_
