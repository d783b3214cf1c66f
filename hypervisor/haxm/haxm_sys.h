// HaxmSys: the one seam between the HAXM backend and the HAXM driver.
//
// Every call the backend makes to the driver goes through a HaxmSys: open a
// device path, issue an ioctl (ioctl(2) on the POSIX port, DeviceIoControl on
// Windows), take the vCPU tunnel and I/O buffer that HAXM mapped into the
// process (their user addresses come back from HAX_VCPU_IOCTL_SETUP_TUNNEL),
// interrupt the thread running a vCPU, and close. RealHaxmSys() is the host's
// implementation (haxm_sys_posix.cc or haxm_sys_windows.cc, picked by BUILD
// select()); testing/fakes/haxm_fake.h implements it as the driver does.
//
// Calls return 0 or an error number of the platform's kind: an errno value
// on POSIX, a Win32 error (GetLastError) on Windows. ErrorStatus() turns it
// into an absl::Status naming the operation.
//
// Example:
//   hv::HaxmSys* sys = hv::RealHaxmSys();
//   hv::HaxmHandle hax;
//   if (int e = sys->Open(hv::haxm_abi::SystemDevicePath(sys->platform()), &hax))
//     return sys->ErrorStatus("open /dev/HAX", e);
//   hv::haxm_abi::hax_module_version version = {};
//   int e = sys->Ioctl(hax, sys->platform().codes.version, &version, 0,
//                      sizeof(version));
#ifndef HV_HYPERVISOR_HAXM_HAXM_SYS_H_
#define HV_HYPERVISOR_HAXM_HAXM_SYS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "hypervisor/haxm/haxm_abi.h"
#include "hypervisor/os/seam_fd.h"

namespace hv {

// A driver handle: a file descriptor on POSIX, a HANDLE's bits on Windows.
// -1 is invalid on both (INVALID_HANDLE_VALUE is (HANDLE)-1).
using HaxmHandle = intptr_t;
inline constexpr HaxmHandle kInvalidHaxmHandle = -1;

// HaxmTunnel: a vCPU's tunnel page and I/O buffer in this process.
struct HaxmTunnel {
  haxm_abi::hax_tunnel* tunnel = nullptr;
  uint8_t* io_buffer = nullptr;
  size_t tunnel_size = 0;
  size_t io_buffer_size = 0;
};

class HaxmSys {
 public:
  virtual ~HaxmSys() = default;

  // HaxmSys::platform(): the ioctl numbering, device paths and error numbers
  // this seam speaks.
  virtual const haxm_abi::Platform& platform() const = 0;

  // HaxmSys::Open(): opens a HAXM device path read-write into `*handle`.
  virtual int Open(const std::string& path, HaxmHandle* handle) = 0;

  // HaxmSys::Ioctl(): issues `code` on `handle`. `buffer` carries `in_size`
  // bytes to the driver and receives up to `out_size` bytes back (HAXM's
  // Windows ioctls are METHOD_BUFFERED, one buffer both ways; the POSIX port
  // passes the pointer and the size is part of the number). `buffer` may be
  // null when both sizes are 0.
  virtual int Ioctl(HaxmHandle handle, uint32_t code, void* buffer,
                    uint32_t in_size, uint32_t out_size) = 0;

  // HaxmSys::MapTunnel(): the tunnel and I/O buffer HAXM mapped for the vCPU
  // behind `vcpu`, at the addresses `info` reports. The driver owns the
  // mapping and removes it when the vCPU handle is closed; UnmapTunnel()
  // must come before that Close().
  virtual int MapTunnel(HaxmHandle vcpu, const haxm_abi::hax_tunnel_info& info,
                        HaxmTunnel* tunnel) = 0;
  virtual void UnmapTunnel(HaxmHandle vcpu, const HaxmTunnel& tunnel) = 0;

  // HaxmSys::Close(): closes a handle; on both platforms the handle is gone
  // even when an error is reported, so callers never retry.
  virtual int Close(HaxmHandle handle) = 0;

  // HaxmSys::PrepareKick(): makes SignalThread() usable (installs the kick
  // signal handler on POSIX). Idempotent.
  virtual absl::Status PrepareKick() = 0;
  // HaxmSys::CurrentThread(): an identifier of the calling thread for
  // SignalThread().
  virtual uint64_t CurrentThread() = 0;
  // HaxmSys::SignalThread(): interrupts `thread`, which may be inside
  // HAX_VCPU_IOCTL_RUN, so that the CPU running the guest takes a VM exit:
  // POSIX sends the kick signal (delivery IPIs that CPU); Windows queues a
  // no-op user APC to the thread, as QEMU does for HAXM.
  // (HAX_VCPU_IOCTL_KICKOFF is no use: the device handle is synchronous, so
  // the I/O manager queues it behind the running HAX_VCPU_IOCTL_RUN.)
  virtual int SignalThread(uint64_t thread) = 0;

  // HaxmSys::ErrorStatus(): "operation: <text>" for `error` of this
  // platform's kind, with a matching status code.
  absl::Status ErrorStatus(absl::string_view operation, int error) const;
};

// RealHaxmSys(): the process-wide seam to the host's HAXM driver.
HaxmSys* RealHaxmSys();

// HaxmErrorStatus(): ErrorStatus() for any platform (the fake uses it too).
absl::Status HaxmErrorStatus(const haxm_abi::Platform& platform,
                             absl::string_view operation, int error);

// MapDriverTunnel(): the real seams' MapTunnel(): checks the addresses HAXM
// reported and turns them into pointers.
int MapDriverTunnel(const haxm_abi::Platform& platform,
                    const haxm_abi::hax_tunnel_info& info, HaxmTunnel* tunnel);

// DriverHaxmSys: what the two real seams (haxm_sys_posix.cc,
// haxm_sys_windows.cc) share: the driver maps a vCPU's tunnel into the
// process (MapDriverTunnel checks what it reported) and unmaps it when the
// vCPU device is closed.
class DriverHaxmSys : public HaxmSys {
 public:
  int MapTunnel(HaxmHandle, const haxm_abi::hax_tunnel_info& info,
                HaxmTunnel* tunnel) override {
    return MapDriverTunnel(platform(), info, tunnel);
  }
  void UnmapTunnel(HaxmHandle, const HaxmTunnel&) override {}
};

// HaxmHandleOwner: a handle opened through a HaxmSys, closed through the
// same seam on destruction.
using HaxmHandleOwner = SeamFd<HaxmSys, HaxmHandle>;

}  // namespace hv

#endif  // HV_HYPERVISOR_HAXM_HAXM_SYS_H_
