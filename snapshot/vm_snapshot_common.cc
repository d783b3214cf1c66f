#include "snapshot/vm_snapshot_common.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vcpu_exit.h"
#include "snapshot/codec.h"

namespace hv::snapshot {
namespace {

// Dirty-log pages: the log's unit (4 KiB on x86_64 and on arm64 KVM hosts
// with 4 KiB pages, the only ones hv runs on).
constexpr uint64_t kPageSize = 4096;

// The (id, parent id) of `file`'s info section.
absl::StatusOr<std::pair<uint64_t, uint64_t>> SnapshotIds(
    const SnapshotFile& file) {
  ASSIGN_OR_RETURN(absl::Span<const uint8_t> payload,
                   file.Find(Tag::kSnapshotInfo, 0));
  ByteReader in(payload, "snapshot info");
  ASSIGN_OR_RETURN(uint64_t id, in.Get64("id"));
  ASSIGN_OR_RETURN(uint64_t parent, in.Get64("parent id"));
  RETURN_IF_ERROR(in.Done());
  return std::make_pair(id, parent);
}

// Checks that `range`'s slot holds exactly the range.
absl::Status CheckRangeSlot(const Vm& vm, size_t i, const GuestRam& range) {
  for (const MemoryRegionInfo& info : vm.MemoryRegions()) {
    if (info.slot != *range.slot) continue;
    if (info.guest_address != range.guest_address ||
        info.size != range.host.size()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "snapshot capture: RAM range %u is [%#x, %#x), but slot %u holds "
          "[%#x, %#x)",
          i, range.guest_address, range.guest_address + range.host.size(),
          info.slot, info.guest_address, info.guest_address + info.size));
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "snapshot capture: RAM range %u names slot %u, which holds no region", i,
      *range.slot));
}

// Adds range `i` to `file` (its slot checked by CheckRamSlots already):
// whole, or (incremental, with a slot) the pages its dirty log marks.
absl::Status CaptureRange(Vm& vm, size_t i, const GuestRam& range,
                          bool incremental, SnapshotFile& file) {
  std::vector<uint64_t> dirty;
  if (range.slot.has_value()) {
    ASSIGN_OR_RETURN(dirty, vm.GetDirtyLog(*range.slot));
  }
  ByteWriter out;
  out.Put64(range.guest_address);
  if (!incremental || !range.slot.has_value()) {
    out.PutBlob(range.host);
    file.Add(Tag::kMemoryRange, static_cast<uint32_t>(i), out.Take());
    return absl::OkStatus();
  }
  const uint64_t pages = range.host.size() / kPageSize;
  std::vector<uint64_t> written;
  for (uint64_t page = 0; page < pages; ++page) {
    if (page / 64 < dirty.size() && ((dirty[page / 64] >> (page % 64)) & 1)) {
      written.push_back(page);
    }
  }
  out.Put64(range.host.size());
  out.Put32(static_cast<uint32_t>(kPageSize));
  out.Put64(written.size());
  for (uint64_t page : written) {
    out.Put64(page);
    out.PutBytes(range.host.subspan(page * kPageSize, kPageSize));
  }
  file.Add(Tag::kMemoryPages, static_cast<uint32_t>(i), out.Take());
  return absl::OkStatus();
}

