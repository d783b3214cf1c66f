#include "linux_boot/arm64_image.h"

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "linux_boot/le_bytes.h"

namespace hv {
namespace {

// Header fields (booting.rst, "Call the kernel image"), little-endian.
constexpr size_t kTextOffset = 8;
constexpr size_t kImageSize = 16;
constexpr size_t kFlags = 24;
constexpr size_t kMagic = 56;
constexpr uint32_t kMagicValue = 0x644d5241;  // "ARM\x64" read little-endian

// flags: bit 0 endianness, bits 1-2 page size, bit 3 physical placement.
constexpr uint64_t kFlagBigEndian = 1u << 0;
constexpr unsigned kFlagPageSizeShift = 1;
constexpr uint64_t kFlagPageSizeMask = 0x3;
constexpr uint64_t kFlagPlaceAnywhere = 1u << 3;

// The first two bytes of a gzip stream (RFC 1952, 2.3.1).
constexpr uint8_t kGzipId1 = 0x1f;
constexpr uint8_t kGzipId2 = 0x8b;

absl::Status Invalid(const std::string& why) {
  return absl::InvalidArgumentError("arm64 Image: " + why);
}

}  // namespace

absl::StatusOr<Arm64Image> ParseArm64Image(absl::Span<const uint8_t> image) {
  const uint8_t* bytes = image.data();
  if (image.size() < kArm64ImageHeaderSize) {
    return Invalid(absl::StrFormat("%u bytes is too short for the %u-byte Image header",
                                   image.size(), kArm64ImageHeaderSize));
  }
  if (LoadLe<uint32_t>(bytes + kMagic) != kMagicValue) {
    if (bytes[0] == kGzipId1 && bytes[1] == kGzipId2) {
      return Invalid("a gzip file (a compressed vmlinuz?); decompress it to the Image first");
    }
    return Invalid("no \"ARM\\x64\" magic at offset 56: not an arm64 kernel Image");
  }
  const uint64_t flags = LoadLe<uint64_t>(bytes + kFlags);
  if ((flags & kFlagBigEndian) != 0) {
    return Invalid("a big-endian kernel (flags bit 0); hv boots little-endian kernels");
  }
  Arm64Image kernel;
  kernel.file = image;
  kernel.text_offset = LoadLe<uint64_t>(bytes + kTextOffset);
  kernel.image_size = LoadLe<uint64_t>(bytes + kImageSize);
  if (kernel.image_size == 0) {
    return Invalid(
        "image_size is 0: a kernel older than 3.17, whose text_offset has no fixed "
        "byte order");
  }
  if (kernel.text_offset > UINT64_MAX - kArm64ImageBaseAlign - kernel.footprint()) {
    return Invalid(absl::StrFormat("text_offset %#x with image_size %#x passes 2^64",
                                   kernel.text_offset, kernel.image_size));
  }
  switch ((flags >> kFlagPageSizeShift) & kFlagPageSizeMask) {
    case 1: kernel.page_size = Arm64Image::PageSize::k4K; break;
    case 2: kernel.page_size = Arm64Image::PageSize::k16K; break;
    case 3: kernel.page_size = Arm64Image::PageSize::k64K; break;
    default: kernel.page_size = Arm64Image::PageSize::kUnspecified; break;
  }
  kernel.place_anywhere = (flags & kFlagPlaceAnywhere) != 0;
  return kernel;
}

}  // namespace hv
