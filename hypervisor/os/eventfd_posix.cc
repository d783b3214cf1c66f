#include "hypervisor/os/eventfd.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "hypervisor/os/errno_status.h"

namespace hv {

absl::StatusOr<EventFd> EventFd::Create() {
  UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!fd) return ErrnoStatus("eventfd");
  return EventFd(std::move(fd));
}

absl::Status EventFd::Write(uint64_t value) const {
  if (::write(fd_.get(), &value, sizeof(value)) != sizeof(value)) {
    return ErrnoStatus(absl::StrCat("write eventfd ", fd_.get()));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> EventFd::Read() const {
  uint64_t value = 0;
  if (::read(fd_.get(), &value, sizeof(value)) != sizeof(value)) {
    if (errno == EAGAIN) {
      return absl::UnavailableError(
          absl::StrCat("read eventfd ", fd_.get(), ": counter is zero"));
    }
    return ErrnoStatus(absl::StrCat("read eventfd ", fd_.get()));
  }
  return value;
}

absl::StatusOr<uint64_t> EventFd::Wait(absl::Duration timeout) const {
  pollfd p = {fd_.get(), POLLIN, 0};
  int ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
  int n;
  do {
    n = ::poll(&p, 1, ms);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoStatus(absl::StrCat("poll eventfd ", fd_.get()));
  if (n == 0) {
    return absl::DeadlineExceededError(absl::StrCat(
        "wait eventfd ", fd_.get(), ": nothing within ",
        absl::FormatDuration(timeout)));
  }
  return Read();
}

}  // namespace hv