// The RAM writes `file` asks for, every one checked against `ram`. A full
// snapshot must hold every range whole; an incremental one each range
// whole or as pages.
absl::Status CollectRamWrites(const SnapshotFile& file, bool full,
                              absl::Span<const GuestRam> ram,
                              std::vector<RamWrite>& writes) {
  constexpr const char* kOp = "snapshot restore";
  for (const SnapshotFile::Section& section : file.sections()) {
    if ((section.tag == Tag::kMemoryRange ||
         section.tag == Tag::kMemoryPages) &&
        section.index >= ram.size()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: the snapshot has RAM range %u; %u ranges were given", kOp,
          section.index, ram.size()));
    }
  }
  for (size_t i = 0; i < ram.size(); ++i) {
    const std::string name = absl::StrFormat("RAM range %u", i);
    const uint32_t index = static_cast<uint32_t>(i);
    auto whole = Optional(file, Tag::kMemoryRange, index);
    auto pages = Optional(file, Tag::kMemoryPages, index);
    if (!whole.has_value() && (full || !pages.has_value())) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: the snapshot has no contents for %s of the %u given", kOp, name,
          ram.size()));
    }
    ByteReader in(whole.has_value() ? *whole : *pages, name);
    ASSIGN_OR_RETURN(uint64_t address, in.Get64("guest address"));
    uint64_t size = 0;
    absl::Span<const uint8_t> bytes;
    if (whole.has_value()) {
      // Decoded to its end first: a blob length that lies is damage
      // (DATA_LOSS), not a RAM size that does not fit.
      ASSIGN_OR_RETURN(bytes, in.GetBlob("contents"));
      RETURN_IF_ERROR(in.Done());
      size = bytes.size();
    } else {
      ASSIGN_OR_RETURN(size, in.Get64("range size"));
    }
    if (address != ram[i].guest_address || size != ram[i].host.size()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: the snapshot's %s is [%#x, %#x), the one given [%#x, %#x)", kOp,
          name, address, address + size, ram[i].guest_address,
          ram[i].guest_address + ram[i].host.size()));
    }
    if (whole.has_value()) {
      writes.push_back(RamWrite{i, 0, bytes});
      continue;
    }
    ASSIGN_OR_RETURN(uint32_t page_size, in.Get32("page size"));
    ASSIGN_OR_RETURN(uint64_t count, in.Get64("page count"));
    if (page_size != kPageSize) {
      return absl::DataLossError(absl::StrFormat(
          "%s: pages of %u bytes, not %u", name, page_size, kPageSize));
    }
    for (uint64_t n = 0; n < count; ++n) {
      ASSIGN_OR_RETURN(uint64_t page, in.Get64("page number"));
      ASSIGN_OR_RETURN(absl::Span<const uint8_t> data,
                       in.GetBytes("page", kPageSize));
      if (page >= size / kPageSize) {
        return absl::DataLossError(
            absl::StrFormat("%s: page %u is past the range's %u pages", name,
                            page, size / kPageSize));
      }
      writes.push_back(RamWrite{i, page * kPageSize, data});
    }
    RETURN_IF_ERROR(in.Done());
  }
  return absl::OkStatus();
}

absl::Status CheckVcpusAndRam(const char* operation,
                              absl::Span<Vcpu* const> vcpus,
                              absl::Span<const GuestRam> ram) {
  if (vcpus.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(operation, ": no vCPU given"));
  }
  for (size_t i = 0; i < vcpus.size(); ++i) {
    if (vcpus[i] == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: vCPU %u of the list is null", operation, i));
    }
  }
  for (size_t i = 0; i < ram.size(); ++i) {
    if (ram[i].host.empty()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: RAM range %u (guest address %#x) is empty",
                          operation, i, ram[i].guest_address));
    }
  }
  return absl::OkStatus();
}

void AddSnapshotHeader(const CaptureOptions& options,
                       absl::Span<const uint32_t> vcpu_ids,
                       SnapshotFile& file) {
  uint64_t id = 0;
  absl::BitGen random;
  while (id == 0) id = absl::Uniform<uint64_t>(random);
  ByteWriter info;
  info.Put64(id);
  info.Put64(options.parent_id);
  file.Add(Tag::kSnapshotInfo, 0, info.Take());
  ByteWriter ids;
  ids.Put32(static_cast<uint32_t>(vcpu_ids.size()));
  for (uint32_t vcpu_id : vcpu_ids) ids.Put32(vcpu_id);
  file.Add(Tag::kVcpuCount, 0, ids.Take());
}

absl::Status CheckRamSlots(const Vm& vm, absl::Span<const GuestRam> ram) {
  for (size_t i = 0; i < ram.size(); ++i) {
    if (ram[i].slot.has_value()) RETURN_IF_ERROR(CheckRangeSlot(vm, i, ram[i]));
  }
  return absl::OkStatus();
}

