// Where a VMM puts a Linux arm64 guest's pieces in its RAM, following
// Documentation/arch/arm64/booting.rst. Pure arithmetic:
// PlanLinuxArm64Boot() writes nothing.
//
// In RAM [ram_base, ram_base + ram_size):
//   kernel   the first 2 MiB-aligned base at or above ram_base, plus the
//            Image's text_offset; Image.footprint() bytes are kept free
//   FDT      the last 2 MiB of RAM (the device tree may be at most 2 MiB
//            and 8-byte aligned)
//   initrd   just below the FDT slot, page aligned, above the kernel
//
// Example:
//   ASSIGN_OR_RETURN(hv::LinuxArm64Layout layout,
//                    hv::PlanLinuxArm64Boot(kernel, 0x40000000, 512 << 20,
//                                           initrd.size()));
//   // kernel.file to layout.kernel, the initrd to layout.initrd, the
//   // device tree to layout.fdt; vCPU 0 enters at layout.kernel, x0 = fdt.
#ifndef HV_LINUX_BOOT_ARM64_LAYOUT_H_
#define HV_LINUX_BOOT_ARM64_LAYOUT_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "linux_boot/arm64_image.h"

namespace hv {

// booting.rst: "The device tree blob (dtb) must be placed on an 8-byte
// boundary and must not exceed 2 megabytes in size."
inline constexpr uint64_t kArm64MaxFdtSize = uint64_t{2} << 20;
inline constexpr uint64_t kArm64FdtAlign = 8;

struct LinuxArm64Layout {
  uint64_t kernel = 0;      // load address and entry point
  uint64_t kernel_end = 0;  // kernel + footprint
  uint64_t initrd = 0;      // 0 without an initrd
  uint64_t fdt = 0;         // the start of a kArm64MaxFdtSize slot
};

// PlanLinuxArm64Boot(): the layout for `kernel` and an initrd of
// `initrd_size` bytes (0 for none) in RAM [ram_base, ram_base + ram_size),
// or INVALID_ARGUMENT "linux boot: ..." naming what does not fit.
absl::StatusOr<LinuxArm64Layout> PlanLinuxArm64Boot(const Arm64Image& kernel,
                                                    uint64_t ram_base, uint64_t ram_size,
                                                    uint64_t initrd_size);

}  // namespace hv

#endif  // HV_LINUX_BOOT_ARM64_LAYOUT_H_
