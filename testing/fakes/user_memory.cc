#include "testing/fakes/user_memory.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace hv::testing {
namespace {

// Moves `size` bytes through a pipe: the source is written into it (EFAULT
// if unreadable) and read out into the destination (EFAULT if
// unwritable). A piece no larger than PIPE_BUF goes into an empty pipe
// whole or not at all.
int PipeCopy(void* to, const void* from, size_t size) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return errno;
  int error = 0;
  constexpr size_t kPiece = 4096;
  for (size_t offset = 0; error == 0 && offset < size; offset += kPiece) {
    const size_t piece = std::min(kPiece, size - offset);
    if (::write(fds[1], static_cast<const uint8_t*>(from) + offset, piece) !=
        static_cast<ssize_t>(piece)) {
      error = EFAULT;
      break;
    }
    for (size_t got = 0; got < piece;) {
      const ssize_t n =
          ::read(fds[0], static_cast<uint8_t*>(to) + offset + got, piece - got);
      if (n <= 0) {
        error = EFAULT;
        break;
      }
      got += static_cast<size_t>(n);
    }
  }
  ::close(fds[0]);
  ::close(fds[1]);
  return error;
}

// Copies between this process's memory and the "user" side, which the
// kernel accesses for us; 0 or EFAULT.
int UserCopy(void* to, const void* from, size_t size, bool to_is_user) {
  if (size == 0) return 0;
  struct iovec local = {to_is_user ? const_cast<void*>(from) : to, size};
  struct iovec remote = {to_is_user ? to : const_cast<void*>(from), size};
  const ssize_t done =
      to_is_user ? ::process_vm_writev(::getpid(), &local, 1, &remote, 1, 0)
                 : ::process_vm_readv(::getpid(), &local, 1, &remote, 1, 0);
  if (done == static_cast<ssize_t>(size)) return 0;
  if (done >= 0 || (errno != ENOSYS && errno != EPERM)) return EFAULT;
  return PipeCopy(to, from, size);
}

}  // namespace

int CopyFromUser(void* to, uintptr_t from, size_t size) {
  if (from == 0) return EFAULT;
  return UserCopy(to, reinterpret_cast<const void*>(from), size, false);
}

int CopyToUser(uintptr_t to, const void* from, size_t size) {
  if (to == 0) return EFAULT;
  return UserCopy(reinterpret_cast<void*>(to), from, size, true);
}

bool UserRangeMapped(uint64_t address, uint64_t size, UserAccess access) {
  const uint64_t end = address + size;
  if (end < address) return false;
  if (size == 0) return true;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  std::vector<std::pair<uint64_t, uint64_t>> usable;
  while (std::getline(maps, line)) {
    unsigned long from = 0, to = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &from, &to, perms) != 3) {
      continue;
    }
    if (access != UserAccess::kMapped && perms[0] != 'r') continue;
    if (access == UserAccess::kReadWrite && perms[1] != 'w') continue;
    usable.emplace_back(from, to);
  }
  std::sort(usable.begin(), usable.end());
  uint64_t at = address;
  for (const auto& [from, to] : usable) {
    if (from <= at && at < to) at = to;
    if (at >= end) return true;
  }
  return false;
}

}  // namespace hv::testing
