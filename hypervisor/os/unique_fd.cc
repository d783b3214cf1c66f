#include "hypervisor/os/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "hypervisor/os/errno_status.h"

namespace hv {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

int UniqueFd::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) {
    // close(2) releases the descriptor even when it reports EINTR on Linux,
    // so it is never retried.
    ::close(fd_);
  }
  fd_ = fd;
}

absl::StatusOr<UniqueFd> UniqueFd::Duplicate() const {
  int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(absl::StrCat("fcntl(", fd_, ", F_DUPFD_CLOEXEC)"));
  return UniqueFd(fd);
}

absl::StatusOr<UniqueFd> OpenFile(absl::string_view path, int flags) {
  std::string p(path);
  int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(absl::StrCat("open ", path));
  return UniqueFd(fd);
}

}  // namespace hv
