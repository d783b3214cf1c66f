// BzImage: the checked facts of a Linux x86 kernel image (bzImage) that a
// VMM needs to boot it through the 64-bit boot protocol.
//
// ParseBzImage() reads the setup header the image carries at offset 0x1f1
// (Documentation/arch/x86/boot.rst, "The real-mode kernel header") and
// refuses, with INVALID_ARGUMENT naming the field, anything hv cannot boot:
// a file too short for its header, no 0xAA55 boot flag or "HdrS" magic, a
// protocol older than 2.12 (no xloadflags), a kernel without a 64-bit entry
// point (XLF_KERNEL_64), a zImage (not loaded high), setup sectors or a
// 32-bit kernel size that run past the end of the file, a kernel alignment
// that is not a power of two, or an init_size smaller than the kernel.
// The result points into `image`, which must outlive it.
//
// Example:
//   ASSIGN_OR_RETURN(hv::BzImage kernel, hv::ParseBzImage(file_bytes));
//   // Copy kernel.protected_mode_kernel to kernel.pref_address, give the
//   // zero page kernel.setup_header, enter at pref_address + 0x200.
#ifndef HV_LINUX_BOOT_BZIMAGE_H_
#define HV_LINUX_BOOT_BZIMAGE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace hv {

// boot.rst: protocol 2.12 (Linux 3.8) added xloadflags, which says whether
// the kernel has the 64-bit entry point.
inline constexpr uint16_t kMinBootProtocol = 0x020c;

// boot.rst, "64-bit boot protocol": the 64-bit entry point is 0x200 bytes
// into the protected-mode kernel.
inline constexpr uint64_t kBzImage64BitEntryOffset = 0x200;

// Offsets of the setup header, the same in the image and in the zero page
// (struct boot_params, Documentation/arch/x86/zero-page.rst).
inline constexpr uint32_t kSetupHeaderOffset = 0x1f1;
// The setup header ends at 0x202 + the byte at 0x201 (boot.rst); a header
// that claims to reach past 0x290, where boot_params' next field starts, is
// refused.
inline constexpr uint32_t kSetupHeaderLimit = 0x290;

struct BzImage {
  // Boot protocol version, major in the high byte (0x020f is 2.15).
  uint16_t protocol = 0;
  // The setup header as the image has it: bytes [0x1f1, end of header). A
  // loader copies it into the zero page at the same offset.
  absl::Span<const uint8_t> setup_header;
  // The protected-mode kernel: what follows the real-mode setup sectors.
  absl::Span<const uint8_t> protected_mode_kernel;
  // Where a non-relocatable kernel must be loaded and a relocatable one
  // prefers to be (pref_address; code32_start before protocol 2.10).
  uint64_t pref_address = 0;
  // Bytes of memory the kernel needs from its load address while it
  // decompresses itself (init_size, protocol 2.10+).
  uint32_t init_size = 0;
  // A relocatable kernel may be loaded at any multiple of kernel_alignment.
  bool relocatable = false;
  uint32_t kernel_alignment = 0;
  // Highest address the initrd may end at, inclusive (initrd_addr_max), and
  // whether XLF_CAN_BE_LOADED_ABOVE_4G lifts that limit.
  uint32_t initrd_addr_max = 0;
  bool initrd_above_4g = false;
  // Longest command line in bytes, without the terminating NUL.
  uint32_t cmdline_max = 0;
};

// ParseBzImage(): the facts of `image` (the whole file), or INVALID_ARGUMENT
// "bzImage: <what is wrong>".
absl::StatusOr<BzImage> ParseBzImage(absl::Span<const uint8_t> image);

}  // namespace hv

#endif  // HV_LINUX_BOOT_BZIMAGE_H_
