#include "snapshot/snapshot_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <utility>

#include "absl/strings/str_format.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/unique_fd.h"
#include "snapshot/codec.h"

namespace hv::snapshot {
namespace {

// Section header: tag (4), index (4), payload length (8), CRC-32C (4).
constexpr uint64_t kSectionHeaderSize = 20;

}  // namespace

const char* ArchName(Arch arch) {
  switch (arch) {
    case Arch::kX86_64: return "x86_64";
    case Arch::kAArch64: return "aarch64";
  }
  return "unknown";
}

const char* TagName(Tag tag) {
  switch (tag) {
    case Tag::kEnd: return "end";
    case Tag::kMemoryRange: return "memory range";
    case Tag::kMemoryPages: return "memory pages";
    case Tag::kVcpuRegs: return "vCPU regs";
    case Tag::kVcpuSregs: return "vCPU sregs";
    case Tag::kVcpuFpu: return "vCPU fpu";
    case Tag::kVcpuDebugRegs: return "vCPU debug regs";
    case Tag::kVcpuXcrs: return "vCPU xcrs";
    case Tag::kVcpuXsave: return "vCPU xsave";
    case Tag::kVcpuMsrs: return "vCPU msrs";
    case Tag::kVcpuEvents: return "vCPU events";
    case Tag::kVcpuMpState: return "vCPU mp state";
    case Tag::kVcpuLapic: return "vCPU lapic";
    case Tag::kVcpuTscKhz: return "vCPU tsc khz";
    case Tag::kVcpuAArch64Regs: return "vCPU aarch64 regs";
    case Tag::kVcpuAArch64Vregs: return "vCPU aarch64 vregs";
    case Tag::kVmClock: return "VM clock";
    case Tag::kVmPicPrimary: return "VM primary PIC";
    case Tag::kVmPicSecondary: return "VM secondary PIC";
    case Tag::kVmIoapic: return "VM ioapic";
    case Tag::kVmPit: return "VM pit";
    case Tag::kVcpuCount: return "vCPU count";
    case Tag::kSnapshotInfo: return "snapshot info";
    case Tag::kVmGicV3: return "VM GICv3";
    case Tag::kVmGicIts: return "VM GIC ITS";
    case Tag::kVmAArch64Clock: return "VM aarch64 clock";
    case Tag::kVmmState: return "VMM state";
  }
  return "unknown";
}

void SnapshotFile::Add(Tag tag, uint32_t index, std::vector<uint8_t> payload) {
  sections_.push_back(Section{tag, index, std::move(payload)});
}

std::vector<uint8_t> SnapshotFile::Serialize() const {
  ByteWriter out;
  out.PutBytes(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(kMagic),
                                   sizeof(kMagic)));
  out.Put32(kFormatVersion);
  out.Put32(static_cast<uint32_t>(arch_));
  out.PutString(backend_);
  auto put_section = [&](Tag tag, uint32_t index,
                         absl::Span<const uint8_t> payload) {
    out.Put32(static_cast<uint32_t>(tag));
    out.Put32(index);
    out.Put64(payload.size());
    out.Put32(Crc32c(payload));
    out.PutBytes(payload);
  };
  for (const Section& section : sections_) {
    put_section(section.tag, section.index, section.payload);
  }
  put_section(Tag::kEnd, 0, {});
  return out.Take();
}

