// Arm64Image: the checked facts of a Linux arm64 kernel `Image` that a VMM
// needs to place it in guest RAM and enter it.
//
// ParseArm64Image() reads the 64-byte header at the start of the file
// (Documentation/arch/arm64/booting.rst, "Call the kernel image") and
// refuses, with INVALID_ARGUMENT naming the field, what hv cannot boot: a
// file shorter than the header, no "ARM\x64" magic at offset 56, a
// big-endian kernel, an image_size of 0 (kernels before 3.17, whose
// text_offset is not reliably little-endian), or a text_offset that would
// push the image past 2^64. A compressed file (Debian's vmlinuz is a gzip of
// the Image) has no magic there and is refused as such; decompress it first.
// The result points into `image`, which must outlive it.
//
// Example:
//   ASSIGN_OR_RETURN(hv::Arm64Image kernel, hv::ParseArm64Image(file_bytes));
//   // Copy kernel.file to a 2 MiB-aligned base + kernel.text_offset, keep
//   // kernel.footprint() bytes from there free, enter at the first byte
//   // with x0 = the device tree's address.
#ifndef HV_LINUX_BOOT_ARM64_IMAGE_H_
#define HV_LINUX_BOOT_ARM64_IMAGE_H_

#include <algorithm>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace hv {

// booting.rst: the Image is placed text_offset bytes above a 2 MiB-aligned
// base address.
inline constexpr uint64_t kArm64ImageBaseAlign = uint64_t{2} << 20;
// The header's size; the kernel is entered at its first byte.
inline constexpr uint64_t kArm64ImageHeaderSize = 64;

struct Arm64Image {
  // The page size the kernel was built for (flags bits 1-2).
  enum class PageSize { kUnspecified, k4K, k16K, k64K };

  // The whole file, copied as it is to the load address.
  absl::Span<const uint8_t> file;
  // Offset of the load address from its 2 MiB-aligned base.
  uint64_t text_offset = 0;
  // Bytes from the load address the kernel uses, .bss included.
  uint64_t image_size = 0;
  PageSize page_size = PageSize::kUnspecified;
  // flags bit 3: the base may be anywhere in RAM; clear, it should be as
  // close as possible to the start of RAM.
  bool place_anywhere = false;

  // Arm64Image::footprint(): what must stay free from the load address
  // (image_size, or the file if that is larger).
  uint64_t footprint() const { return std::max<uint64_t>(image_size, file.size()); }
};

// ParseArm64Image(): the facts of `image` (the whole file), or
// INVALID_ARGUMENT "arm64 Image: <what is wrong>".
absl::StatusOr<Arm64Image> ParseArm64Image(absl::Span<const uint8_t> image);

}  // namespace hv

#endif  // HV_LINUX_BOOT_ARM64_IMAGE_H_
