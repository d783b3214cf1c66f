// Snapshot and restore of an aarch64 VM over the hv API, on any backend
// that has the register list (VcpuAArch64::GetSystemRegs) and, for the
// pieces it has, the state calls (HypervisorCap::kMpState,
// kIrqChipState, VmCap::kGicIts). A piece a backend lacks is left out of
// the file on capture and refused on restore when the file has it.
//
// What a snapshot holds (snapshot/README.md has the byte layout): per vCPU
// the core registers (x0-x30, SP_EL0, PC, PSTATE, SP_EL1, ELR_EL1,
// SPSR_EL1), FPSR, FPCR, V0-V31, the PSCI version it reports, every system
// register of the hypervisor's register list for it (among them the
// virtual timer: CNTV_CTL_EL0, CNTV_CVAL_EL0 and the virtual counter
// CNTVCT_EL0) and its MP state (PSCI power state); the VM's GICv3
// (distributor, redistributors, CPU interfaces, line levels) and ITS
// registers, whose tables travel in guest memory; and the guest RAM the
// caller names. Not held: devices in user space (the VMM's own), fd
// mappings in arenas (map them again), the firmware registers other than
// the PSCI version (SMCCC feature bitmaps: the VMM's configuration), SVE
// state beyond V0-V31.
//
// Time: restoring CNTVCT_EL0 sets the guest's virtual counter back to its
// value at the capture (KVM's api.rst: KVM_REG_ARM_TIMER_CNT pauses and
// resumes the counter), so the guest sees no time pass while it was saved
// and its timer's compare value (CNTV_CVAL_EL0) keeps its meaning;
// RestoreOptions::advance_clock_by_downtime moves it on by the time since
// instead (a timer whose compare value is then passed fires at once).
//
// Example (the VM paused: no Run() in progress):
//   std::vector<hv::VcpuAArch64*> vcpus = {vcpu0.get(), vcpu1.get()};
//   std::vector<hv::snapshot::GuestRam> ram = {{0x40000000, ram_span}};
//   ASSIGN_OR_RETURN(hv::snapshot::SnapshotFile file,
//                    hv::snapshot::CaptureAArch64(*vm, vcpus, ram, "kvm"));
//   RETURN_IF_ERROR(file.WriteTo("vm.hvsnap"));
//   // ... in another process: the same memory layout, GIC (and ITS) and
//   // vCPUs, each Init()ed with the same features, the GIC finalised:
//   ASSIGN_OR_RETURN(auto back, hv::snapshot::SnapshotFile::ReadFrom("vm.hvsnap"));
//   RETURN_IF_ERROR(hv::snapshot::RestoreAArch64(back, *new_vm, new_vcpus, new_ram));
#ifndef HV_SNAPSHOT_AARCH64_SNAPSHOT_H_
#define HV_SNAPSHOT_AARCH64_SNAPSHOT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hypervisor/aarch64/vcpu_aarch64.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "snapshot/snapshot_file.h"
#include "snapshot/vm_snapshot_common.h"

namespace hv::snapshot {

// CaptureAArch64(): the state of `vm`, its `vcpus` (every vCPU of the VM,
// in id order) and `ram`. The vCPUs must be stopped (no Run() in
// progress); each is first run with the immediate-exit flag so that an
// MMIO exit the VMM answered is completed into the registers. The ITS (if
// any) is saved before the RAM is read: saving it writes its tables and
// the pending LPIs into guest memory. `backend` is recorded in the header.
// INVALID_ARGUMENT for no vCPU, a null one or an empty RAM range, or a
// range with a slot that is not exactly that slot's region; a failing
// state call's Status names the vCPU or the piece.
absl::StatusOr<SnapshotFile> CaptureAArch64(VmAArch64& vm,
                                            absl::Span<VcpuAArch64* const> vcpus,
                                            absl::Span<const GuestRam> ram,
                                            const std::string& backend,
                                            const CaptureOptions& options = {});

// RestoreAArch64(): loads `file` into a new `vm` built like the captured
// one (the same RAM layout in `ram`, the same GIC configuration and ITS
// address, vCPUs with the same ids, each Init()ed with the same features,
// the GIC finalised, none run yet). Every section is decoded and checked
// against the VM (architecture, vCPU count and ids, RAM ranges and sizes,
// each saved system register on the vCPU's register list, GIC and ITS
// presence and size) before anything is written, so a file that does not
// fit is refused with nothing changed: FAILED_PRECONDITION naming the
// mismatch, DATA_LOSS for a section that does not decode (or a GIC CPU
// interface saved for another MPIDR than its vCPU's). The state is
// then set in the order KVM needs: the RAM; per vCPU the system registers
// (MPIDR_EL1 among them, which the GIC state is keyed by), the core and
// FP/SIMD registers and the PSCI version; then the GICv3 (distributor
// before redistributors, arm-vgic-v3.rst), then the ITS (after the
// redistributors and the RAM holding its tables, arm-vgic-its.rst "ITS
// Restore Sequence"); last each vCPU's MP state. A register KVM refuses
// to write is skipped only when the vCPU already holds the saved value
// (an invariant ID register). Should the hypervisor refuse a call midway,
// its Status names the piece, and the VM is part restored: discard it.
// With options.backend given, a file recorded on another backend is
// refused (FAILED_PRECONDITION naming both) before anything is written.
// With options.advance_clock_by_downtime, each vCPU's counter is restored
// moved on by the host real time since the capture (the file's VM aarch64
// clock section, which a capture on an aarch64 host writes: the time and
// CNTFRQ_EL0), so the guest sees the downtime pass; INVALID_ARGUMENT for a
// file without that section, before anything is written.
absl::Status RestoreAArch64(const SnapshotFile& file, VmAArch64& vm,
                            absl::Span<VcpuAArch64* const> vcpus,
                            absl::Span<const GuestRam> ram,
                            const RestoreOptions& options = {});
// RestoreAArch64() of a chain: a full snapshot, then incremental ones,
// each the child of the one before (FAILED_PRECONDITION naming the break
// otherwise). Memory comes from every file in order, the vCPUs' and the
// VM's state from the last; all is checked before anything is written.
absl::Status RestoreAArch64(absl::Span<const SnapshotFile* const> chain,
                            VmAArch64& vm, absl::Span<VcpuAArch64* const> vcpus,
                            absl::Span<const GuestRam> ram,
                            const RestoreOptions& options = {});

}  // namespace hv::snapshot

#endif  // HV_SNAPSHOT_AARCH64_SNAPSHOT_H_
