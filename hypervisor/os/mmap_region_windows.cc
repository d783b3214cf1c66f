// MmapRegion on Windows: anonymous regions are committed VirtualAlloc memory
// (zero-filled on first touch), fd regions are MapViewOfFile views of a
// section handle. Which of the two a region is is asked of the memory
// manager (VirtualQuery) when it is released, so the header stays the same
// on every platform.
#include <windows.h>

#include "absl/strings/str_format.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/mmap_region_checks.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/os/windows_handle.h"

namespace hv {
namespace {

using internal_mmap::CheckSize;

// The page protection for hv's kProt* bits (Windows has no write-only or
// execute-only pages; write implies read).
DWORD PageProtection(int prot) {
  const bool read = prot & kProtRead, write = prot & kProtWrite,
             exec = prot & kProtExec;
  if (exec) {
    if (write) return PAGE_EXECUTE_READWRITE;
    return read ? PAGE_EXECUTE_READ : PAGE_EXECUTE;
  }
  if (write) return PAGE_READWRITE;
  return read ? PAGE_READONLY : PAGE_NOACCESS;
}

}  // namespace

namespace internal_mmap {

// A view (MEM_MAPPED) or an allocation, as the memory manager says.
void Unmap(uint8_t* data, size_t) {
  MEMORY_BASIC_INFORMATION info = {};
  if (::VirtualQuery(data, &info, sizeof(info)) == sizeof(info) &&
      info.Type == MEM_MAPPED) {
    ::UnmapViewOfFile(data);
  } else {
    ::VirtualFree(data, 0, MEM_RELEASE);
  }
}

}  // namespace internal_mmap

size_t HostPageSize() {
  static const size_t page_size = [] {
    SYSTEM_INFO info;
    ::GetSystemInfo(&info);
    return static_cast<size_t>(info.dwPageSize);
  }();
  return page_size;
}

absl::StatusOr<MmapRegion> MmapRegion::Anonymous(size_t size, int prot) {
  RETURN_IF_ERROR(CheckSize("mmap anonymous", size));
  void* p = ::VirtualAlloc(nullptr, size, MEM_RESERVE | MEM_COMMIT,
                           PageProtection(prot));
  if (p == nullptr) {
    return LastErrorStatus(
        absl::StrFormat("VirtualAlloc anonymous %#x bytes", size));
  }
  return MmapRegion(static_cast<uint8_t*>(p), size, prot);
}

absl::StatusOr<MmapRegion> MmapRegion::FromFd(int fd, uint64_t fd_offset,
                                              size_t size, int prot) {
  RETURN_IF_ERROR(internal_mmap::CheckFromFd(fd, fd_offset, size));
  // A view is readable or read-write (FILE_MAP_WRITE includes reading);
  // other protections are applied to the view afterwards.
  DWORD access = (prot & kProtWrite) ? FILE_MAP_WRITE : FILE_MAP_READ;
  if (prot & kProtExec) access |= FILE_MAP_EXECUTE;
  void* p = ::MapViewOfFile(FdToHandle(fd), access,
                            static_cast<DWORD>(fd_offset >> 32),
                            static_cast<DWORD>(fd_offset & 0xFFFFFFFFu), size);
  if (p == nullptr) {
    return LastErrorStatus(absl::StrFormat(
        "MapViewOfFile fd %d offset %#x size %#x", fd, fd_offset, size));
  }
  MmapRegion region(static_cast<uint8_t*>(p), size, prot);
  if ((prot & (kProtRead | kProtWrite | kProtExec)) == 0) {
    DWORD old = 0;
    if (!::VirtualProtect(p, size, PAGE_NOACCESS, &old)) {
      // `region` unmaps the view on return.
      return LastErrorStatus(absl::StrFormat(
          "VirtualProtect fd %d view to no access", fd));
    }
  }
  return region;
}

bool MmapRegion::CanRemapInPlace() { return false; }

absl::Status MmapRegion::MapFdAt(size_t offset, size_t size, int fd,
                                 uint64_t fd_offset, int prot) {
  RETURN_IF_ERROR(CheckFdMapping(offset, size, fd_offset));
  return absl::UnimplementedError(absl::StrFormat(
      "mmap fd %d at region offset %#x size %#x: Windows cannot replace part "
      "of a mapping in place (no MAP_FIXED); the region is unchanged",
      fd, offset, size));
}

absl::Status MmapRegion::MapAnonymousAt(size_t offset, size_t size, int prot) {
  RETURN_IF_ERROR(CheckRange("mmap anonymous into region", offset, size));
  return absl::UnimplementedError(absl::StrFormat(
      "mmap anonymous at region offset %#x size %#x: Windows cannot replace "
      "part of a mapping in place (no MAP_FIXED); the region is unchanged",
      offset, size));
}

}  // namespace hv
