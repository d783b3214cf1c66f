// What the hv_kvm_tests of hvprobe (probe_test, probe_aarch64_test) share.
// Internal to those tests (each lists this header in its srcs).
#ifndef HV_TOOLS_HVPROBE_PROBE_TEST_UTIL_H_
#define HV_TOOLS_HVPROBE_PROBE_TEST_UTIL_H_

#include <vector>

#include "tools/hvprobe/probe.h"

namespace hv {

// FindKvm(): the report of the "kvm" backend in `reports`, or nullptr.
inline const BackendReport* FindKvm(const std::vector<BackendReport>& reports) {
  for (const BackendReport& r : reports) {
    if (r.kind == "kvm") return &r;
  }
  return nullptr;
}

}  // namespace hv

#endif  // HV_TOOLS_HVPROBE_PROBE_TEST_UTIL_H_
