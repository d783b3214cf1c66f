// Backend support (not for users of the API): a Protection as the PROT_*
// bits (kProtRead, kProtWrite of os/mmap_region.h) that mmap and
// MmapRegion take, for MemoryRegion and the backends that map host pages
// themselves (fd_mapping).
#ifndef HV_HYPERVISOR_MMAP_PROT_H_
#define HV_HYPERVISOR_MMAP_PROT_H_

#include "hypervisor/memory.h"

namespace hv {

// ToMmapProt(): the PROT_* bits for `prot`.
int ToMmapProt(Protection prot);

}  // namespace hv

#endif  // HV_HYPERVISOR_MMAP_PROT_H_