absl::Status CheckChain(absl::Span<const SnapshotFile* const> chain,
                        Arch arch) {
  constexpr const char* kOp = "snapshot restore";
  if (chain.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(kOp, ": no snapshot given"));
  }
  uint64_t previous = 0;
  for (size_t n = 0; n < chain.size(); ++n) {
    if (chain[n]->arch() != arch) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s: snapshot %u of the chain is of an %s VM, not %s",
                          kOp, n, ArchName(chain[n]->arch()), ArchName(arch)));
    }
    ASSIGN_OR_RETURN(auto ids, SnapshotIds(*chain[n]));
    if (ids.second != previous) {
      return absl::FailedPreconditionError(
          n == 0 ? absl::StrFormat("%s: the first snapshot is incremental "
                                   "(parent %#x); a chain starts full",
                                   kOp, ids.second)
                 : absl::StrFormat("%s: snapshot %u of the chain follows "
                                   "%#x, not the one before it (%#x)",
                                   kOp, n, ids.second, previous));
    }
    previous = ids.first;
  }
  return absl::OkStatus();
}

absl::Status CheckVcpuIds(const SnapshotFile& file,
                          absl::Span<const uint32_t> ids) {
  constexpr const char* kOp = "snapshot restore";
  ASSIGN_OR_RETURN(absl::Span<const uint8_t> payload,
                   file.Find(Tag::kVcpuCount, 0));
  ByteReader in(payload, "vCPU count");
  ASSIGN_OR_RETURN(uint32_t count, in.Get32("count"));
  if (count != ids.size()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: the snapshot has %u vCPUs, %u were given", kOp,
                        count, ids.size()));
  }
  for (uint32_t given : ids) {
    ASSIGN_OR_RETURN(uint32_t id, in.Get32("vCPU id"));
    if (id != given) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: the snapshot's vCPU %u is given vCPU %u", kOp, id, given));
    }
  }
  return in.Done();
}

std::vector<uint32_t> VcpuIdsOf(absl::Span<Vcpu* const> vcpus) {
  std::vector<uint32_t> ids;
  for (Vcpu* vcpu : vcpus) ids.push_back(vcpu->id());
  return ids;
}

}  // namespace

absl::StatusOr<uint64_t> SnapshotId(const SnapshotFile& file) {
  ASSIGN_OR_RETURN(auto ids, SnapshotIds(file));
  return ids.first;
}

absl::Status Within(const std::string& context, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat(context, ": ", status.message()));
}

bool Absent(const absl::Status& status) {
  return absl::IsUnimplemented(status) || absl::IsFailedPrecondition(status);
}

std::string VcpuName(uint32_t id) { return absl::StrCat("vCPU ", id); }

std::optional<absl::Span<const uint8_t>> Optional(const SnapshotFile& file,
                                                  Tag tag, uint32_t index) {
  absl::StatusOr<absl::Span<const uint8_t>> payload = file.Find(tag, index);
  if (!payload.ok()) return std::nullopt;
  return *payload;
}

absl::Status SettleVcpu(Vcpu& vcpu) {
  vcpu.SetImmediateExit(true);
  absl::StatusOr<VcpuExit> exit = vcpu.Run();
  vcpu.SetImmediateExit(false);
  if (!exit.ok()) return Within("completing the last exit", exit.status());
  if (exit->kind != VcpuExitKind::kInterrupted) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "completing the last exit: the vCPU ran on to another exit (%s) "
        "instead of stopping",
        VcpuExitKindName(exit->kind)));
  }
  return absl::OkStatus();
}

absl::Status CaptureMpState(Vcpu& vcpu, SnapshotFile& file) {
  absl::StatusOr<MpState> mp = vcpu.GetMpState();
  if (mp.ok()) {
    file.Add(Tag::kVcpuMpState, vcpu.id(), EncodeMpState(*mp));
    return absl::OkStatus();
  }
  return Absent(mp.status()) ? absl::OkStatus()
                             : Within("get mp state", mp.status());
}