absl::StatusOr<SnapshotFile> SnapshotFile::Parse(
    absl::Span<const uint8_t> bytes) {
  ByteReader in(bytes, "snapshot header");
  absl::StatusOr<absl::Span<const uint8_t>> magic =
      in.GetBytes("magic", sizeof(kMagic));
  if (!magic.ok() || std::memcmp(magic->data(), kMagic, sizeof(kMagic)) != 0) {
    return absl::DataLossError(
        "snapshot: not an hv snapshot (the file does not start with "
        "\"HVSNAP\\r\\n\")");
  }
  absl::StatusOr<uint32_t> version = in.Get32("format version");
  if (!version.ok()) return version.status();
  if (*version != kFormatVersion) {
    return absl::UnimplementedError(absl::StrFormat(
        "snapshot: format version %u; this hv reads version %u", *version,
        kFormatVersion));
  }
  absl::StatusOr<uint32_t> arch = in.Get32("architecture");
  if (!arch.ok()) return arch.status();
  if (*arch != static_cast<uint32_t>(Arch::kX86_64) &&
      *arch != static_cast<uint32_t>(Arch::kAArch64)) {
    return absl::UnimplementedError(
        absl::StrFormat("snapshot: unknown architecture %u", *arch));
  }
  absl::StatusOr<std::string> backend = in.GetString("backend name");
  if (!backend.ok()) return backend.status();
  SnapshotFile file(static_cast<Arch>(*arch), *std::move(backend));
  std::set<std::pair<uint32_t, uint32_t>> seen;  // (tag, index)
  while (true) {
    if (in.remaining() < kSectionHeaderSize) {
      return absl::DataLossError(absl::StrFormat(
          "snapshot: truncated: %u bytes where a section header (or the end "
          "section) should be",
          in.remaining()));
    }
    const Tag tag = static_cast<Tag>(*in.Get32("section tag"));
    const uint32_t index = *in.Get32("section index");
    const uint64_t length = *in.Get64("section length");
    const uint32_t crc = *in.Get32("section crc");
    if (length > in.remaining()) {
      return absl::DataLossError(absl::StrFormat(
          "snapshot: section %s (tag %u) index %u claims %u bytes, %u are "
          "left",
          TagName(tag), static_cast<uint32_t>(tag), index, length,
          in.remaining()));
    }
    absl::Span<const uint8_t> payload = *in.GetBytes("section", length);
    if (Crc32c(payload) != crc) {
      return absl::DataLossError(absl::StrFormat(
          "snapshot: section %s (tag %u) index %u is damaged (CRC-32C %#x, "
          "recorded %#x)",
          TagName(tag), static_cast<uint32_t>(tag), index, Crc32c(payload),
          crc));
    }
    if (tag == Tag::kEnd) {
      // The end section is empty with index 0 (README): anything else is
      // not what a writer of this format wrote.
      if (length != 0 || index != 0) {
        return absl::DataLossError(absl::StrFormat(
            "snapshot: the end section has index %u and %u bytes; it is "
            "empty with index 0",
            index, length));
      }
      break;
    }
    if (!seen.emplace(static_cast<uint32_t>(tag), index).second) {
      return absl::DataLossError(absl::StrFormat(
          "snapshot: section %s (tag %u) index %u appears twice", TagName(tag),
          static_cast<uint32_t>(tag), index));
    }
    file.Add(tag, index, std::vector<uint8_t>(payload.begin(), payload.end()));
  }
  if (in.remaining() != 0) {
    return absl::DataLossError(absl::StrFormat(
        "snapshot: %u bytes after the end section", in.remaining()));
  }
  return file;
}

absl::StatusOr<SnapshotFile> SnapshotFile::ReadFrom(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(absl::StrFormat("open %s", path));
  // Read into a buffer of the file's size, grown should the file grow.
  struct stat info;
  if (::fstat(fd.get(), &info) != 0) {
    return ErrnoStatus(absl::StrFormat("fstat %s", path));
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(info.st_size) + 1);
  size_t done = 0;
  while (true) {
    if (done == bytes.size()) bytes.resize(2 * bytes.size());
    const ssize_t n =
        ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(absl::StrFormat("read %s", path));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return Parse(absl::MakeConstSpan(bytes.data(), done));
}

absl::Status SnapshotFile::WriteTo(const std::string& path) const {
  const std::vector<uint8_t> bytes = Serialize();
  const std::string temporary = path + ".tmp";
  UniqueFd fd(::open(temporary.c_str(),
                     O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return ErrnoStatus(absl::StrFormat("open %s", temporary));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status status = ErrnoStatus(absl::StrFormat("write %s", temporary));
      ::unlink(temporary.c_str());
      return status;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) {
    absl::Status status = ErrnoStatus(absl::StrFormat("fsync %s", temporary));
    ::unlink(temporary.c_str());
    return status;
  }
  fd.reset();
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    absl::Status status = ErrnoStatus(
        absl::StrFormat("rename %s to %s", temporary, path));
    ::unlink(temporary.c_str());
    return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Span<const uint8_t>> SnapshotFile::Find(
    Tag tag, uint32_t index) const {
  for (const Section& section : sections_) {
    if (section.tag == tag && section.index == index) return section.payload;
  }
  return absl::NotFoundError(absl::StrFormat(
      "snapshot: no %s section (tag %u) with index %u", TagName(tag),
      static_cast<uint32_t>(tag), index));
}

bool SnapshotFile::Has(Tag tag, uint32_t index) const {
  return Find(tag, index).ok();
}

}  // namespace hv::snapshot
