// Registers the KVM backend as hypervisor kind "kvm" with option "device"
// (default /dev/kvm). Linked only through the alwayslink "kvm" library.
#include "hypervisor/backend_registration.h"
#include "hypervisor/kvm/kvm_hypervisor.h"

namespace hv {
namespace {

const BackendRegistration kRegisterKvm(
    "kvm", {"device"}, [](const HypervisorSpec& spec) {
      return KvmHypervisor::Create(spec.Option("device", "/dev/kvm"));
    });

}  // namespace
}  // namespace hv
