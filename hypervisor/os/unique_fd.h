// UniqueFd: sole ownership of a POSIX file descriptor, closed on destruction.
//
// On Windows the descriptor is a kernel object HANDLE's value (a section, an
// event, a device opened with OpenFile), closed with CloseHandle: Windows
// guarantees that handle values fit in 32 bits (only the lower 32 bits are
// significant, so 64-bit processes may truncate and sign-extend them), and
// -1 (INVALID_HANDLE_VALUE) is still "none". hypervisor/os/windows_handle.h
// converts between the two forms.
//
// Example:
//   ASSIGN_OR_RETURN(hv::UniqueFd kvm, hv::OpenFile("/dev/kvm", O_RDWR));
//   int version = ioctl(kvm.get(), KVM_GET_API_VERSION, 0);
#ifndef HV_HYPERVISOR_OS_UNIQUE_FD_H_
#define HV_HYPERVISOR_OS_UNIQUE_FD_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hv {

class UniqueFd {
 public:
  UniqueFd() = default;
  // Takes ownership of `fd` (which may be -1 for "none").
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // UniqueFd::release(): gives up ownership and returns the descriptor.
  int release();
  // UniqueFd::reset(): closes the owned descriptor (if any), then owns `fd`.
  void reset(int fd = -1);

  // UniqueFd::Duplicate(): a new descriptor for the same open file
  // (F_DUPFD_CLOEXEC; DuplicateHandle on Windows).
  absl::StatusOr<UniqueFd> Duplicate() const;

 private:
  int fd_ = -1;
};

// DuplicateFd(fd): a new descriptor, owned by the caller, for the open file
// `fd` refers to (F_DUPFD_CLOEXEC; on Windows a non-inheritable
// DuplicateHandle with the same access).
absl::StatusOr<UniqueFd> DuplicateFd(int fd);

// OpenFile(path, flags): open(2) with O_CLOEXEC added; the error names the
// path ("open /dev/kvm: No such file or directory"). On Windows,
// CreateFileW with the access O_ACCMODE asks for, shared read/write, opening
// an existing file or device (O_CREAT, O_EXCL, O_TRUNC choose the creation
// disposition as open(2) would), not inheritable.
absl::StatusOr<UniqueFd> OpenFile(absl::string_view path, int flags);

}  // namespace hv

#endif  // HV_HYPERVISOR_OS_UNIQUE_FD_H_
