// The registry of hypervisor backends linked into this binary: the spec
// parser and the list of what is linked. CreateHypervisor() (hypervisor.h)
// parses a spec and calls the backend's factory. Backends register
// themselves through BackendRegistration (backend_registration.h, for
// backends only); users link them through //hypervisor:default_backends.
#ifndef HV_HYPERVISOR_REGISTRY_H_
#define HV_HYPERVISOR_REGISTRY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hv {

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

struct BackendInfo {
  std::string kind;
  std::vector<std::string> options;  // the option keys the backend accepts
};

// LinkedBackends(): the registered backends, sorted by kind.
std::vector<BackendInfo> LinkedBackends();

}  // namespace hv

#endif  // HV_HYPERVISOR_REGISTRY_H_
