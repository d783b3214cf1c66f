// CheckFdRoomForVcpus() on POSIX: RLIMIT_NOFILE's soft limit against the
// fds open now plus those a Machine opens.
#include <dirent.h>
#include <sys/resource.h>

#include "absl/strings/str_format.h"
#include "hypervisor/os/errno_status.h"
#include "tools/hvrun/host_limits.h"

namespace hv {
namespace {

// Besides one per vCPU: the hypervisor device, the VM, guest RAM's memfd,
// and a few spare for the run (the payload file, pipes of the C library).
constexpr uint64_t kFdsBesidesVcpus = 8;

// The number of fds open now (/proc/self/fd; 0 where there is none, such
// as a system without /proc mounted: the check is then only approximate).
uint64_t OpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  uint64_t count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count > 0 ? count - 1 : 0;  // not the directory's own fd
}

}  // namespace

absl::Status CheckFdRoomForVcpus(uint32_t vcpus) {
  rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return ErrnoStatus("getrlimit(RLIMIT_NOFILE)");
  if (limit.rlim_cur == RLIM_INFINITY) return absl::OkStatus();
  const uint64_t needed = OpenFds() + kFdsBesidesVcpus + vcpus;
  if (needed > limit.rlim_cur) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "--vcpus=%u needs about %u file descriptors (one per vCPU), more than this "
        "process may open (RLIMIT_NOFILE %u; raise it with ulimit -n)",
        vcpus, needed, static_cast<uint64_t>(limit.rlim_cur)));
  }
  return absl::OkStatus();
}

}  // namespace hv
