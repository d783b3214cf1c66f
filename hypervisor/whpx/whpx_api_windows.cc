// LoadWhpxApi() on Windows: resolves the table from winhvplatform.dll and
// winhvemulation.dll with LoadLibraryW + GetProcAddress, once per process.
// A host without the Windows Hypervisor Platform feature (or wine, which has
// neither DLL) gets UNAVAILABLE naming the DLL or entry point and the Win32
// error, never a loader failure at start-up.
#include <windows.h>

#include <mutex>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hypervisor/os/win_status.h"
#include "hypervisor/whpx/whpx_api.h"

namespace hv {
namespace {

// UNAVAILABLE "WHPX: LoadLibraryW(winhvplatform.dll): ERROR_MOD_NOT_FOUND
// (Win32 error 126); ..." -- the error named by hv's one Win32 conversion.
absl::Status Win32Unavailable(const std::string& what, DWORD error) {
  const absl::Status status = WinErrorStatus(what, error);
  return absl::UnavailableError(absl::StrCat(
      "WHPX: ", status.message(),
      "; is the Windows Hypervisor Platform feature enabled on this host?"));
}

// Resolve(): `slot` = GetProcAddress(module, name), converted to the slot's
// function pointer type.
template <typename Fn>
absl::Status Resolve(HMODULE module, const char* dll, const char* name,
                     Fn* slot) {
  FARPROC proc = GetProcAddress(module, name);
  if (proc == nullptr) {
    return Win32Unavailable(
        absl::StrFormat("GetProcAddress(%s, %s)", dll, name), GetLastError());
  }
  // SAFETY: the exported symbol is the documented WHPX function whose
  // prototype (WINAPI = the x64 convention) the slot's type spells out in
  // whpx_api.h; FARPROC is only GetProcAddress's generic pointer type.
  *slot = reinterpret_cast<Fn>(reinterpret_cast<void*>(proc));
  return absl::OkStatus();
}

absl::StatusOr<WhpxApi> Load() {
  HMODULE platform = LoadLibraryW(L"winhvplatform.dll");
  if (platform == nullptr) {
    return Win32Unavailable("LoadLibraryW(winhvplatform.dll)", GetLastError());
  }
  HMODULE emulation = LoadLibraryW(L"winhvemulation.dll");
  if (emulation == nullptr) {
    const DWORD error = GetLastError();
    FreeLibrary(platform);
    return Win32Unavailable("LoadLibraryW(winhvemulation.dll)", error);
  }
  WhpxApi api = {};
  absl::Status status = absl::OkStatus();
  auto platform_fn = [&](const char* name, auto* slot) {
    if (status.ok()) status = Resolve(platform, "winhvplatform.dll", name, slot);
  };
  auto emulation_fn = [&](const char* name, auto* slot) {
    if (status.ok()) status = Resolve(emulation, "winhvemulation.dll", name, slot);
  };
  platform_fn("WHvGetCapability", &api.WHvGetCapability);
  platform_fn("WHvCreatePartition", &api.WHvCreatePartition);
  platform_fn("WHvSetupPartition", &api.WHvSetupPartition);
  platform_fn("WHvDeletePartition", &api.WHvDeletePartition);
  platform_fn("WHvGetPartitionProperty", &api.WHvGetPartitionProperty);
  platform_fn("WHvSetPartitionProperty", &api.WHvSetPartitionProperty);
  platform_fn("WHvMapGpaRange", &api.WHvMapGpaRange);
  platform_fn("WHvUnmapGpaRange", &api.WHvUnmapGpaRange);
  platform_fn("WHvQueryGpaRangeDirtyBitmap", &api.WHvQueryGpaRangeDirtyBitmap);
  platform_fn("WHvTranslateGva", &api.WHvTranslateGva);
  platform_fn("WHvCreateVirtualProcessor", &api.WHvCreateVirtualProcessor);
  platform_fn("WHvDeleteVirtualProcessor", &api.WHvDeleteVirtualProcessor);
  platform_fn("WHvRunVirtualProcessor", &api.WHvRunVirtualProcessor);
  platform_fn("WHvCancelRunVirtualProcessor",
              &api.WHvCancelRunVirtualProcessor);
  platform_fn("WHvGetVirtualProcessorRegisters",
              &api.WHvGetVirtualProcessorRegisters);
  platform_fn("WHvSetVirtualProcessorRegisters",
              &api.WHvSetVirtualProcessorRegisters);
  platform_fn("WHvRequestInterrupt", &api.WHvRequestInterrupt);
  emulation_fn("WHvEmulatorCreateEmulator", &api.WHvEmulatorCreateEmulator);
  emulation_fn("WHvEmulatorDestroyEmulator", &api.WHvEmulatorDestroyEmulator);
  emulation_fn("WHvEmulatorTryIoEmulation", &api.WHvEmulatorTryIoEmulation);
  emulation_fn("WHvEmulatorTryMmioEmulation", &api.WHvEmulatorTryMmioEmulation);
  // Optional (Windows 10 2004+): a DLL without them leaves the slots null.
  auto optional_platform_fn = [&](const char* name, auto* slot) {
    if (status.ok() && !Resolve(platform, "winhvplatform.dll", name, slot).ok()) {
      *slot = nullptr;
    }
  };
  optional_platform_fn("WHvGetVirtualProcessorXsaveState",
                       &api.WHvGetVirtualProcessorXsaveState);
  optional_platform_fn("WHvSetVirtualProcessorXsaveState",
                       &api.WHvSetVirtualProcessorXsaveState);
  optional_platform_fn("WHvGetVirtualProcessorInterruptControllerState2",
                       &api.WHvGetVirtualProcessorInterruptControllerState2);
  optional_platform_fn("WHvSetVirtualProcessorInterruptControllerState2",
                       &api.WHvSetVirtualProcessorInterruptControllerState2);
  if (!status.ok()) {
    FreeLibrary(emulation);
    FreeLibrary(platform);
    return status;
  }
  // Both DLLs stay loaded for the life of the process: the table points
  // into them.
  return api;
}

}  // namespace

absl::StatusOr<const WhpxApi*> LoadWhpxApi() {
  static std::mutex mutex;
  static WhpxApi* api = nullptr;  // loaded once, never freed
  std::lock_guard<std::mutex> lock(mutex);
  if (api != nullptr) return api;
  absl::StatusOr<WhpxApi> loaded = Load();
  if (!loaded.ok()) return loaded.status();
  api = new WhpxApi(*loaded);
  return api;
}

}  // namespace hv
