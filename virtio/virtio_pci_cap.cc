#include "virtio/virtio_pci_cap.h"

#include <cstring>

#include "virtio/pci_config_space.h"

namespace hv::virtio {

VirtioPciCap64 MakeSharedMemoryCap(uint8_t bar, uint8_t shmid,
                                   uint64_t offset, uint64_t length) {
  VirtioPciCap64 cap;
  cap.cap.cap_vndr = kPciCapIdVendorSpecific;
  cap.cap.cap_len = sizeof(VirtioPciCap64);
  cap.cap.cfg_type = static_cast<uint8_t>(VirtioPciCapType::kSharedMemoryCfg);
  cap.cap.bar = bar;
  cap.cap.id = shmid;
  cap.cap.offset = static_cast<uint32_t>(offset);
  cap.cap.length = static_cast<uint32_t>(length);
  cap.offset_hi = static_cast<uint32_t>(offset >> 32);
  cap.length_hi = static_cast<uint32_t>(length >> 32);
  return cap;
}

std::vector<uint8_t> CapBytes(const VirtioPciCap64& cap) {
  std::vector<uint8_t> bytes(sizeof(cap));
  // VirtioPciCap64 is a trivially copyable struct of fixed-width fields with
  // the exact layout the static_asserts pin, on a little-endian host, so its
  // object representation is the wire format.
  std::memcpy(bytes.data(), &cap, sizeof(cap));
  return bytes;
}

}  // namespace hv::virtio
