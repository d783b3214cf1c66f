// KvmHypervisor: hv::Hypervisor over Linux KVM (/dev/kvm), x86_64 and aarch64.
//
// Create() opens the device, checks the API version (12) and asks the
// kernel, once, for every capability and limit the backend reports; all
// later queries are answered from that snapshot. Every system call goes
// through a KvmSys seam (kvm_sys.h), RealKvmSys() unless a test passes its
// own. The backend registers itself as kind "kvm" with option "device".
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::KvmHypervisor> kvm,
//                    hv::KvmHypervisor::Create("/dev/kvm"));
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, kvm->CreateVm());
#ifndef HV_HYPERVISOR_KVM_KVM_HYPERVISOR_H_
#define HV_HYPERVISOR_KVM_KVM_HYPERVISOR_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/kvm/kvm_device.h"
#include "hypervisor/kvm/kvm_sys.h"

namespace hv {

class KvmHypervisor final : public Hypervisor {
 public:
  // KvmHypervisor::Create(): opens `device_path` through `sys`, which must
  // outlive the hypervisor and everything created from it.
  static absl::StatusOr<std::unique_ptr<KvmHypervisor>> Create(
      absl::string_view device_path, KvmSys* sys = RealKvmSys());

  KvmHypervisor(const KvmHypervisor&) = delete;
  KvmHypervisor& operator=(const KvmHypervisor&) = delete;

  absl::string_view kind() const override { return "kvm"; }
  bool CheckCapability(HypervisorCap cap) const override;
  uint32_t MaxVcpus() const override { return device_->max_vcpus; }
  absl::StatusOr<std::unique_ptr<Vm>> CreateVm() override;

  // KvmHypervisor::device(): what Create() learned about the device.
  const KvmDevice& device() const { return *device_; }

 private:
  explicit KvmHypervisor(std::shared_ptr<const KvmDevice> device)
      : device_(std::move(device)) {}

  // Shared with every VM, so a VM may outlive the hypervisor.
  const std::shared_ptr<const KvmDevice> device_;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_KVM_KVM_HYPERVISOR_H_
