// UniqueFd on Windows: the descriptor is a kernel HANDLE's value
// (windows_handle.h), closed with CloseHandle and duplicated with
// DuplicateHandle.
#include <fcntl.h>
#include <windows.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "hypervisor/os/unique_fd.h"
#include "hypervisor/os/windows_handle.h"

namespace hv {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::CloseHandle(FdToHandle(fd_));
  fd_ = fd;
}

absl::StatusOr<UniqueFd> DuplicateFd(int fd) {
  // Negative values are "none" to hv, but -1 and -2 are also the pseudo
  // handles of the current process and thread, which DuplicateHandle would
  // happily turn into real ones.
  if (fd < 0) {
    return WinErrorStatus(absl::StrCat("DuplicateHandle(", fd, ")"),
                          ERROR_INVALID_HANDLE);
  }
  HANDLE copy = nullptr;
  HANDLE process = ::GetCurrentProcess();
  if (!::DuplicateHandle(process, FdToHandle(fd), process, &copy, 0,
                         /*bInheritHandle=*/FALSE, DUPLICATE_SAME_ACCESS)) {
    return LastErrorStatus(absl::StrCat("DuplicateHandle(", fd, ")"));
  }
  return UniqueFd(HandleToFd(copy));
}

absl::StatusOr<UniqueFd> OpenFile(absl::string_view path, int flags) {
  DWORD access = 0;
  switch (flags & O_ACCMODE) {
    case O_RDONLY: access = GENERIC_READ; break;
    case O_WRONLY: access = GENERIC_WRITE; break;
    default: access = GENERIC_READ | GENERIC_WRITE; break;
  }
  DWORD disposition = OPEN_EXISTING;
  if ((flags & O_CREAT) && (flags & O_EXCL)) {
    disposition = CREATE_NEW;
  } else if ((flags & O_CREAT) && (flags & O_TRUNC)) {
    disposition = CREATE_ALWAYS;
  } else if (flags & O_CREAT) {
    disposition = OPEN_ALWAYS;
  } else if (flags & O_TRUNC) {
    disposition = TRUNCATE_EXISTING;
  }
  // UTF-8 path to UTF-16.
  std::string utf8(path);
  int wide_len = ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS,
                                       utf8.c_str(), -1, nullptr, 0);
  if (wide_len <= 0) return LastErrorStatus(absl::StrCat("open ", path, " (UTF-8 path)"));
  std::wstring wide(static_cast<size_t>(wide_len), L'\0');
  ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.c_str(), -1,
                        &wide[0], wide_len);
  HANDLE file = ::CreateFileW(wide.c_str(), access,
                              FILE_SHARE_READ | FILE_SHARE_WRITE,
                              /*lpSecurityAttributes=*/nullptr, disposition,
                              FILE_ATTRIBUTE_NORMAL, /*hTemplateFile=*/nullptr);
  if (file == INVALID_HANDLE_VALUE) return LastErrorStatus(absl::StrCat("open ", path));
  return UniqueFd(HandleToFd(file));
}

}  // namespace hv
