// Hypervisor: the entry point to one hypervisor backend (KVM, WHPX, ...).
//
// Backends register themselves (see registry.h); a VMM picks one at run
// time by a spec string: a kind and optional options.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::Hypervisor> hypervisor,
//                    hv::CreateHypervisor("kvm[device=/dev/kvm]"));
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, hypervisor->CreateVm());
#ifndef HV_HYPERVISOR_HYPERVISOR_H_
#define HV_HYPERVISOR_HYPERVISOR_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hypervisor/caps.h"
#include "hypervisor/vm.h"

namespace hv {

class Hypervisor {
 public:
  virtual ~Hypervisor() = default;

  // Hypervisor::kind(): the registered kind ("kvm", "whpx", ...).
  virtual absl::string_view kind() const = 0;

  // Hypervisor::CheckCapability(): whether the hypervisor offers `cap`.
  virtual bool CheckCapability(HypervisorCap cap) const = 0;

  // Hypervisor::MaxVcpus(): the most vCPUs one VM may have.
  virtual uint32_t MaxVcpus() const = 0;

  // Hypervisor::CreateVm(): a new, empty VM of the host's architecture.
  virtual absl::StatusOr<std::unique_ptr<Vm>> CreateVm() = 0;
};

// CreateHypervisor(): opens the backend that `spec` names. The spec is
// `kind` or `kind[key=value,key=value]`, e.g. "kvm[device=/dev/kvm]".
// An unknown kind or option is INVALID_ARGUMENT listing what is linked in
// (or what the backend accepts).
absl::StatusOr<std::unique_ptr<Hypervisor>> CreateHypervisor(
    absl::string_view spec);

}  // namespace hv

#endif  // HV_HYPERVISOR_HYPERVISOR_H_
