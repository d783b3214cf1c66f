// RealHaxmSys() for the POSIX port of HAXM (/dev/HAX): open(2), ioctl(2),
// close(2), and the kick signal of hypervisor/os/signals.h.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "hypervisor/haxm/haxm_sys.h"
#include "hypervisor/os/signals.h"

namespace hv {
namespace {

static_assert(sizeof(pthread_t) <= sizeof(uint64_t),
              "a pthread_t must fit the seam's thread identifier");

class PosixHaxmSys final : public DriverHaxmSys {
 public:
  const haxm_abi::Platform& platform() const override {
    return haxm_abi::PosixPlatform();
  }

  int Open(const std::string& path, HaxmHandle* handle) override {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return errno;
    *handle = fd;
    return 0;
  }

  int Ioctl(HaxmHandle handle, uint32_t code, void* buffer, uint32_t in_size,
            uint32_t out_size) override {
    (void)in_size;
    (void)out_size;
    // The size is encoded in `code`; the driver copies that much.
    if (::ioctl(static_cast<int>(handle), static_cast<unsigned long>(code),
                buffer) < 0) {
      return errno;
    }
    return 0;
  }

  int Close(HaxmHandle handle) override {
    return ::close(static_cast<int>(handle)) < 0 ? errno : 0;
  }

  absl::Status PrepareKick() override { return InstallKickSignalHandler(); }

  uint64_t CurrentThread() override {
    const pthread_t self = pthread_self();
    uint64_t id = 0;
    std::memcpy(&id, &self, sizeof(self));
    return id;
  }

  int SignalThread(uint64_t thread) override {
    pthread_t target;
    std::memcpy(&target, &thread, sizeof(target));
    return pthread_kill(target, KickSignal());
  }
};

}  // namespace

HaxmSys* RealHaxmSys() {
  static PosixHaxmSys* const sys = new PosixHaxmSys;
  return sys;
}

}  // namespace hv
