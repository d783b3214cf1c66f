// Windows only: between a HANDLE and the int hv keeps it in (UniqueFd, the
// `int fd` of the API), and the one GetLastError -> absl::Status conversion.
//
// Windows guarantees that kernel handle values fit in 32 bits (a 64-bit
// process may truncate a handle to 32 bits and sign-extend it back), so a
// handle round-trips through an int; INVALID_HANDLE_VALUE is -1, hv's "none".
//
// Example:
//   HANDLE device = CreateFileW(L"\\\\.\\HAX", ...);
//   if (device == INVALID_HANDLE_VALUE) return hv::LastErrorStatus("open HAX");
//   hv::UniqueFd owned(hv::HandleToFd(device));
//   DeviceIoControl(hv::FdToHandle(owned.get()), ...);
#ifndef HV_HYPERVISOR_OS_WINDOWS_HANDLE_H_
#define HV_HYPERVISOR_OS_WINDOWS_HANDLE_H_

#include <windows.h>

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "hypervisor/os/win_status.h"

namespace hv {

// FdToHandle(): the HANDLE whose value `fd` holds (sign-extended, so -1
// gives INVALID_HANDLE_VALUE).
inline HANDLE FdToHandle(int fd) {
  return reinterpret_cast<HANDLE>(static_cast<intptr_t>(fd));
}

// HandleToFd(): the 32-bit value of `handle` (truncation is documented safe
// for kernel handles).
inline int HandleToFd(HANDLE handle) {
  return static_cast<int>(reinterpret_cast<intptr_t>(handle));
}

// LastErrorStatus(operation): WinErrorStatus(operation, GetLastError()).
inline absl::Status LastErrorStatus(absl::string_view operation) {
  return WinErrorStatus(operation, static_cast<uint32_t>(::GetLastError()));
}

}  // namespace hv

#endif  // HV_HYPERVISOR_OS_WINDOWS_HANDLE_H_
