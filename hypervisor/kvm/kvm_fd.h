// KvmFd: a file descriptor the KVM backend opened through its KvmSys seam,
// closed through the same seam on destruction (so a wrapped seam sees every
// close, and a fake never meets a real close of one of its descriptors).
//
// Example:
//   hv::KvmFd vm(sys, sys->Ioctl(kvm_fd, KVM_CREATE_VM, 0));
//   if (!vm.valid()) return hv::ErrnoStatus("KVM_CREATE_VM");
#ifndef HV_HYPERVISOR_KVM_KVM_FD_H_
#define HV_HYPERVISOR_KVM_KVM_FD_H_

#include <utility>

#include "hypervisor/kvm/kvm_sys.h"

namespace hv {

class KvmFd {
 public:
  KvmFd() = default;
  // Takes ownership of `fd` (-1 for none); `sys` must outlive this object.
  KvmFd(KvmSys* sys, int fd) : sys_(sys), fd_(fd) {}
  KvmFd(KvmFd&& other) noexcept
      : sys_(other.sys_), fd_(std::exchange(other.fd_, -1)) {}
  KvmFd& operator=(KvmFd&& other) noexcept {
    if (this != &other) {
      Reset();
      sys_ = other.sys_;
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  KvmFd(const KvmFd&) = delete;
  KvmFd& operator=(const KvmFd&) = delete;
  ~KvmFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  void Reset() {
    // A failed close still releases the descriptor on Linux; nothing to do.
    if (fd_ >= 0) sys_->Close(fd_);
    fd_ = -1;
  }

  KvmSys* sys_ = nullptr;
  int fd_ = -1;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_KVM_KVM_FD_H_
