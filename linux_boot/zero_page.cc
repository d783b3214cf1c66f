#include "linux_boot/zero_page.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "linux_boot/le_bytes.h"

namespace hv {
namespace {

// struct boot_params offsets (zero-page.rst, boot.rst).
constexpr uint32_t kAcpiRsdpAddr = 0x070;
constexpr uint32_t kExtRamdiskImage = 0x0c0;
constexpr uint32_t kExtRamdiskSize = 0x0c4;
constexpr uint32_t kExtCmdLinePtr = 0x0c8;
constexpr uint32_t kE820Entries = 0x1e8;
constexpr uint32_t kTypeOfLoader = 0x210;
constexpr uint32_t kRamdiskImage = 0x218;
constexpr uint32_t kRamdiskSize = 0x21c;
constexpr uint32_t kCmdLinePtr = 0x228;
constexpr uint32_t kE820Table = 0x2d0;
constexpr uint32_t kE820EntrySize = 20;  // u64 addr, u64 size, u32 type

// boot.rst, type_of_loader: "If your boot loader does not have an assigned
// id ... enter 0xFF here."
constexpr uint8_t kUndefinedLoader = 0xff;

absl::Status Invalid(const std::string& why) {
  return absl::InvalidArgumentError("zero page: " + why);
}

absl::Status CheckE820(const std::vector<E820Entry>& e820) {
  if (e820.empty()) return Invalid("the memory map is empty");
  if (e820.size() > kMaxE820Entries) {
    return Invalid(absl::StrFormat("%u memory map entries; the zero page holds %u",
                                   e820.size(), kMaxE820Entries));
  }
  for (size_t i = 0; i < e820.size(); ++i) {
    const E820Entry& entry = e820[i];
    if (entry.size == 0 || entry.address + entry.size < entry.address) {
      return Invalid(absl::StrFormat(
          "memory map entry %u ([%#x, +%#x)) is empty or wraps", i,
          entry.address, entry.size));
    }
    if (i > 0) {
      const E820Entry& previous = e820[i - 1];
      if (entry.address < previous.address + previous.size) {
        return Invalid(absl::StrFormat(
            "memory map entries [%#x, %#x) and [%#x, %#x) overlap or are "
            "out of order",
            previous.address, previous.address + previous.size, entry.address,
            entry.address + entry.size));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ZeroPage> BuildZeroPage(const BzImage& kernel,
                                       const ZeroPageParams& params) {
  if (params.cmdline_size == 0) {
    return Invalid("the command line needs at least its terminating NUL");
  }
  if (params.cmdline_size - 1 > kernel.cmdline_max) {
    return Invalid(absl::StrFormat(
        "the command line is %u bytes; this kernel takes at most %u",
        params.cmdline_size - 1, kernel.cmdline_max));
  }
  if (params.initrd_size > 0) {
    const uint64_t last = params.initrd_address + params.initrd_size - 1;
    if (last < params.initrd_address) {
      return Invalid("the initrd's range wraps around");
    }
    if (!kernel.initrd_above_4g && last > kernel.initrd_addr_max) {
      return Invalid(absl::StrFormat(
          "the initrd ends at %#x, above this kernel's initrd_addr_max %#x",
          last, kernel.initrd_addr_max));
    }
  }
  if (kernel.setup_header.size() > kSetupHeaderLimit - kSetupHeaderOffset) {
    return Invalid("the setup header is longer than the zero page's");
  }
  if (absl::Status e820 = CheckE820(params.e820); !e820.ok()) return e820;

  ZeroPage page{};
  uint8_t* p = page.data();
  std::memcpy(p + kSetupHeaderOffset, kernel.setup_header.data(),
              kernel.setup_header.size());
  p[kTypeOfLoader] = kUndefinedLoader;
  StoreLe<uint32_t>(p + kCmdLinePtr,
                    static_cast<uint32_t>(params.cmdline_address));
  StoreLe<uint32_t>(p + kExtCmdLinePtr,
                    static_cast<uint32_t>(params.cmdline_address >> 32));
  StoreLe<uint32_t>(p + kRamdiskImage,
                    static_cast<uint32_t>(params.initrd_address));
  StoreLe<uint32_t>(p + kExtRamdiskImage,
                    static_cast<uint32_t>(params.initrd_address >> 32));
  StoreLe<uint32_t>(p + kRamdiskSize, static_cast<uint32_t>(params.initrd_size));
  StoreLe<uint32_t>(p + kExtRamdiskSize,
                    static_cast<uint32_t>(params.initrd_size >> 32));
  StoreLe<uint64_t>(p + kAcpiRsdpAddr, params.acpi_rsdp);
  p[kE820Entries] = static_cast<uint8_t>(params.e820.size());
  for (size_t i = 0; i < params.e820.size(); ++i) {
    uint8_t* entry = p + kE820Table + i * kE820EntrySize;
    StoreLe<uint64_t>(entry, params.e820[i].address);
    StoreLe<uint64_t>(entry + 8, params.e820[i].size);
    StoreLe<uint32_t>(entry + 16, static_cast<uint32_t>(params.e820[i].type));
  }
  return page;
}

}  // namespace hv
