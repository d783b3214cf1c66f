#include "tools/hvrun/payload_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/status_macros.h"

// mingw-w64 (hvrun.exe) has no O_NONBLOCK or O_CLOEXEC, and opens files in
// text mode unless told otherwise; Windows has no FIFOs to block on.
#ifndef O_NONBLOCK
#define O_NONBLOCK 0
#endif
#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif
#ifndef O_BINARY
#define O_BINARY 0
#endif

namespace hv {
namespace {

// The Linux boot protocol's header magic "HdrS" at offset 0x202
// (Documentation/arch/x86/boot.rst).
constexpr size_t kBzImageMagicOffset = 0x202;

std::string FileTypeName(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device (such as /dev/zero)";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  return "not a regular file";
}

// Closes the fd however ReadPayloadFile returns.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  ~FdCloser() { ::close(fd_); }

 private:
  const int fd_;
};

}  // namespace

std::string PayloadFormatHint(absl::Span<const uint8_t> bytes) {
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), "\x7f" "ELF", 4) == 0) {
    return "it is an ELF file, not a flat binary; convert it, e.g. "
           "objcopy -O binary guest.elf guest.bin";
  }
  if (bytes.size() >= kBzImageMagicOffset + 4 &&
      std::memcmp(bytes.data() + kBzImageMagicOffset, "HdrS", 4) == 0) {
    return "it is a Linux kernel (bzImage, \"HdrS\" at 0x202), not a flat binary; "
           "boot it with --kernel";
  }
  return "";
}

absl::StatusOr<std::vector<uint8_t>> ReadPayloadFile(const std::string& path,
                                                     uint64_t max_size) {
  if (path.empty()) {
    return absl::InvalidArgumentError("--payload=: expected the path of a flat binary");
  }
  ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadInputFile("payload", path, max_size));
  if (std::string hint = PayloadFormatHint(bytes); !hint.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat("--payload=%s: %s", path, hint));
  }
  return bytes;
}

absl::StatusOr<std::vector<uint8_t>> ReadInputFile(absl::string_view flag,
                                                   const std::string& path,
                                                   uint64_t max_size) {
  const std::string what = absl::StrFormat("--%s=%s", flag, path);
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat("--%s=: expected a file's path", flag));
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_BINARY);
  if (fd < 0) return ErrnoStatus(absl::StrFormat("%s: cannot open it", what));
  FdCloser closer(fd);
  struct stat info;
  if (::fstat(fd, &info) != 0) return ErrnoStatus(absl::StrFormat("%s: fstat", what));
  if (!S_ISREG(info.st_mode)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: is %s; it must be a regular file", what, FileTypeName(info.st_mode)));
  }
  const uint64_t size = static_cast<uint64_t>(info.st_size);
  if (size == 0) return absl::InvalidArgumentError(what + ": the file is empty");
  if (size > max_size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: the file is %u bytes, larger than the %u bytes of guest RAM it must fit in",
        what, size, max_size));
  }
  std::vector<uint8_t> bytes(size);
  size_t done = 0;
  while (done < size) {
    const ssize_t got = ::read(fd, bytes.data() + done, size - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoStatus(absl::StrFormat("%s: read", what));
    if (got == 0) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: the file shrank while being read (%u of %u bytes)", what, done, size));
    }
    done += static_cast<size_t>(got);
  }
  return bytes;
}

}  // namespace hv
