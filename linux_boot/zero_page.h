// The zero page (struct boot_params): what a VMM hands a Linux x86 kernel
// entered through the 64-bit boot protocol, in rsi. Built from the image's
// own setup header (ParseBzImage), the memory map, the command line and the
// initrd, with every other field zero (Documentation/arch/x86/zero-page.rst,
// boot.rst "Details of header fields").
//
// Example:
//   hv::ZeroPageParams params;
//   params.cmdline_address = 0x20000;
//   params.cmdline_size = cmdline.size() + 1;  // with its NUL
//   params.e820 = {{0, 0x9fc00, hv::E820Type::kRam},
//                  {0x100000, ram_size - 0x100000, hv::E820Type::kRam}};
//   ASSIGN_OR_RETURN(hv::ZeroPage page, hv::BuildZeroPage(kernel, params));
//   std::memcpy(ram + 0x8000, page.data(), page.size());
#ifndef HV_LINUX_BOOT_ZERO_PAGE_H_
#define HV_LINUX_BOOT_ZERO_PAGE_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "hypervisor/memory.h"
#include "linux_boot/bzimage.h"

namespace hv {

// E820 address range types (ACPI 6.5, 15.1 "INT 15H, E820H", Table 15.1).
enum class E820Type : uint32_t {
  kRam = 1,
  kReserved = 2,
  kAcpiReclaimable = 3,
  kAcpiNvs = 4,
  kUnusable = 5,
};

struct E820Entry {
  uint64_t address = 0;
  uint64_t size = 0;
  E820Type type = E820Type::kRam;
  bool operator==(const E820Entry& other) const {
    return address == other.address && size == other.size &&
           type == other.type;
  }
};

// boot_params.e820_table has room for this many entries.
inline constexpr size_t kMaxE820Entries = 128;

inline constexpr size_t kZeroPageSize = 4096;
using ZeroPage = std::array<uint8_t, kZeroPageSize>;

struct ZeroPageParams {
  // The command line, NUL-terminated, and its size including the NUL.
  GuestAddress cmdline_address = 0;
  uint32_t cmdline_size = 0;
  // The initrd; size 0 for none.
  GuestAddress initrd_address = 0;
  uint64_t initrd_size = 0;
  // The ACPI RSDP's address (acpi_rsdp_addr, protocol 2.14+); 0 for none.
  GuestAddress acpi_rsdp = 0;
  // The memory map, sorted by address, ranges not overlapping.
  std::vector<E820Entry> e820;
};

// BuildZeroPage(): the zero page for `kernel`. INVALID_ARGUMENT "zero page:
// ..." for a command line longer than the kernel takes (cmdline_max), an
// empty or unsorted, overlapping or oversized memory map, or an initrd above
// what the kernel can reach.
absl::StatusOr<ZeroPage> BuildZeroPage(const BzImage& kernel,
                                       const ZeroPageParams& params);

}  // namespace hv

#endif  // HV_LINUX_BOOT_ZERO_PAGE_H_
