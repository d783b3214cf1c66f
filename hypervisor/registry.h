// The registry of hypervisor backends linked into this binary.
//
// A backend registers a factory under its kind from a static object in its
// library (which must be `alwayslink = True` in BUILD, or the linker drops
// it). CreateHypervisor() (hypervisor.h) parses a spec and calls the factory.
//
// Example (in a backend's .cc):
//   const hv::BackendRegistration kRegisterKvm(
//       "kvm", {"device"}, [](const hv::HypervisorSpec& spec) {
//         return hv::KvmHypervisor::Create(spec.Option("device", "/dev/kvm"));
//       });
#ifndef HV_HYPERVISOR_REGISTRY_H_
#define HV_HYPERVISOR_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hv {

class Hypervisor;

// HypervisorSpec: a parsed "kind[key=value,...]".
struct HypervisorSpec {
  std::string kind;
  std::map<std::string, std::string> options;

  // HypervisorSpec::Option(): the value of `key`, or `fallback`.
  std::string Option(absl::string_view key, absl::string_view fallback) const;
};

// ParseHypervisorSpec(): kind is [a-z][a-z0-9_]*; options are
// key=value pairs separated by commas inside brackets; keys are
// [a-z][a-z0-9_]*, values non-empty without ",[]=", each key at most once.
absl::StatusOr<HypervisorSpec> ParseHypervisorSpec(absl::string_view spec);

using BackendFactory = std::function<absl::StatusOr<std::unique_ptr<Hypervisor>>(
    const HypervisorSpec& spec)>;

struct BackendInfo {
  std::string kind;
  std::vector<std::string> options;  // the option keys the backend accepts
};

class BackendRegistration {
 public:
  // Registers `factory` under `kind`; `options` are the accepted keys.
  BackendRegistration(absl::string_view kind, std::vector<std::string> options,
                      BackendFactory factory);
  BackendRegistration(const BackendRegistration&) = delete;
  BackendRegistration& operator=(const BackendRegistration&) = delete;
};

// LinkedBackends(): the registered backends, sorted by kind.
std::vector<BackendInfo> LinkedBackends();

}  // namespace hv

#endif  // HV_HYPERVISOR_REGISTRY_H_
