// Helpers for issuing KVM ioctls through a KvmSys and turning failures into
// a Status that names the ioctl (and, for KVM_CHECK_EXTENSION, the cap).
// Internal to hypervisor/kvm.
//
// Example:
//   RETURN_IF_ERROR(hv::KvmIoctl(sys, vm_fd, KVM_IRQ_LINE, &level, "KVM_IRQ_LINE"));
//   ASSIGN_OR_RETURN(int slots, hv::KvmCheckExtension(sys, fd, KVM_CAP_NR_MEMSLOTS,
//                                                      "KVM_CAP_NR_MEMSLOTS"));
#ifndef HV_HYPERVISOR_KVM_KVM_IOCTL_H_
#define HV_HYPERVISOR_KVM_KVM_IOCTL_H_

#include <cerrno>

#include "absl/types/span.h"
#include "hypervisor/os/status_macros.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "hypervisor/kvm/kvm_abi.h"
#include "hypervisor/kvm/kvm_sys.h"
#include "hypervisor/os/errno_status.h"

namespace hv {

// KvmIoctl(): issues `request` with a pointer argument; an error names
// `operation`.
inline absl::Status KvmIoctl(KvmSys* sys, int fd, unsigned long request,
                             const void* arg, absl::string_view operation) {
  if (sys->IoctlPtr(fd, request, arg) < 0) return ErrnoStatus(operation);
  return absl::OkStatus();
}

// KvmSetDeviceAttr(): KVM_SET_DEVICE_ATTR of attribute `attr` of `group`
// (kvm_abi::DeviceAttr) on `fd`, a device, VM or vCPU; an error names
// `operation`.
inline absl::Status KvmSetDeviceAttr(KvmSys* sys, int fd, uint32_t group,
                                     uint64_t attr, const void* value,
                                     absl::string_view operation) {
  const kvm_device_attr request = kvm_abi::DeviceAttr(group, attr, value);
  return KvmIoctl(sys, fd, KVM_SET_DEVICE_ATTR, &request, operation);
}

// KvmGetDeviceAttr(): KVM_GET_DEVICE_ATTR of attribute `attr` of `group`
// into `value`; an error names `operation`.
inline absl::Status KvmGetDeviceAttr(KvmSys* sys, int fd, uint32_t group,
                                     uint64_t attr, void* value,
                                     absl::string_view operation) {
  const kvm_device_attr request = kvm_abi::DeviceAttr(group, attr, value);
  return KvmIoctl(sys, fd, KVM_GET_DEVICE_ATTR, &request, operation);
}

// KvmIoctlValue(): issues `request` with an integer argument and returns the
// (non-negative) result.
inline absl::StatusOr<int> KvmIoctlValue(KvmSys* sys, int fd,
                                         unsigned long request, uintptr_t arg,
                                         absl::string_view operation) {
  int result = sys->Ioctl(fd, request, arg);
  if (result < 0) return ErrnoStatus(operation);
  return result;
}

// KvmCheckExtension(): KVM_CHECK_EXTENSION for `cap` (0: absent).
inline absl::StatusOr<int> KvmCheckExtension(KvmSys* sys, int fd, int cap,
                                             absl::string_view cap_name) {
  int result = sys->Ioctl(fd, KVM_CHECK_EXTENSION, cap);
  if (result < 0) {
    return ErrnoStatus(absl::StrCat("KVM_CHECK_EXTENSION(", cap_name, ")"));
  }
  return result;
}

// HV_KVM_CHECK_EXTENSION(sys, fd, KVM_CAP_X): KvmCheckExtension naming the cap.
#define HV_KVM_CHECK_EXTENSION(sys, fd, cap) \
  ::hv::KvmCheckExtension((sys), (fd), (cap), #cap)

// KvmCapQuery<Caps>: one KVM_CHECK_EXTENSION whose result goes to an int
// field of `Caps` (KvmDeviceCaps, KvmVmCaps). HV_KVM_CAP(KVM_CAP_X) gives
// the cap and its name for one: {&Caps::x, HV_KVM_CAP(KVM_CAP_X)}.
template <typename Caps>
struct KvmCapQuery {
  int Caps::*field;
  int cap;
  const char* name;
};
#define HV_KVM_CAP(cap) (cap), #cap

// KvmCheckExtensions(): KvmCheckExtension() for each of `queries`, in
// order, into `caps`; stops at the first error (which names the cap).
template <typename Caps>
absl::Status KvmCheckExtensions(KvmSys* sys, int fd,
                                absl::Span<const KvmCapQuery<Caps>> queries,
                                Caps& caps) {
  for (const KvmCapQuery<Caps>& query : queries) {
    ASSIGN_OR_RETURN(caps.*query.field,
                     KvmCheckExtension(sys, fd, query.cap, query.name));
  }
  return absl::OkStatus();
}

}  // namespace hv

#endif  // HV_HYPERVISOR_KVM_KVM_IOCTL_H_
