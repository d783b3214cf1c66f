// GunyahFd: a descriptor the backend got through its GunyahSys seam, closed
// through that seam (hypervisor/os/seam_fd.h).
#ifndef HV_HYPERVISOR_GUNYAH_GUNYAH_FD_H_
#define HV_HYPERVISOR_GUNYAH_GUNYAH_FD_H_

#include "hypervisor/gunyah/gunyah_sys.h"
#include "hypervisor/os/seam_fd.h"

namespace hv {

using GunyahFd = SeamFd<GunyahSys>;

}  // namespace hv

#endif  // HV_HYPERVISOR_GUNYAH_GUNYAH_FD_H_
