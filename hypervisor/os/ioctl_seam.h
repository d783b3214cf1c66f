// IoctlSeam: the system-call seam every ioctl backend (KVM, Geniezone,
// Gunyah) reaches its kernel through: open, ioctl, mmap, munmap, close.
//
// Each backend names its own seam as a thin subclass (KvmSys, GeniezoneSys,
// GunyahSys), so a fake of one kernel cannot be handed to another backend,
// and gets its real seam from RealSeam<Seam>(): a KernelSeam<Seam> whose
// calls all forward to the one kernel-calling implementation in
// ioctl_seam.cc, at the cost of one indirect call. Tests wrap a seam to
// count and fail calls (hypervisor/kvm/kvm_fault_injection.h) or implement
// it as an ABI-faithful fake (testing/fakes/). Calls return what the system
// call returns and set errno as it does. OpenSeamFd() opens a backend's
// device node through its seam.
//
// Example:
//   class KvmSys : public hv::IoctlSeam {};
//   KvmSys* sys = hv::RealSeam<KvmSys>();
//   int fd = sys->Open("/dev/kvm", O_RDWR | O_CLOEXEC);
//   int version = sys->Ioctl(fd, KVM_GET_API_VERSION, 0);
//   sys->Close(fd);
#ifndef HV_HYPERVISOR_OS_IOCTL_SEAM_H_
#define HV_HYPERVISOR_OS_IOCTL_SEAM_H_

#include <fcntl.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/seam_fd.h"

namespace hv {

class IoctlSeam {
 public:
  virtual ~IoctlSeam() = default;

  // IoctlSeam::Open(): open(2).
  virtual int Open(const char* path, int flags) = 0;
  // IoctlSeam::Ioctl(): ioctl(2); `arg` is an integer or a pointer's bits.
  virtual int Ioctl(int fd, unsigned long request, uintptr_t arg) = 0;
  // IoctlSeam::Mmap(): mmap(2); MAP_FAILED on error.
  virtual void* Mmap(void* addr, size_t length, int prot, int flags, int fd,
                     off_t offset) = 0;
  // IoctlSeam::Munmap(): munmap(2).
  virtual int Munmap(void* addr, size_t length) = 0;
  // IoctlSeam::Close(): close(2). Linux releases the descriptor even when
  // close reports an error, so callers never retry.
  virtual int Close(int fd) = 0;

  // IoctlSeam::IoctlPtr(): Ioctl() with a pointer argument.
  int IoctlPtr(int fd, unsigned long request, const void* arg) {
    return Ioctl(fd, request, reinterpret_cast<uintptr_t>(arg));
  }
};

// HV_IOCTL_SEAM_OVERRIDES: declares IoctlSeam's five calls in the class
// body of a seam's implementation (a wrapper or a fake of the kernel).
#define HV_IOCTL_SEAM_OVERRIDES                                    \
  int Open(const char* path, int flags) override;                  \
  int Ioctl(int fd, unsigned long request, uintptr_t arg) override; \
  void* Mmap(void* addr, size_t length, int prot, int flags, int fd, \
             off_t offset) override;                               \
  int Munmap(void* addr, size_t length) override;                  \
  int Close(int fd) override;

// The kernel's own calls, each written once; KernelSeam forwards to them.
namespace ioctl_seam_internal {
int KernelOpen(const char* path, int flags);
int KernelIoctl(int fd, unsigned long request, uintptr_t arg);
void* KernelMmap(void* addr, size_t length, int prot, int flags, int fd,
                 off_t offset);
int KernelMunmap(void* addr, size_t length);
int KernelClose(int fd);
}  // namespace ioctl_seam_internal

// KernelSeam<Seam>: the `Seam` (IoctlSeam or a backend's subclass of it)
// that calls the kernel.
template <typename Seam>
class KernelSeam final : public Seam {
  static_assert(std::is_base_of_v<IoctlSeam, Seam>,
                "KernelSeam needs an IoctlSeam");

 public:
  int Open(const char* path, int flags) override {
    return ioctl_seam_internal::KernelOpen(path, flags);
  }
  int Ioctl(int fd, unsigned long request, uintptr_t arg) override {
    return ioctl_seam_internal::KernelIoctl(fd, request, arg);
  }
  void* Mmap(void* addr, size_t length, int prot, int flags, int fd,
             off_t offset) override {
    return ioctl_seam_internal::KernelMmap(addr, length, prot, flags, fd,
                                           offset);
  }
  int Munmap(void* addr, size_t length) override {
    return ioctl_seam_internal::KernelMunmap(addr, length);
  }
  int Close(int fd) override { return ioctl_seam_internal::KernelClose(fd); }
};

// IoctlName: an ioctl's request number and the name messages and fault
// plans give it. Each backend lists the ioctls it makes in a table of these
// (KvmIoctlName, GeniezoneIoctlName, GunyahIoctlName).
struct IoctlName {
  unsigned long request;
  const char* name;
};

// FindIoctlName(): the name `names` gives `request`, nullptr when none does.
template <size_t N>
const char* FindIoctlName(unsigned long request, const IoctlName (&names)[N]) {
  for (const IoctlName& entry : names) {
    if (entry.request == request) return entry.name;
  }
  return nullptr;
}

// UnnamedIoctl(): "ioctl 0x..." (the request in hex), the name of a request
// no table names.
std::string UnnamedIoctl(unsigned long request);

// NameIoctl(): FindIoctlName(), or UnnamedIoctl() when no entry names
// `request`.
template <size_t N>
std::string NameIoctl(unsigned long request, const IoctlName (&names)[N]) {
  const char* name = FindIoctlName(request, names);
  return name != nullptr ? name : UnnamedIoctl(request);
}

// RealSeam<Seam>(): the process-wide KernelSeam<Seam>, never destroyed.
template <typename Seam>
Seam* RealSeam() {
  static Seam* const seam = new KernelSeam<Seam>;
  return seam;
}

// OpenSeamFd(): the device node at `path` opened read-write and
// close-on-exec through `seam`, as a SeamFd that closes through it too; or
// the errno as "open <path>: <errno text>". How every ioctl backend opens
// /dev/kvm, /dev/gzvm or /dev/gunyah.
template <typename Seam>
absl::StatusOr<SeamFd<Seam>> OpenSeamFd(Seam* seam, absl::string_view path) {
  const std::string path_string(path);
  SeamFd<Seam> fd(seam, seam->Open(path_string.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(absl::StrCat("open ", path));
  return fd;
}

}  // namespace hv

#endif  // HV_HYPERVISOR_OS_IOCTL_SEAM_H_
