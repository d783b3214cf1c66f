// What the per-architecture snapshot code (x86_64_snapshot.h,
// aarch64_snapshot.h) shares: the RAM ranges and capture options callers
// pass, the snapshot id, and the architecture-neutral sections (snapshot
// info, vCPU ids, memory ranges and pages, MP state) with their checks.
// The functions below the public types are internal to snapshot/.
#ifndef HV_SNAPSHOT_VM_SNAPSHOT_COMMON_H_
#define HV_SNAPSHOT_VM_SNAPSHOT_COMMON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/types/span.h"
#include "hypervisor/memory.h"
#include "hypervisor/vcpu.h"
#include "hypervisor/vm.h"
#include "snapshot/snapshot_file.h"

namespace hv::snapshot {

// GuestRam: a guest-physical range and the host memory behind it (e.g. a
// MemoryRegion's data() before it was handed to Vm::AddMemoryRegion).
struct GuestRam {
  GuestAddress guest_address = 0;
  absl::Span<uint8_t> host;
  // The memory slot whose region is exactly this range, with dirty logging
  // on (MemoryRegionOptions::log_dirty_pages or Vm::SetDirtyLogging): then
  // every capture reads (and so resets) the slot's dirty log, and an
  // incremental capture writes only the pages it marks. nullopt: the range
  // is written whole every time.
  std::optional<MemSlot> slot;
};

// CaptureOptions: what kind of snapshot a Capture writes.
struct CaptureOptions {
  // The id (SnapshotId()) of the snapshot this one follows: ranges with a
  // slot then hold only the pages written since that capture (the dirty
  // log's), the rest of the state in full. 0: a full snapshot.
  uint64_t parent_id = 0;
};

// RestoreOptions: what a Restore checks and how it treats time.
struct RestoreOptions {
  // false (the default): the guest's clocks continue from the values
  // captured, as if the VM had stayed paused: no jump, however long the
  // snapshot waited. true: they are advanced by the host real time since
  // the capture, as for a live migration between hosts with synchronised
  // clocks. x86_64 (RestoreX86_64): the paravirtual clock, where the file
  // recorded the capture's time (KVM with a TSC clock source). aarch64
  // (RestoreAArch64): every vCPU's virtual counter (CNTVCT_EL0), by the
  // time and counter frequency a capture on an aarch64 host records;
  // INVALID_ARGUMENT for a file without them.
  bool advance_clock_by_downtime = false;
  // The backend `vm` runs on: its Hypervisor::kind(), the name given to
  // the Capture. A snapshot recorded on another backend is refused with
  // FAILED_PRECONDITION naming both, before anything is written: one
  // hypervisor's state (its register list, XSAVE image, clock, interrupt
  // controller registers) is not another's to load. Empty: not checked
  // (for a VMM that names backends its own way).
  std::string backend;
};

// SnapshotId(): the id a Capture gave `file` (random, never 0), or
// NOT_FOUND / DATA_LOSS for a file without a readable one.
absl::StatusOr<uint64_t> SnapshotId(const SnapshotFile& file);

// ReadSnapshotChain(): the files at `paths`, in order (e.g. a full
// snapshot and its incremental children), each read as
// SnapshotFile::ReadFrom does; ChainOf() the pointers a chain Restore
// takes.
absl::StatusOr<std::vector<SnapshotFile>> ReadSnapshotChain(
    absl::Span<const std::string> paths);
std::vector<const SnapshotFile*> ChainOf(
    const std::vector<SnapshotFile>& files);

// ---- Internal to snapshot/ ----

// Within(): `status` with `context` before its message (the code kept).
absl::Status Within(const std::string& context, const absl::Status& status);

// Absent(): whether a state call's failure means "this hypervisor has no
// such state" (the section is then left out) rather than a real error.
bool Absent(const absl::Status& status);

std::string VcpuName(uint32_t id);

// Optional(): the payload of a section the file may lack, or nullopt.
std::optional<absl::Span<const uint8_t>> Optional(const SnapshotFile& file,
                                                  Tag tag, uint32_t index);

// SettleVcpu(): runs the vCPU once with the immediate-exit flag, so that
// whatever its last exit left for the next Run() (an I/O or MMIO access
// the VMM answered) is completed into its registers before they are read
// (KVM's api.rst, KVM_RUN: "the operations are complete ... only after
// userspace has re-entered the kernel").
absl::Status SettleVcpu(Vcpu& vcpu);

// BeginCapture(): checks the arguments (INVALID_ARGUMENT for no vCPU, a
// null one, an empty RAM range, or a range with a slot that is not
// exactly that slot's region) and starts the file: the snapshot info
// section (a new random id and options.parent_id) and the vCPU ids.
absl::StatusOr<SnapshotFile> BeginCapture(Arch arch, const std::string& backend,
                                          const Vm& vm,
                                          absl::Span<Vcpu* const> vcpus,
                                          absl::Span<const GuestRam> ram,
                                          const CaptureOptions& options);

// CaptureMpState(): the vCPU's MP state section, where the hypervisor has
// the state.
absl::Status CaptureMpState(Vcpu& vcpu, SnapshotFile& file);

// CaptureRam(): every range: whole, or (incremental, with a slot) the
// pages its dirty log marks; a slot's log is read either way, so that the
// next incremental capture starts from this one.
absl::Status CaptureRam(Vm& vm, absl::Span<const GuestRam> ram,
                        const CaptureOptions& options, SnapshotFile& file);

// RamWrite: one copy into guest RAM that a restore will make.
struct RamWrite {
  size_t range = 0;
  uint64_t offset = 0;
  absl::Span<const uint8_t> bytes;
};

// CheckRestoreTarget(): the arguments (INVALID_ARGUMENT as for
// BeginCapture, or for no file), `chain` a full snapshot of `arch` then
// each one's child, every file recorded on options.backend (where given),
// and its last file captured from vCPUs with the ids of `vcpus`, in that
// order (FAILED_PRECONDITION naming the difference).
absl::Status CheckRestoreTarget(absl::Span<const SnapshotFile* const> chain,
                                Arch arch, absl::Span<Vcpu* const> vcpus,
                                absl::Span<const GuestRam> ram,
                                const RestoreOptions& options);

// CollectChainRamWrites(): the RAM writes of every file of the chain, in
// order, each checked against `ram` (FAILED_PRECONDITION for a range that
// differs or is missing, DATA_LOSS for one that does not decode).
absl::StatusOr<std::vector<RamWrite>> CollectChainRamWrites(
    absl::Span<const SnapshotFile* const> chain,
    absl::Span<const GuestRam> ram);
// ApplyRamWrites(): makes the copies.
void ApplyRamWrites(absl::Span<const RamWrite> writes,
                    absl::Span<const GuestRam> ram);

// A u32 payload, and the MP state as one (snapshot/README.md, tag 24).
std::vector<uint8_t> EncodeU32(uint32_t value);
absl::StatusOr<uint32_t> DecodeU32(absl::Span<const uint8_t> data,
                                   const std::string& what);
std::vector<uint8_t> EncodeMpState(MpState state);
absl::StatusOr<MpState> DecodeMpState(absl::Span<const uint8_t> data,
                                      const std::string& what);

// DecodeSection(): the section (tag, index), which the file must have,
// decoded by `decode` with `what` naming it in errors.
template <typename T>
absl::StatusOr<T> DecodeSection(
    const SnapshotFile& file, Tag tag, uint32_t index,
    absl::StatusOr<T> (*decode)(absl::Span<const uint8_t>, const std::string&),
    const std::string& what) {
  absl::StatusOr<absl::Span<const uint8_t>> payload = file.Find(tag, index);
  if (!payload.ok()) return payload.status();
  return decode(*payload, what);
}

// CaptureVmPiece(): adds the VM-wide state `get()` returns under (`tag`,
// 0), encoded by `encode`; nothing where the VM has no such state.
template <typename Get, typename Encode>
absl::Status CaptureVmPiece(Tag tag, Get get, Encode encode,
                            SnapshotFile& file) {
  auto state = get();
  if (state.ok()) {
    file.Add(tag, 0, encode(*state));
    return absl::OkStatus();
  }
  if (Absent(state.status())) return absl::OkStatus();
  return Within(absl::StrCat("snapshot capture: ", TagName(tag)),
                state.status());
}

// ForEachVcpu(): `step(*vcpus[i], i)` for each vCPU in order; the first
// error, prefixed with `operation` and the vCPU's name.
template <typename VcpuT, typename Step>
absl::Status ForEachVcpu(const char* operation, absl::Span<VcpuT* const> vcpus,
                         Step step) {
  for (size_t i = 0; i < vcpus.size(); ++i) {
    absl::Status status = step(*vcpus[i], i);
    if (!status.ok()) {
      return Within(absl::StrCat(operation, ": ", VcpuName(vcpus[i]->id())),
                    status);
    }
  }
  return absl::OkStatus();
}

// DecodeVcpuImages(): for each vCPU, `decode(file, id)` then `check(vcpu,
// image)` (side-effect-free reads that the vCPU can take it).
template <typename VcpuT, typename Image>
absl::StatusOr<std::vector<Image>> DecodeVcpuImages(
    const SnapshotFile& file, absl::Span<VcpuT* const> vcpus,
    absl::StatusOr<Image> (*decode)(const SnapshotFile&, uint32_t),
    absl::Status (*check)(VcpuT&, const Image&)) {
  std::vector<Image> images;
  for (VcpuT* vcpu : vcpus) {
    absl::StatusOr<Image> image = decode(file, vcpu->id());
    if (!image.ok()) return image.status();
    absl::Status fits = check(*vcpu, *image);
    if (!fits.ok()) {
      return Within(absl::StrCat("snapshot restore: ", VcpuName(vcpu->id())),
                    fits);
    }
    images.push_back(*std::move(image));
  }
  return images;
}

// AsVcpus(): an architecture's vCPU list as base-class pointers.
template <typename VcpuT>
std::vector<Vcpu*> AsVcpus(absl::Span<VcpuT* const> vcpus) {
  return std::vector<Vcpu*>(vcpus.begin(), vcpus.end());
}

}  // namespace hv::snapshot

#endif  // HV_SNAPSHOT_VM_SNAPSHOT_COMMON_H_
