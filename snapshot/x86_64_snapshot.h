// Snapshot and restore of an x86_64 VM over the hv API, on any backend
// that has the state calls (HypervisorCap::kXsave, kVcpuEvents, kMpState,
// kMsrList, kIrqChipState; each piece a backend lacks is left out of the
// file on capture and refused on restore when the file has it).
//
// What a snapshot holds (snapshot/README.md has the byte layout): per vCPU
// the general, segment and debug registers, the FPU/SSE and the whole
// XSAVE image (AVX and beyond), XCRs, every MSR of the hypervisor's MSR
// index list (the TSC among them), the events in flight, the MP state, the
// local APIC and the TSC frequency; the VM's clock and, with an in-kernel
// irqchip, both PICs, the I/O APIC and the PIT; and the guest RAM the
// caller names. Not held: CPUID (the VMM's configuration: set the same
// entries on the new vCPUs before RestoreX86_64), devices in user space
// (the VMM's own), fd mappings in arenas (map them again).
//
// Example (the VM paused: no Run() in progress):
//   std::vector<hv::VcpuX86_64*> vcpus = {vcpu0.get(), vcpu1.get()};
//   std::vector<hv::snapshot::GuestRam> ram = {{0, ram_span}};
//   ASSIGN_OR_RETURN(hv::snapshot::SnapshotFile file,
//                    hv::snapshot::CaptureX86_64(*vm, vcpus, ram, "kvm"));
//   RETURN_IF_ERROR(file.WriteTo("vm.hvsnap"));
//   // ... in another process: the same memory layout, irqchip and vCPUs,
//   // the same CPUID set on each vCPU, then (a file of another backend
//   // refused):
//   ASSIGN_OR_RETURN(auto back, hv::snapshot::SnapshotFile::ReadFrom("vm.hvsnap"));
//   hv::snapshot::RestoreOptions options;
//   options.backend = "kvm";
//   RETURN_IF_ERROR(hv::snapshot::RestoreX86_64(back, *new_vm, new_vcpus,
//                                               new_ram, options));
#ifndef HV_SNAPSHOT_X86_64_SNAPSHOT_H_
#define HV_SNAPSHOT_X86_64_SNAPSHOT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hypervisor/memory.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "snapshot/snapshot_file.h"
#include "snapshot/vm_snapshot_common.h"

namespace hv::snapshot {

// GuestRam, CaptureOptions, RestoreOptions and SnapshotId():
// snapshot/vm_snapshot_common.h.


// CaptureX86_64(): the state of `vm`, its `vcpus` (every vCPU of the VM, in
// id order) and `ram`. The vCPUs must be stopped (no Run() in progress);
// each is first run with the immediate-exit flag so that an I/O or MMIO
// exit the VMM answered is completed into the registers, and its guest is
// told it was paused (NotifyGuestPaused, where the guest uses kvmclock).
// `backend` is recorded in the header. INVALID_ARGUMENT for no vCPU or an
// empty RAM range, or a range with a slot that is not exactly that slot's
// region; FAILED_PRECONDITION for a slot without dirty logging; a failing
// state call's Status names the vCPU.
//
// Interrupts in flight: stop the VMM's devices before the capture. An
// irqfd routed as an MSI (and SignalMsi, SetIrqLine) has reached the local
// APIC when the eventfd write returns, so the capture holds it; KVM injects
// an irqfd routed to an I/O APIC or PIC pin from a kernel work item a
// little later, so one written just before the capture may be in neither
// the snapshot nor the device's state (seen in
// X86GuestConformance.SnapshotsOfABusyTwoVcpuGuestRestoreAnywhere before it
// moved to an MSI route). With pin routes, check the line reached the
// irqchip (its I/O APIC or LAPIC IRR) before capturing.
absl::StatusOr<SnapshotFile> CaptureX86_64(VmX86_64& vm,
                                           absl::Span<VcpuX86_64* const> vcpus,
                                           absl::Span<const GuestRam> ram,
                                           const std::string& backend,
                                           const CaptureOptions& options = {});

// RestoreX86_64(): loads `file` into a new `vm` built like the captured one
// (the same RAM layout in `ram`, the same irqchip kind, vCPUs with the same
// ids and CPUID, none run yet). Every section is decoded and checked
// against the VM (architecture, backend, vCPU count, RAM ranges and sizes,
// XSAVE size, capabilities) before anything is written, so a file that does
// not fit is refused with nothing changed: FAILED_PRECONDITION naming the
// mismatch, DATA_LOSS for a section that does not decode. The state is then
// set in the order the hypervisor needs (the PICs, I/O APIC and PIT; per
// vCPU: regs, XSAVE, XCRs, sregs, MSRs, MP state, LAPIC, events, debug
// registers; the clock), and the RAM copied last. Should the hypervisor
// refuse a call midway (a value no decoder can judge, e.g. a CR4 bit this
// CPU lacks), the state it held before is put back and the RAM is left
// untouched; the Status names the piece and says so. Only if putting back
// fails too is the VM part restored (the Status says: discard it).
absl::Status RestoreX86_64(const SnapshotFile& file, VmX86_64& vm,
                           absl::Span<VcpuX86_64* const> vcpus,
                           absl::Span<const GuestRam> ram,
                           const RestoreOptions& options = {});
// RestoreX86_64() of a chain: a full snapshot, then incremental ones, each
// the child of the one before (FAILED_PRECONDITION naming the break
// otherwise). Memory comes from every file in order, the vCPUs' and the
// VM's state from the last; all is checked before anything is written.
absl::Status RestoreX86_64(absl::Span<const SnapshotFile* const> chain,
                           VmX86_64& vm, absl::Span<VcpuX86_64* const> vcpus,
                           absl::Span<const GuestRam> ram,
                           const RestoreOptions& options = {});

}  // namespace hv::snapshot

#endif  // HV_SNAPSHOT_X86_64_SNAPSHOT_H_
