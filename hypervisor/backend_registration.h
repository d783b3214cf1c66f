// Backend support (not for users of the API): how a backend puts itself in
// the registry of hypervisor backends linked into this binary (registry.h).
//
// A backend registers a factory under its kind from a static object in its
// library (which must be `alwayslink = True` in BUILD, or the linker drops
// it). CreateHypervisor() (hypervisor.h) parses a spec and calls the factory;
// LinkedBackends() (registry.h) lists what is registered.
//
// Example (in a backend's .cc):
//   const hv::BackendRegistration kRegisterKvm(
//       "kvm", {"device"}, [](const hv::HypervisorSpec& spec) {
//         return hv::KvmHypervisor::Create(spec.Option("device", "/dev/kvm"));
//       });
#ifndef HV_HYPERVISOR_BACKEND_REGISTRATION_H_
#define HV_HYPERVISOR_BACKEND_REGISTRATION_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hypervisor/registry.h"

namespace hv {

class Hypervisor;

// BackendFactory: makes a backend's Hypervisor from a parsed spec whose
// options are among the keys the backend registered.
using BackendFactory = std::function<absl::StatusOr<std::unique_ptr<Hypervisor>>(
    const HypervisorSpec& spec)>;

class BackendRegistration {
 public:
  // Registers `factory` under `kind`; `options` are the accepted keys.
  BackendRegistration(absl::string_view kind, std::vector<std::string> options,
                      BackendFactory factory);
  BackendRegistration(const BackendRegistration&) = delete;
  BackendRegistration& operator=(const BackendRegistration&) = delete;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_BACKEND_REGISTRATION_H_
