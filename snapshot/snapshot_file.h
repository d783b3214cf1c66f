// SnapshotFile: the container of hv's snapshot format (snapshot/README.md
// specifies it byte by byte): a header naming the format version, the
// architecture and the backend, then sections, each a tag, an index (a
// vCPU id, a memory range's number), a length and a CRC-32C of its payload.
// Parse() checks every length against the bytes present and every CRC
// before any section is handed out, so a truncated or damaged file is
// refused as a whole with DATA_LOSS naming the section.
//
// Example:
//   hv::snapshot::SnapshotFile file(hv::snapshot::Arch::kX86_64, "kvm");
//   file.Add(hv::snapshot::Tag::kVcpuRegs, 0, encoded_regs);
//   RETURN_IF_ERROR(file.WriteTo("/tmp/vm.hvsnap"));
//   ASSIGN_OR_RETURN(auto back, hv::snapshot::SnapshotFile::ReadFrom(
//                                   "/tmp/vm.hvsnap"));
//   ASSIGN_OR_RETURN(absl::Span<const uint8_t> regs,
//                    back.Find(hv::snapshot::Tag::kVcpuRegs, 0));
#ifndef HV_SNAPSHOT_SNAPSHOT_FILE_H_
#define HV_SNAPSHOT_SNAPSHOT_FILE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace hv::snapshot {

// "HVSNAP" then CR LF: a file moved through a text-mode channel is caught.
inline constexpr char kMagic[8] = {'H', 'V', 'S', 'N', 'A', 'P', '\r', '\n'};
inline constexpr uint32_t kFormatVersion = 1;

enum class Arch : uint32_t { kX86_64 = 1, kAArch64 = 2 };
const char* ArchName(Arch arch);

// Section tags (snapshot/README.md gives each payload's layout). Numbers
// are part of the format: never reuse one.
enum class Tag : uint32_t {
  kEnd = 0,              // the last section, empty
  kMemoryRange = 1,      // index: range number; guest address, then bytes
  kMemoryPages = 2,      // index: range number; changed pages only
  kVcpuRegs = 16,        // index: vCPU id, for every tag up to 47
  kVcpuSregs = 17,
  kVcpuFpu = 18,
  kVcpuDebugRegs = 19,
  kVcpuXcrs = 20,
  kVcpuXsave = 21,
  kVcpuMsrs = 22,
  kVcpuEvents = 23,
  kVcpuMpState = 24,
  kVcpuLapic = 25,
  kVcpuTscKhz = 26,
  kVcpuAArch64Regs = 27,   // aarch64: core, FP/SIMD control, firmware, system
  kVcpuAArch64Vregs = 28,  // aarch64: V0-V31
  kVmClock = 48,         // index 0, for every tag from 48
  kVmPicPrimary = 49,
  kVmPicSecondary = 50,
  kVmIoapic = 51,
  kVmPit = 52,
  kVcpuCount = 53,
  kSnapshotInfo = 54,    // index 0: u64 id, u64 parent id (0: full)
  kVmGicV3 = 55,         // aarch64: the vGICv3's registers
  kVmGicIts = 56,        // aarch64: the GICv3 ITS's registers
  kVmAArch64Clock = 57,  // aarch64: the capture's host time, the counter's Hz
  kVmmState = 1024,      // the VMM's own (devices in user space); index and
                         // payload are the VMM's, Restore ignores it
};
const char* TagName(Tag tag);

class SnapshotFile {
 public:
  struct Section {
    Tag tag = Tag::kEnd;
    uint32_t index = 0;
    std::vector<uint8_t> payload;
  };

  SnapshotFile(Arch arch, std::string backend)
      : arch_(arch), backend_(std::move(backend)) {}

  // SnapshotFile::Parse(): the file in `bytes`. DATA_LOSS for a wrong
  // magic, a section running past the end, a CRC mismatch, a missing end
  // section or bytes after it; UNIMPLEMENTED for another format version or
  // an unknown architecture.
  static absl::StatusOr<SnapshotFile> Parse(absl::Span<const uint8_t> bytes);
  static absl::StatusOr<SnapshotFile> ReadFrom(const std::string& path);

  // SnapshotFile::Add(): appends a section (a tag and index may appear
  // once; Find() returns the first).
  void Add(Tag tag, uint32_t index, std::vector<uint8_t> payload);

  std::vector<uint8_t> Serialize() const;
  // SnapshotFile::WriteTo(): writes to `path` + ".tmp", fsyncs, renames it
  // to `path`: a crash leaves the old file or the new one, never half.
  absl::Status WriteTo(const std::string& path) const;

  // SnapshotFile::Find(): the payload of (tag, index); NOT_FOUND naming
  // both where the file has none.
  absl::StatusOr<absl::Span<const uint8_t>> Find(Tag tag,
                                                 uint32_t index) const;
  bool Has(Tag tag, uint32_t index) const;

  Arch arch() const { return arch_; }
  const std::string& backend() const { return backend_; }
  const std::vector<Section>& sections() const { return sections_; }

 private:
  Arch arch_;
  std::string backend_;
  std::vector<Section> sections_;
};

}  // namespace hv::snapshot

#endif  // HV_SNAPSHOT_SNAPSHOT_FILE_H_
