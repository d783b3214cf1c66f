// KvmFd: a descriptor the backend got through its KvmSys seam, closed
// through that seam (hypervisor/os/seam_fd.h).
#ifndef HV_HYPERVISOR_KVM_KVM_FD_H_
#define HV_HYPERVISOR_KVM_KVM_FD_H_

#include "hypervisor/kvm/kvm_sys.h"
#include "hypervisor/os/seam_fd.h"

namespace hv {

using KvmFd = SeamFd<KvmSys>;

}  // namespace hv

#endif  // HV_HYPERVISOR_KVM_KVM_FD_H_
