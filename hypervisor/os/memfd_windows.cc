// CreateMemfd on Windows: an unnamed pagefile-backed section
// (CreateFileMapping on INVALID_HANDLE_VALUE), Windows' anonymous shareable
// memory; it reads as zeros and maps with MmapRegion::FromFd (views). Unlike
// a memfd it cannot be resized, and the kernel refuses an empty one.
#include <windows.h>

#include "absl/strings/str_cat.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/windows_handle.h"

namespace hv {

absl::StatusOr<UniqueFd> CreateMemfd(absl::string_view name, uint64_t size) {
  if (size == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CreateFileMapping ", name,
        ": a pagefile-backed section cannot be empty on Windows"));
  }
  HANDLE section = ::CreateFileMappingW(
      INVALID_HANDLE_VALUE, /*lpFileMappingAttributes=*/nullptr, PAGE_READWRITE,
      static_cast<DWORD>(size >> 32), static_cast<DWORD>(size & 0xFFFFFFFFu),
      /*lpName=*/nullptr);
  if (section == nullptr) {
    return LastErrorStatus(
        absl::StrCat("CreateFileMapping ", name, " (", size, " bytes)"));
  }
  return UniqueFd(HandleToFd(section));
}

}  // namespace hv
