#include "linux_boot/bzimage.h"

#include <cstdint>

#include "absl/numeric/bits.h"
#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "linux_boot/le_bytes.h"

namespace hv {
namespace {

// Setup header fields (boot.rst, "The real-mode kernel header").
constexpr uint32_t kSetupSects = 0x1f1;
constexpr uint32_t kSysSize = 0x1f4;
constexpr uint32_t kBootFlag = 0x1fe;
constexpr uint32_t kJumpLength = 0x201;  // the jump's byte offset
constexpr uint32_t kHeaderMagic = 0x202;
constexpr uint32_t kVersion = 0x206;
constexpr uint32_t kLoadFlags = 0x211;
constexpr uint32_t kInitrdAddrMax = 0x22c;
constexpr uint32_t kKernelAlignment = 0x230;
constexpr uint32_t kRelocatableKernel = 0x234;
constexpr uint32_t kXLoadFlags = 0x236;
constexpr uint32_t kCmdlineSize = 0x238;
constexpr uint32_t kPrefAddress = 0x258;
constexpr uint32_t kInitSize = 0x260;
// The last field hv reads (init_size, 2.10+) ends here.
constexpr uint32_t kHeaderMinEnd = 0x264;

constexpr uint16_t kBootFlagValue = 0xaa55;
constexpr uint32_t kHdrS = 0x53726448;  // "HdrS" read little-endian
constexpr uint8_t kLoadedHigh = 1 << 0;  // loadflags: a bzImage
constexpr uint16_t kXlfKernel64 = 1 << 0;
constexpr uint16_t kXlfCanBeLoadedAbove4g = 1 << 1;
// setup_sects == 0 means 4 (boot.rst); the boot sector adds one.
constexpr uint32_t kDefaultSetupSects = 4;
constexpr uint32_t kSectorSize = 512;

absl::Status Invalid(const std::string& why) {
  return absl::InvalidArgumentError("bzImage: " + why);
}

}  // namespace

absl::StatusOr<BzImage> ParseBzImage(absl::Span<const uint8_t> image) {
  const uint8_t* bytes = image.data();
  if (image.size() < kHeaderMinEnd) {
    return Invalid(absl::StrFormat(
        "%u bytes is too short for a Linux setup header (at least %#x)",
        image.size(), kHeaderMinEnd));
  }
  if (LoadLe<uint16_t>(bytes + kBootFlag) != kBootFlagValue ||
      LoadLe<uint32_t>(bytes + kHeaderMagic) != kHdrS) {
    return Invalid(
        "no Linux setup header (boot flag 0xAA55 at 0x1fe and \"HdrS\" at "
        "0x202)");
  }
  BzImage kernel;
  kernel.protocol = LoadLe<uint16_t>(bytes + kVersion);
  if (kernel.protocol < kMinBootProtocol) {
    return Invalid(absl::StrFormat(
        "boot protocol %u.%02u is older than 2.12, the first that says "
        "whether the kernel has a 64-bit entry point",
        kernel.protocol >> 8, kernel.protocol & 0xff));
  }
  const uint32_t header_end = 0x202u + bytes[kJumpLength];
  if (header_end < kHeaderMinEnd || header_end > kSetupHeaderLimit) {
    return Invalid(absl::StrFormat(
        "the setup header ends at %#x (0x202 + the byte at 0x201), outside "
        "[%#x, %#x]",
        header_end, kHeaderMinEnd, kSetupHeaderLimit));
  }
  if ((bytes[kLoadFlags] & kLoadedHigh) == 0) {
    return Invalid("a zImage (loadflags.LOADED_HIGH clear); only bzImages boot");
  }
  const uint16_t xloadflags = LoadLe<uint16_t>(bytes + kXLoadFlags);
  if ((xloadflags & kXlfKernel64) == 0) {
    return Invalid("the kernel has no 64-bit entry point (XLF_KERNEL_64 clear)");
  }
  uint32_t setup_sects = bytes[kSetupSects];
  if (setup_sects == 0) setup_sects = kDefaultSetupSects;
  const uint64_t setup_size = (uint64_t{setup_sects} + 1) * kSectorSize;
  if (setup_size >= image.size()) {
    return Invalid(absl::StrFormat(
        "%u setup sectors (%#x bytes) leave no kernel in a %#x-byte file",
        setup_sects, setup_size, image.size()));
  }
  const uint64_t kernel_size = uint64_t{LoadLe<uint32_t>(bytes + kSysSize)} * 16;
  if (kernel_size == 0 || kernel_size > image.size() - setup_size) {
    return Invalid(absl::StrFormat(
        "syssize says the kernel is %#x bytes, but the file has %#x after "
        "the setup sectors",
        kernel_size, image.size() - setup_size));
  }
  kernel.setup_header = image.subspan(kSetupHeaderOffset,
                                      header_end - kSetupHeaderOffset);
  kernel.protected_mode_kernel = image.subspan(setup_size);
  kernel.pref_address = LoadLe<uint64_t>(bytes + kPrefAddress);
  kernel.init_size = LoadLe<uint32_t>(bytes + kInitSize);
  kernel.relocatable = bytes[kRelocatableKernel] != 0;
  kernel.kernel_alignment = LoadLe<uint32_t>(bytes + kKernelAlignment);
  kernel.initrd_addr_max = LoadLe<uint32_t>(bytes + kInitrdAddrMax);
  kernel.initrd_above_4g = (xloadflags & kXlfCanBeLoadedAbove4g) != 0;
  kernel.cmdline_max = LoadLe<uint32_t>(bytes + kCmdlineSize);
  if (!absl::has_single_bit(kernel.kernel_alignment)) {
    return Invalid(absl::StrFormat(
        "kernel_alignment %#x is not a power of two", kernel.kernel_alignment));
  }
  if (kernel.pref_address % kernel.kernel_alignment != 0) {
    return Invalid(absl::StrFormat(
        "pref_address %#x is not a multiple of kernel_alignment %#x",
        kernel.pref_address, kernel.kernel_alignment));
  }
  if (kernel.init_size < kernel.protected_mode_kernel.size()) {
    return Invalid(absl::StrFormat(
        "init_size %#x is smaller than the %#x-byte kernel", kernel.init_size,
        kernel.protected_mode_kernel.size()));
  }
  return kernel;
}

}  // namespace hv
