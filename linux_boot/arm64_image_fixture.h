// A synthetic arm64 kernel Image for linux_boot's tests and fuzzer seeds:
// the 64-byte header of a current kernel (text_offset 0, 4 KiB pages,
// placeable anywhere) over a small fake kernel. Not bootable.
//
// Example:
//   hv::TestArm64Image image;
//   image.flags |= 1;  // big-endian: refused
//   std::vector<uint8_t> bytes = image.Build();
#ifndef HV_LINUX_BOOT_ARM64_IMAGE_FIXTURE_H_
#define HV_LINUX_BOOT_ARM64_IMAGE_FIXTURE_H_

#include <cstdint>
#include <vector>

#include "linux_boot/le_bytes.h"

namespace hv {

struct TestArm64Image {
  uint64_t text_offset = 0;
  uint64_t image_size = 0x300000;  // the file plus .bss
  uint64_t flags = 0xa;            // 4 KiB pages (1 << 1), place anywhere (1 << 3)
  uint32_t magic = 0x644d5241;     // "ARM\x64"
  size_t file_size = 0x2000;

  std::vector<uint8_t> Build() const {
    std::vector<uint8_t> b(file_size, 0);
    if (b.size() < 64) return b;
    StoreLe<uint32_t>(&b[0], 0x91005a4d);  // "MZ" and an add, as EFI-stub kernels start
    StoreLe<uint64_t>(&b[8], text_offset);
    StoreLe<uint64_t>(&b[16], image_size);
    StoreLe<uint64_t>(&b[24], flags);
    StoreLe<uint32_t>(&b[56], magic);
    return b;
  }
};

}  // namespace hv

#endif  // HV_LINUX_BOOT_ARM64_IMAGE_FIXTURE_H_
