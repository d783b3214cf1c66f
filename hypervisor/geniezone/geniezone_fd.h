// GeniezoneFd: a descriptor the backend got through its GeniezoneSys seam,
// closed through that seam (hypervisor/os/seam_fd.h).
#ifndef HV_HYPERVISOR_GENIEZONE_GENIEZONE_FD_H_
#define HV_HYPERVISOR_GENIEZONE_GENIEZONE_FD_H_

#include "hypervisor/geniezone/geniezone_sys.h"
#include "hypervisor/os/seam_fd.h"

namespace hv {

using GeniezoneFd = SeamFd<GeniezoneSys>;

}  // namespace hv

#endif  // HV_HYPERVISOR_GENIEZONE_GENIEZONE_FD_H_
