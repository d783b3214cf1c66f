// Virtio PCI capabilities (virtio 1.2 §4.1.4 "Virtio Structure PCI
// Capabilities"): vendor-specific PCI capabilities that tell the driver in
// which BAR, at which offset and with which length each virtio structure
// lives. The shared-memory capability (§4.1.4.7, cfg_type 8) uses the
// 64-bit form, virtio_pci_cap64, so that offset and length may exceed
// 4 GiB; its `id` is the device's shmid.
//
// Example:
//   VirtioPciCap64 cap = MakeSharedMemoryCap(/*bar=*/2, /*shmid=*/1,
//                                            /*offset=*/0, 1 << 30);
//   ASSIGN_OR_RETURN(uint8_t at, config->AddCapability(CapBytes(cap)));
#ifndef HV_VIRTIO_VIRTIO_PCI_CAP_H_
#define HV_VIRTIO_VIRTIO_PCI_CAP_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hv::virtio {

// virtio 1.2 §4.1.4: values of virtio_pci_cap.cfg_type.
enum class VirtioPciCapType : uint8_t {
  kCommonCfg = 1,
  kNotifyCfg = 2,
  kIsrCfg = 3,
  kDeviceCfg = 4,
  kPciCfg = 5,
  kSharedMemoryCfg = 8,  // VIRTIO_PCI_CAP_SHARED_MEMORY_CFG, §4.1.4.7
  kVendorCfg = 9,
};

// virtio 1.2 §4.1.4: struct virtio_pci_cap. All multi-byte fields are
// little endian (hv only runs on little-endian hosts, checked below).
struct VirtioPciCap {
  uint8_t cap_vndr = 0;  // PCI_CAP_ID_VNDR (0x09)
  uint8_t cap_next = 0;
  uint8_t cap_len = 0;   // length of this structure, including the header
  uint8_t cfg_type = 0;  // VirtioPciCapType
  uint8_t bar = 0;       // BAR index, 0..5
  uint8_t id = 0;        // distinguishes capabilities of one type (shmid)
  uint8_t padding[2] = {0, 0};
  uint32_t offset = 0;   // offset within the BAR
  uint32_t length = 0;   // length of the structure in bytes
};

// virtio 1.2 §4.1.4: struct virtio_pci_cap64.
struct VirtioPciCap64 {
  VirtioPciCap cap;
  uint32_t offset_hi = 0;  // bits 63:32 of the offset
  uint32_t length_hi = 0;  // bits 63:32 of the length
};

static_assert(sizeof(VirtioPciCap) == 16, "virtio 1.2 §4.1.4");
static_assert(offsetof(VirtioPciCap, cfg_type) == 3, "virtio 1.2 §4.1.4");
static_assert(offsetof(VirtioPciCap, bar) == 4, "virtio 1.2 §4.1.4");
static_assert(offsetof(VirtioPciCap, id) == 5, "virtio 1.2 §4.1.4");
static_assert(offsetof(VirtioPciCap, offset) == 8, "virtio 1.2 §4.1.4");
static_assert(offsetof(VirtioPciCap, length) == 12, "virtio 1.2 §4.1.4");
static_assert(sizeof(VirtioPciCap64) == 24, "virtio 1.2 §4.1.4");
static_assert(offsetof(VirtioPciCap64, offset_hi) == 16, "virtio 1.2 §4.1.4");
static_assert(offsetof(VirtioPciCap64, length_hi) == 20, "virtio 1.2 §4.1.4");
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "virtio structures are little endian; hv encodes them natively");

// MakeSharedMemoryCap(): the shared-memory capability (§4.1.4.7) for shmid
// `shmid`: `length` bytes at `offset` in BAR `bar`.
VirtioPciCap64 MakeSharedMemoryCap(uint8_t bar, uint8_t shmid,
                                   uint64_t offset, uint64_t length);

// CapBytes(): the capability's bytes as they appear in config space.
std::vector<uint8_t> CapBytes(const VirtioPciCap64& cap);

}  // namespace hv::virtio

#endif  // HV_VIRTIO_VIRTIO_PCI_CAP_H_
