// The x86_64 half of hvprobe (probe_arch.h): its name, for which probe.cc's
// table lists every capability, including the x86-only ones (split
// irqchip, XCRs, TSC control, pvclock); no further figures.
#include "tools/hvprobe/probe_arch.h"

namespace hv::probe_internal {

const char* ArchName() { return "x86_64"; }
void ProbeArch(Vm&, BackendReport&) {}

}  // namespace hv::probe_internal
