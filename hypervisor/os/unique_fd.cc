#include "hypervisor/os/unique_fd.h"

namespace hv {

// The platform parts (reset, Duplicate, OpenFile, DuplicateFd) are in
// unique_fd_posix.cc and unique_fd_windows.cc.

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

int UniqueFd::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

absl::StatusOr<UniqueFd> UniqueFd::Duplicate() const { return DuplicateFd(fd_); }

}  // namespace hv
