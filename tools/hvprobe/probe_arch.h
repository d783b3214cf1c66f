// The architecture-specific half of hvprobe (probe.h): which capabilities
// mean something on the target architecture, and its own figures.
// ArchName() and ProbeArch() are implemented by probe_x86_64.cc and
// probe_aarch64.cc, chosen by BUILD select(); the capability lists by
// probe.cc, from one table of both architectures.
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

// ArchName(): "x86_64" or "aarch64" (probe_x86_64.cc, probe_aarch64.cc).
const char* ArchName();
// The capabilities that mean something on ArchName()'s architecture, in
// report order (probe.cc's table, for both).
absl::Span<const HypervisorCap> ArchHypervisorCaps();
absl::Span<const VmCap> ArchVmCaps();

// ProbeArch(): appends the architecture's figures for `vm` (a fresh VM of
// a usable backend) to report.arch_details. Never fails: what cannot be
// asked is reported with the reason.
void ProbeArch(Vm& vm, BackendReport& report);

}  // namespace hv::probe_internal

#endif  // HV_TOOLS_HVPROBE_PROBE_ARCH_H_
