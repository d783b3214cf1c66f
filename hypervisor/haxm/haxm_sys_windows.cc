// RealHaxmSys() for HAXM on Windows (\\.\HAX): CreateFileW, DeviceIoControl
// and CloseHandle; errors are GetLastError() values. Built only for Windows
// (BUILD select()); compiles with mingw-w64.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <string>

#include "hypervisor/haxm/haxm_sys.h"

namespace hv {
namespace {

HANDLE ToHandle(HaxmHandle handle) {
  return reinterpret_cast<HANDLE>(handle);
}

class WindowsHaxmSys final : public DriverHaxmSys {
 public:
  const haxm_abi::Platform& platform() const override {
    return haxm_abi::WindowsPlatform();
  }

  int Open(const std::string& path, HaxmHandle* handle) override {
    // HAXM's device names are ASCII; widen them byte by byte.
    std::wstring wide(path.begin(), path.end());
    HANDLE opened =
        CreateFileW(wide.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                    CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (opened == INVALID_HANDLE_VALUE) return static_cast<int>(GetLastError());
    *handle = reinterpret_cast<HaxmHandle>(opened);
    return 0;
  }

  int Ioctl(HaxmHandle handle, uint32_t code, void* buffer, uint32_t in_size,
            uint32_t out_size) override {
    DWORD returned = 0;
    // METHOD_BUFFERED: the driver reads the input and writes the output
    // through one system buffer, so one caller buffer serves both.
    if (!DeviceIoControl(ToHandle(handle), code, in_size ? buffer : nullptr,
                         in_size, out_size ? buffer : nullptr, out_size,
                         &returned, nullptr)) {
      return static_cast<int>(GetLastError());
    }
    return 0;
  }

  int Close(HaxmHandle handle) override {
    return CloseHandle(ToHandle(handle)) ? 0
                                         : static_cast<int>(GetLastError());
  }

  absl::Status PrepareKick() override { return absl::OkStatus(); }

  uint64_t CurrentThread() override { return GetCurrentThreadId(); }

  int SignalThread(uint64_t thread) override {
    HANDLE target = OpenThread(THREAD_SET_CONTEXT, FALSE,
                               static_cast<DWORD>(thread));
    if (target == nullptr) return static_cast<int>(GetLastError());
    int error = 0;
    if (QueueUserAPC(&NoOpApc, target, 0) == 0) {
      error = static_cast<int>(GetLastError());
    }
    CloseHandle(target);
    return error;
  }

 private:
  static VOID CALLBACK NoOpApc(ULONG_PTR) {}
};

}  // namespace

HaxmSys* RealHaxmSys() {
  static WindowsHaxmSys* const sys = new WindowsHaxmSys;
  return sys;
}

}  // namespace hv
