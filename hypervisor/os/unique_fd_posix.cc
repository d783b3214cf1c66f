// UniqueFd on POSIX: descriptors are closed with close(2) and duplicated with
// fcntl(F_DUPFD_CLOEXEC).
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/unique_fd.h"

namespace hv {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) {
    // close(2) releases the descriptor even when it reports EINTR on Linux,
    // so it is never retried.
    ::close(fd_);
  }
  fd_ = fd;
}

absl::StatusOr<UniqueFd> DuplicateFd(int fd) {
  int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return ErrnoStatus(absl::StrCat("fcntl(", fd, ", F_DUPFD_CLOEXEC)"));
  return UniqueFd(dup);
}

absl::StatusOr<UniqueFd> OpenFile(absl::string_view path, int flags) {
  std::string p(path);
  int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(absl::StrCat("open ", path));
  return UniqueFd(fd);
}

}  // namespace hv
