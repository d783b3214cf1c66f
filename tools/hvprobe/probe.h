// What this host offers: the backends linked into this build, whether each
// can be opened here (and why not), and each one's capabilities.
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
  // Capability name -> offered, for every HypervisorCap and VmCap.
  std::vector<std::pair<std::string, bool>> hypervisor_caps;
  std::vector<std::pair<std::string, bool>> vm_caps;
};

// ProbeBackends(): opens each linked backend with its default spec and, when
// that works, creates one VM to ask the per-VM figures.
std::vector<BackendReport> ProbeBackends();

std::string FormatReportsText(const std::vector<BackendReport>& reports);
std::string FormatReportsJson(const std::vector<BackendReport>& reports);

}  // namespace hv

#endif  // HV_TOOLS_HVPROBE_PROBE_H_
