// GunyahFd: a file descriptor the Gunyah backend got through its GunyahSys
// seam, closed through the same seam on destruction (so a fake never meets a
// real close of one of its descriptors).
//
// Example:
//   hv::GunyahFd vm(sys, sys->Ioctl(device_fd, hv::gunyah_abi::kCreateVm, 0));
//   if (!vm.valid()) return hv::ErrnoStatus("GH_CREATE_VM");
#ifndef HV_HYPERVISOR_GUNYAH_GUNYAH_FD_H_
#define HV_HYPERVISOR_GUNYAH_GUNYAH_FD_H_

#include <utility>

#include "hypervisor/gunyah/gunyah_sys.h"

namespace hv {

class GunyahFd {
 public:
  GunyahFd() = default;
  // Takes ownership of `fd` (-1 for none); `sys` must outlive this object.
  GunyahFd(GunyahSys* sys, int fd) : sys_(sys), fd_(fd) {}
  GunyahFd(GunyahFd&& other) noexcept
      : sys_(other.sys_), fd_(std::exchange(other.fd_, -1)) {}
  GunyahFd& operator=(GunyahFd&& other) noexcept {
    if (this != &other) {
      Reset();
      sys_ = other.sys_;
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  GunyahFd(const GunyahFd&) = delete;
  GunyahFd& operator=(const GunyahFd&) = delete;
  ~GunyahFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  void Reset() {
    // A failed close still releases the descriptor on Linux; nothing to do.
    if (fd_ >= 0) sys_->Close(fd_);
    fd_ = -1;
  }

  GunyahSys* sys_ = nullptr;
  int fd_ = -1;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_GUNYAH_GUNYAH_FD_H_
