// SeamFd<Sys, Handle>: a file descriptor or driver handle a backend got
// through its system-call seam (KvmSys, GeniezoneSys, GunyahSys, HaxmSys:
// anything with `Close(Handle)`), closed through the same seam on
// destruction, so a wrapped seam sees every close and a fake never meets a
// real close of one of its handles. `Handle` is int for POSIX descriptors
// and an integer holding a HANDLE's bits for Windows drivers (HaxmHandle;
// see windows_handle.h); on both -1 means none, and no real descriptor or
// kernel handle is negative.
//
// Example (a backend's fd type, in namespace hv: kvm/kvm_fd.h):
//   using KvmFd = SeamFd<KvmSys>;
//   ...
//   KvmFd vm(sys, sys->Ioctl(kvm_fd, KVM_CREATE_VM, 0));
//   if (!vm.valid()) return ErrnoStatus("KVM_CREATE_VM");
#ifndef HV_HYPERVISOR_OS_SEAM_FD_H_
#define HV_HYPERVISOR_OS_SEAM_FD_H_

#include <type_traits>
#include <utility>

namespace hv {

template <typename Sys, typename Handle = int>
class SeamFd {
  static_assert(std::is_integral_v<Handle> && std::is_signed_v<Handle>,
                "a seam's handle is a signed integer, -1 for none");

 public:
  static constexpr Handle kNone = -1;

  SeamFd() = default;
  // Takes ownership of `handle` (-1 for none); `sys` must outlive this
  // object.
  SeamFd(Sys* sys, Handle handle) : sys_(sys), handle_(handle) {}
  SeamFd(SeamFd&& other) noexcept
      : sys_(other.sys_), handle_(std::exchange(other.handle_, kNone)) {}
  SeamFd& operator=(SeamFd&& other) noexcept {
    if (this != &other) {
      Reset();
      sys_ = other.sys_;
      handle_ = std::exchange(other.handle_, kNone);
    }
    return *this;
  }
  SeamFd(const SeamFd&) = delete;
  SeamFd& operator=(const SeamFd&) = delete;
  ~SeamFd() { Reset(); }

  Handle get() const { return handle_; }
  bool valid() const { return handle_ >= 0; }

 private:
  void Reset() {
    // A failed close still releases the descriptor (Linux) or handle
    // (Windows); nothing to do.
    if (valid()) sys_->Close(handle_);
    handle_ = kNone;
  }

  Sys* sys_ = nullptr;
  Handle handle_ = kNone;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_OS_SEAM_FD_H_
