// What this host offers: the backends linked into this build, whether each
// can be opened here (and why not), each one's capabilities, and the
// figures of the target architecture (probe_x86_64.cc / probe_aarch64.cc,
// chosen by BUILD select(); aarch64: GIC versions, vCPU features, the PSCI
// version, MPIDR and stolen-time support of a probe vCPU).
//
// Example:
//   std::vector<hv::BackendReport> reports = hv::ProbeBackends();
//   std::cout << hv::FormatReportsText(reports);
#ifndef HV_TOOLS_HVPROBE_PROBE_H_
#define HV_TOOLS_HVPROBE_PROBE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace hv {

struct BackendReport {
  std::string kind;
  std::vector<std::string> options;  // spec option keys the backend accepts
  absl::Status usable;               // OK, or why it cannot be opened here
  uint32_t max_vcpus = 0;
  uint32_t memory_slots = 0;
  uint64_t guest_address_limit = 0;
  // Capability name -> offered, for every HypervisorCap and VmCap that
  // means something on the target architecture.
  std::vector<std::pair<std::string, bool>> hypervisor_caps;
  std::vector<std::pair<std::string, bool>> vm_caps;
  // The target architecture ("x86_64", "aarch64") and its own figures, by
  // name: "yes"/"no" for a feature, otherwise a value ("1.1", "0x80000000")
  // or why it could not be asked.
  std::string arch;
  std::vector<std::pair<std::string, std::string>> arch_details;
};

// ProbeBackends(): opens each linked backend with its default spec and, when
// that works, creates one VM to ask the per-VM figures.
std::vector<BackendReport> ProbeBackends();

// AnyUsable(): whether at least one backend could be opened and create a
// VM here (hvprobe's exit status: 0 then, 1 otherwise).
bool AnyUsable(const std::vector<BackendReport>& reports);

// FormatReportsText() / FormatReportsJson(): per backend, whether it is
// usable, then what the hypervisor itself reports (max vCPUs, hypervisor
// capabilities) apart from what a probe VM reports (memory slots, guest
// address limit, VM capabilities, the architecture's figures). JSON:
//   {"any_usable": true, "backends": [{"kind": "kvm", "options": ["device"],
//     "usable": true, "error": null,
//     "hypervisor": {"max_vcpus": 1024, "caps": {"immediate_exit": true, ...}},
//     "vm": {"memory_slots": 32764, "guest_address_limit": ..., "caps": {...}},
//     "arch": "x86_64", "arch_details": {...}}]}
// "hypervisor" is null when the backend could not be opened, "vm" when no
// VM could be created.
std::string FormatReportsText(const std::vector<BackendReport>& reports);
std::string FormatReportsJson(const std::vector<BackendReport>& reports);

}  // namespace hv

#endif  // HV_TOOLS_HVPROBE_PROBE_H_
