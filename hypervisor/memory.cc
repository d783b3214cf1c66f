#include "hypervisor/memory.h"

namespace hv {

const char* MemCacheTypeName(MemCacheType cache) {
  switch (cache) {
    case MemCacheType::kCacheCoherent:
      return "coherent";
    case MemCacheType::kCacheNonCoherent:
      return "non-coherent";
  }
  return "unknown";
}

std::string ProtectionName(Protection prot) {
  std::string name;
  name += prot.read ? 'r' : '-';
  name += prot.write ? 'w' : '-';
  return name;
}

}  // namespace hv
