// The architecture-specific half of hvprobe (probe.h): which capabilities
// mean something on the target architecture, and its own figures.
// Implemented by probe_x86_64.cc and probe_aarch64.cc, chosen by BUILD
// select().
//
// Example (probe.cc):
//   for (hv::HypervisorCap cap : hv::probe_internal::ArchHypervisorCaps()) ...
//   hv::probe_internal::ProbeArch(*vm, report);
#ifndef HV_TOOLS_HVPROBE_PROBE_ARCH_H_
#define HV_TOOLS_HVPROBE_PROBE_ARCH_H_

#include "absl/types/span.h"
#include "hypervisor/caps.h"
#include "hypervisor/vm.h"
#include "tools/hvprobe/probe.h"

namespace hv::probe_internal {

const char* ArchName();
absl::Span<const HypervisorCap> ArchHypervisorCaps();
absl::Span<const VmCap> ArchVmCaps();

// ProbeArch(): appends the architecture's figures for `vm` (a fresh VM of
// a usable backend) to report.arch_details. Never fails: what cannot be
// asked is reported with the reason.
void ProbeArch(Vm& vm, BackendReport& report);

}  // namespace hv::probe_internal

#endif  // HV_TOOLS_HVPROBE_PROBE_ARCH_H_
