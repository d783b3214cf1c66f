// GzvmFd: a descriptor the backend got through its GzvmSys seam, closed
// through that seam (hypervisor/os/seam_fd.h).
#ifndef HV_HYPERVISOR_GENIEZONE_GZVM_FD_H_
#define HV_HYPERVISOR_GENIEZONE_GZVM_FD_H_

#include "hypervisor/geniezone/gzvm_sys.h"
#include "hypervisor/os/seam_fd.h"

namespace hv {

using GzvmFd = SeamFd<GzvmSys>;

}  // namespace hv

#endif  // HV_HYPERVISOR_GENIEZONE_GZVM_FD_H_
