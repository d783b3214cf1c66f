// GzvmFd: a file descriptor the Geniezone backend opened through its GzvmSys
// seam, closed through the same seam on destruction (so a fake sees every
// close and never meets a real close of one of its descriptors).
//
// Example:
//   hv::GzvmFd vm(sys, sys->Ioctl(device_fd, hv::gzvm_abi::kCreateVm, 0));
//   if (!vm.valid()) return hv::ErrnoStatus("GZVM_CREATE_VM");
#ifndef HV_HYPERVISOR_GENIEZONE_GZVM_FD_H_
#define HV_HYPERVISOR_GENIEZONE_GZVM_FD_H_

#include <utility>

#include "hypervisor/geniezone/gzvm_sys.h"

namespace hv {

class GzvmFd {
 public:
  GzvmFd() = default;
  // Takes ownership of `fd` (-1 for none); `sys` must outlive this object.
  GzvmFd(GzvmSys* sys, int fd) : sys_(sys), fd_(fd) {}
  GzvmFd(GzvmFd&& other) noexcept
      : sys_(other.sys_), fd_(std::exchange(other.fd_, -1)) {}
  GzvmFd& operator=(GzvmFd&& other) noexcept {
    if (this != &other) {
      Reset();
      sys_ = other.sys_;
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  GzvmFd(const GzvmFd&) = delete;
  GzvmFd& operator=(const GzvmFd&) = delete;
  ~GzvmFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  void Reset() {
    // A failed close still releases the descriptor on Linux; nothing to do.
    if (fd_ >= 0) sys_->Close(fd_);
    fd_ = -1;
  }

  GzvmSys* sys_ = nullptr;
  int fd_ = -1;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_GENIEZONE_GZVM_FD_H_
