// A synthetic bzImage for linux_boot's tests and fuzzer seeds: a setup
// header like a current x86_64 kernel's (protocol 2.15, 64-bit entry,
// relocatable, 2 MiB alignment) over a small fake kernel. Not bootable.
//
// Example:
//   hv::TestBzImage image;
//   image.protocol = 0x020b;  // too old
//   std::vector<uint8_t> bytes = image.Build();
//   hv::TestKernel good;  // a default image, parsed: good.kernel
#ifndef HV_LINUX_BOOT_BZIMAGE_FIXTURE_H_
#define HV_LINUX_BOOT_BZIMAGE_FIXTURE_H_

#include <cstdint>
#include <vector>

#include "linux_boot/bzimage.h"
#include "linux_boot/le_bytes.h"

namespace hv {

struct TestBzImage {
  uint8_t setup_sects = 3;
  uint16_t protocol = 0x020f;
  uint8_t loadflags = 0x01;      // LOADED_HIGH
  uint16_t xloadflags = 0x0003;  // XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G
  uint32_t kernel_size = 0x3000;
  uint32_t syssize_bytes = 0x3000;
  uint64_t pref_address = 0x1000000;
  uint32_t kernel_alignment = 0x200000;
  uint32_t init_size = 0x100000;
  uint32_t initrd_addr_max = 0x7fffffff;
  uint32_t cmdline_size = 2047;
  uint8_t header_end = 0x6a;  // the byte at 0x201: header ends at 0x26c

  std::vector<uint8_t> Build() const {
    const size_t setup = (setup_sects == 0 ? 5u : setup_sects + 1u) * 512u;
    std::vector<uint8_t> b(setup + kernel_size, 0);
    b[0x1f1] = setup_sects;
    StoreLe<uint32_t>(&b[0x1f4], syssize_bytes / 16);
    StoreLe<uint16_t>(&b[0x1fe], 0xaa55);
    b[0x200] = 0xeb;  // jmp short
    b[0x201] = header_end;
    b[0x202] = 'H', b[0x203] = 'd', b[0x204] = 'r', b[0x205] = 'S';
    StoreLe<uint16_t>(&b[0x206], protocol);
    b[0x211] = loadflags;
    StoreLe<uint32_t>(&b[0x214], 0x100000);
    StoreLe<uint32_t>(&b[0x22c], initrd_addr_max);
    StoreLe<uint32_t>(&b[0x230], kernel_alignment);
    b[0x234] = 1;  // relocatable
    StoreLe<uint16_t>(&b[0x236], xloadflags);
    StoreLe<uint32_t>(&b[0x238], cmdline_size);
    StoreLe<uint64_t>(&b[0x258], pref_address);
    StoreLe<uint32_t>(&b[0x260], init_size);
    for (size_t i = setup; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i);
    return b;
  }
};

// TestKernel: a default TestBzImage's bytes and what ParseBzImage() makes of
// them (the spans point into `bytes`, so keep the object where it is).
struct TestKernel {
  TestKernel() : bytes(TestBzImage().Build()), kernel(*ParseBzImage(bytes)) {}
  TestKernel(const TestKernel&) = delete;
  TestKernel& operator=(const TestKernel&) = delete;
  const std::vector<uint8_t> bytes;
  BzImage kernel;
};

}  // namespace hv

#endif  // HV_LINUX_BOOT_BZIMAGE_FIXTURE_H_
