#include "linux_boot/arm64_layout.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace hv {
namespace {

constexpr uint64_t kPage = 0x1000;

absl::Status Invalid(const std::string& why) {
  return absl::InvalidArgumentError("linux boot: " + why);
}

}  // namespace

absl::StatusOr<LinuxArm64Layout> PlanLinuxArm64Boot(const Arm64Image& kernel,
                                                    uint64_t ram_base, uint64_t ram_size,
                                                    uint64_t initrd_size) {
  if (ram_size == 0 || ram_base > UINT64_MAX - ram_size) {
    return Invalid(absl::StrFormat("RAM of %#x bytes at %#x is empty or passes 2^64",
                                   ram_size, ram_base));
  }
  const uint64_t ram_end = ram_base + ram_size;
  if (ram_size < kArm64MaxFdtSize) {
    return Invalid(absl::StrFormat("RAM of %#x bytes has no room for the 2 MiB device tree slot",
                                   ram_size));
  }
  LinuxArm64Layout layout;
  layout.fdt = (ram_end - kArm64MaxFdtSize) & ~(kArm64FdtAlign - 1);
  // The base is rounded up from ram_base; ParseArm64Image() checked that
  // base + text_offset + footprint cannot pass 2^64 for any base below
  // 2^64 - 2 MiB, and ram_base + ram_size does not.
  const uint64_t base = (ram_base + kArm64ImageBaseAlign - 1) & ~(kArm64ImageBaseAlign - 1);
  if (base < ram_base || base > layout.fdt ||
      kernel.text_offset > layout.fdt - base ||
      kernel.footprint() > layout.fdt - base - kernel.text_offset) {
    return Invalid(absl::StrFormat(
        "the kernel (%#x bytes at text_offset %#x from a 2 MiB-aligned base) does not fit "
        "in RAM [%#x, %#x) below the device tree slot at %#x",
        kernel.footprint(), kernel.text_offset, ram_base, ram_end, layout.fdt));
  }
  layout.kernel = base + kernel.text_offset;
  layout.kernel_end = layout.kernel + kernel.footprint();
  if (initrd_size > 0) {
    const uint64_t room = layout.fdt - layout.kernel_end;
    if (initrd_size > room || ((layout.fdt - initrd_size) & ~(kPage - 1)) < layout.kernel_end) {
      return Invalid(absl::StrFormat(
          "the initrd (%#x bytes) does not fit between the kernel's end %#x and the device "
          "tree slot at %#x; give the guest more RAM",
          initrd_size, layout.kernel_end, layout.fdt));
    }
    layout.initrd = (layout.fdt - initrd_size) & ~(kPage - 1);
  }
  return layout;
}

}  // namespace hv
