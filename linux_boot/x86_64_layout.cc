#include "linux_boot/x86_64_layout.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace hv {
namespace {

constexpr uint64_t kPage = 0x1000;
constexpr GuestAddress k1MiB = 0x100000;

absl::Status Invalid(const std::string& why) {
  return absl::InvalidArgumentError("linux boot: " + why);
}

}  // namespace

std::vector<RamRange> LinuxX86RamRanges(uint64_t ram_size) {
  std::vector<RamRange> ram = {{0, std::min(ram_size, kPciHoleStart)}};
  if (ram_size > kPciHoleStart) ram.push_back({k4GiB, ram_size - kPciHoleStart});
  return ram;
}

absl::StatusOr<LinuxX86Layout> PlanLinuxX86Boot(const BzImage& kernel,
                                                uint64_t ram_size,
                                                uint64_t initrd_size,
                                                uint64_t cmdline_size) {
  if (ram_size % kPage != 0) {
    return Invalid(absl::StrFormat("RAM size %#x is not a multiple of 4 KiB",
                                   ram_size));
  }
  if (cmdline_size == 0) {
    return Invalid("the command line needs at least its terminating NUL");
  }
  const uint64_t cmdline_limit =
      std::min<uint64_t>(uint64_t{kernel.cmdline_max} + 1, kLinuxCmdlineRoom);
  if (cmdline_size > cmdline_limit) {
    return Invalid(absl::StrFormat(
        "the command line is %u bytes; at most %u fit (the kernel's "
        "cmdline_size %u, hv's %#x-byte slot)",
        cmdline_size - 1, cmdline_limit - 1, kernel.cmdline_max,
        kLinuxCmdlineRoom));
  }

  LinuxX86Layout layout;
  const uint64_t low_end = std::min(ram_size, kPciHoleStart);
  layout.kernel = kernel.pref_address;
  layout.entry = kernel.pref_address + kBzImage64BitEntryOffset;
  const uint64_t kernel_end = kernel.pref_address + kernel.init_size;
  if (kernel.pref_address < k1MiB || kernel_end > low_end) {
    return Invalid(absl::StrFormat(
        "the kernel needs [%#x, %#x) (pref_address + init_size) in RAM below "
        "%#x; %u MiB of RAM ends at %#x",
        kernel.pref_address, kernel_end, kPciHoleStart, ram_size >> 20,
        low_end));
  }

  layout.ram = LinuxX86RamRanges(ram_size);
  layout.e820.push_back({0, kLinuxMpTable, E820Type::kRam});
  layout.e820.push_back({kLinuxMpTable, kLinuxMpTableRoom, E820Type::kReserved});
  layout.e820.push_back({kLinuxAcpiTables, k1MiB - kLinuxAcpiTables, E820Type::kReserved});
  layout.e820.push_back({k1MiB, low_end - k1MiB, E820Type::kRam});
  if (layout.ram.size() > 1) {
    layout.e820.push_back({k4GiB, layout.ram[1].size, E820Type::kRam});
  }

  if (initrd_size > 0) {
    // The highest address the initrd may occupy, plus one.
    uint64_t limit = low_end;
    if (!kernel.initrd_above_4g) {
      limit = std::min<uint64_t>(limit, uint64_t{kernel.initrd_addr_max} + 1);
    }
    const uint64_t start =
        initrd_size > limit ? 0 : (limit - initrd_size) & ~(kPage - 1);
    if (initrd_size > limit || start < kernel_end) {
      return Invalid(absl::StrFormat(
          "the %u-byte initrd does not fit between the kernel's end %#x and "
          "%#x, the highest address it may reach; raise the RAM size",
          initrd_size, kernel_end, limit));
    }
    layout.initrd = start;
  }
  return layout;
}

}  // namespace hv
