#include "hypervisor/os/memfd.h"

#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "hypervisor/os/errno_status.h"

namespace hv {

absl::StatusOr<UniqueFd> CreateMemfd(absl::string_view name, uint64_t size) {
  std::string n(name);
  UniqueFd fd(::memfd_create(n.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) return ErrnoStatus(absl::StrCat("memfd_create ", name));
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) < 0) {
    return ErrnoStatus(absl::StrCat("ftruncate memfd ", name, " to ", size));
  }
  return fd;
}

}  // namespace hv
