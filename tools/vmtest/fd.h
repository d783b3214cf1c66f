// hv_vmtest::Fd: owns one file descriptor, closed when it goes. The vmtest
// tools call the kernel directly (no hv code), so that what they prove is
// the VM's KVM and not hv.
#ifndef HV_TOOLS_VMTEST_FD_H_
#define HV_TOOLS_VMTEST_FD_H_

#include <unistd.h>

#include <utility>

namespace hv_vmtest {

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Close();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int get() const { return fd_; }

 private:
  void Close() {
    if (fd_ >= 0) close(fd_);
  }

  int fd_;
};

}  // namespace hv_vmtest

#endif  // HV_TOOLS_VMTEST_FD_H_
