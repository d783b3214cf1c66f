// SeamFd<Sys>: a file descriptor a backend got through its system-call seam
// (KvmSys, GzvmSys, GunyahSys: anything with `int Close(int fd)`), closed
// through the same seam on destruction, so a wrapped seam sees every close
// and a fake never meets a real close of one of its descriptors.
//
// Example (a backend's fd type):
//   using KvmFd = hv::SeamFd<hv::KvmSys>;
//   hv::KvmFd vm(sys, sys->Ioctl(kvm_fd, KVM_CREATE_VM, 0));
//   if (!vm.valid()) return hv::ErrnoStatus("KVM_CREATE_VM");
#ifndef HV_HYPERVISOR_OS_SEAM_FD_H_
#define HV_HYPERVISOR_OS_SEAM_FD_H_

#include <utility>

namespace hv {

template <typename Sys>
class SeamFd {
 public:
  SeamFd() = default;
  // Takes ownership of `fd` (-1 for none); `sys` must outlive this object.
  SeamFd(Sys* sys, int fd) : sys_(sys), fd_(fd) {}
  SeamFd(SeamFd&& other) noexcept
      : sys_(other.sys_), fd_(std::exchange(other.fd_, -1)) {}
  SeamFd& operator=(SeamFd&& other) noexcept {
    if (this != &other) {
      Reset();
      sys_ = other.sys_;
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  SeamFd(const SeamFd&) = delete;
  SeamFd& operator=(const SeamFd&) = delete;
  ~SeamFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  void Reset() {
    // A failed close still releases the descriptor on Linux; nothing to do.
    if (fd_ >= 0) sys_->Close(fd_);
    fd_ = -1;
  }

  Sys* sys_ = nullptr;
  int fd_ = -1;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_OS_SEAM_FD_H_