absl::Status CaptureRam(Vm& vm, absl::Span<const GuestRam> ram,
                        const CaptureOptions& options, SnapshotFile& file) {
  for (size_t i = 0; i < ram.size(); ++i) {
    RETURN_IF_ERROR(
        Within("snapshot capture",
               CaptureRange(vm, i, ram[i], options.parent_id != 0, file)));
  }
  return absl::OkStatus();
}

absl::StatusOr<SnapshotFile> BeginCapture(Arch arch, const std::string& backend,
                                          const Vm& vm,
                                          absl::Span<Vcpu* const> vcpus,
                                          absl::Span<const GuestRam> ram,
                                          const CaptureOptions& options) {
  RETURN_IF_ERROR(CheckVcpusAndRam("snapshot capture", vcpus, ram));
  RETURN_IF_ERROR(CheckRamSlots(vm, ram));
  SnapshotFile file(arch, backend);
  AddSnapshotHeader(options, VcpuIdsOf(vcpus), file);
  return file;
}

absl::Status CheckRestoreTarget(absl::Span<const SnapshotFile* const> chain,
                                Arch arch, absl::Span<Vcpu* const> vcpus,
                                absl::Span<const GuestRam> ram,
                                const RestoreOptions& options) {
  constexpr const char* kOp = "snapshot restore";
  RETURN_IF_ERROR(CheckVcpusAndRam(kOp, vcpus, ram));
  RETURN_IF_ERROR(CheckChain(chain, arch));
  for (size_t n = 0; n < chain.size(); ++n) {
    if (!options.backend.empty() && chain[n]->backend() != options.backend) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: snapshot %u of the chain was recorded on the \"%s\" backend; "
          "this VM runs on \"%s\"",
          kOp, n, chain[n]->backend(), options.backend));
    }
  }
  return CheckVcpuIds(*chain.back(), VcpuIdsOf(vcpus));
}

absl::StatusOr<std::vector<SnapshotFile>> ReadSnapshotChain(
    absl::Span<const std::string> paths) {
  std::vector<SnapshotFile> files;
  for (const std::string& path : paths) {
    ASSIGN_OR_RETURN(SnapshotFile file, SnapshotFile::ReadFrom(path));
    files.push_back(std::move(file));
  }
  return files;
}

std::vector<const SnapshotFile*> ChainOf(
    const std::vector<SnapshotFile>& files) {
  std::vector<const SnapshotFile*> chain;
  for (const SnapshotFile& file : files) chain.push_back(&file);
  return chain;
}

absl::StatusOr<std::vector<RamWrite>> CollectChainRamWrites(
    absl::Span<const SnapshotFile* const> chain,
    absl::Span<const GuestRam> ram) {
  std::vector<RamWrite> writes;
  for (size_t n = 0; n < chain.size(); ++n) {
    RETURN_IF_ERROR(CollectRamWrites(*chain[n], n == 0, ram, writes));
  }
  return writes;
}

void ApplyRamWrites(absl::Span<const RamWrite> writes,
                    absl::Span<const GuestRam> ram) {
  for (const RamWrite& write : writes) {
    std::copy(write.bytes.begin(), write.bytes.end(),
              ram[write.range].host.begin() + write.offset);
  }
}

std::vector<uint8_t> EncodeU32(uint32_t value) {
  ByteWriter out;
  out.Put32(value);
  return out.Take();
}

absl::StatusOr<uint32_t> DecodeU32(absl::Span<const uint8_t> data,
                                   const std::string& what) {
  ByteReader in(data, what);
  ASSIGN_OR_RETURN(uint32_t value, in.Get32("value"));
  RETURN_IF_ERROR(in.Done());
  return value;
}

std::vector<uint8_t> EncodeMpState(MpState state) {
  return EncodeU32(static_cast<uint32_t>(state));
}

absl::StatusOr<MpState> DecodeMpState(absl::Span<const uint8_t> data,
                                      const std::string& what) {
  ASSIGN_OR_RETURN(uint32_t value, DecodeU32(data, what));
  if (value > static_cast<uint32_t>(MpState::kSuspended)) {
    return absl::DataLossError(
        absl::StrFormat("%s: MP state %u is none hv knows", what, value));
  }
  return static_cast<MpState>(value);
}

}  // namespace hv::snapshot
