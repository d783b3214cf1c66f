// Registers the KVM backend as hypervisor kind "kvm" with option "device"
// (default /dev/kvm). Linked only through the alwayslink "kvm" library.
#include "hypervisor/kvm/kvm_hypervisor.h"
#include "hypervisor/registry.h"

namespace hv {
namespace {

const BackendRegistration kRegisterKvm(
    "kvm", {"device"},
    [](const HypervisorSpec& spec) -> absl::StatusOr<std::unique_ptr<Hypervisor>> {
      auto kvm = KvmHypervisor::Create(spec.Option("device", "/dev/kvm"));
      if (!kvm.ok()) return kvm.status();
      return std::unique_ptr<Hypervisor>(std::move(kvm).value());
    });

}  // namespace
}  // namespace hv
