#include "testing/fakes/eventfd_check.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <string>

namespace hv::testing {

int CheckEventfd(int fd) {
  if (fd < 0 || ::fcntl(fd, F_GETFD) < 0) return EBADF;
  char target[64] = {};
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
  if (n < 0) return EBADF;
  return std::string(target, n) == "anon_inode:[eventfd]" ? 0 : EINVAL;
}

void SignalEventfd(int fd) {
  const uint64_t one = 1;
  (void)!::write(fd, &one, sizeof(one));
}

uint64_t DrainEventfd(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  if (::poll(&p, 1, 0) != 1 || (p.revents & POLLIN) == 0) return 0;
  uint64_t value = 0;
  if (::read(fd, &value, sizeof(value)) != sizeof(value)) return 0;
  return value;
}

}  // namespace hv::testing
