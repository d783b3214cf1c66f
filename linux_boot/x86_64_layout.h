// Where a VMM puts a Linux x86_64 guest's pieces in guest-physical memory:
// RAM around the 32-bit PCI hole, the boot tables, zero page, command line,
// MP table, kernel and initrd, and the e820 map that tells the kernel which
// of it is RAM. Pure arithmetic: PlanLinuxX86Boot() writes nothing.
//
// The fixed low-memory layout (all below 1 MiB, identity-mapped by the boot
// page tables):
//   [0x1000, 0x8000)    GDT and page tables (hv::SetupX86Boot, long mode)
//   [0x8000, 0x9000)    zero page (rsi at entry)
//   [0x9000, 0xa000)    boot stack (rsp = 0xa000 at entry)
//   [0x20000, 0x30000)  command line
//   [0x9fc00, 0xa0000)  MP table (the last KiB of base memory, where Linux
//                       looks for it; e820 reserved)
//   [0xe0000, 0xf0000)  ACPI tables, the RSDP first (where Linux looks for
//                       it, and in the zero page; e820 reserved with the
//                       rest of the BIOS area up to 1 MiB)
// RAM is [0, min(ram_size, 3 GiB)) and, for more than 3 GiB, the rest from
// 4 GiB up; [3 GiB, 4 GiB) is left for PCI BARs, the IOAPIC and the LAPIC.
// The kernel goes at its pref_address; the initrd at the top of the RAM it
// can reach, page aligned.
//
// Example:
//   ASSIGN_OR_RETURN(hv::LinuxX86Layout layout,
//                    hv::PlanLinuxX86Boot(kernel, 256 << 20, initrd.size(),
//                                         cmdline.size() + 1));
//   for (const hv::RamRange& ram : layout.ram) { /* add a memory region */ }
#ifndef HV_LINUX_BOOT_X86_64_LAYOUT_H_
#define HV_LINUX_BOOT_X86_64_LAYOUT_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "hypervisor/memory.h"
#include "linux_boot/bzimage.h"
#include "linux_boot/zero_page.h"

namespace hv {

inline constexpr GuestAddress kLinuxBootTables = 0x1000;
inline constexpr GuestAddress kLinuxZeroPage = 0x8000;
inline constexpr GuestAddress kLinuxStackTop = 0xa000;
inline constexpr GuestAddress kLinuxCmdline = 0x20000;
inline constexpr uint64_t kLinuxCmdlineRoom = 0x10000;
inline constexpr GuestAddress kLinuxMpTable = 0x9fc00;
inline constexpr uint64_t kLinuxMpTableRoom = 0x400;
inline constexpr GuestAddress kLinuxAcpiTables = 0xe0000;
inline constexpr uint64_t kLinuxAcpiTablesRoom = 0x10000;
// The start of the 32-bit hole: PCI BARs, IOAPIC (0xfec00000) and LAPIC
// (0xfee00000) live in [kPciHoleStart, 4 GiB).
inline constexpr GuestAddress kPciHoleStart = 0xc0000000;
inline constexpr GuestAddress k4GiB = 0x100000000;

struct RamRange {
  GuestAddress address = 0;
  uint64_t size = 0;
};

struct LinuxX86Layout {
  // Guest RAM: one range, or two around the PCI hole.
  std::vector<RamRange> ram;
  std::vector<E820Entry> e820;
  GuestAddress kernel = 0;  // where protected_mode_kernel is copied
  GuestAddress entry = 0;   // kernel + 0x200 (64-bit entry point)
  GuestAddress initrd = 0;  // 0 without an initrd
};

// LinuxX86RamRanges(): where `ram_size` bytes of guest RAM go: [0,
// min(ram_size, kPciHoleStart)) and, past the hole, the rest from 4 GiB
// (PlanLinuxX86Boot's `ram`; a VMM restoring a snapshot builds the same
// ranges without the kernel).
std::vector<RamRange> LinuxX86RamRanges(uint64_t ram_size);

// PlanLinuxX86Boot(): the layout for `kernel` in `ram_size` bytes of RAM
// with an initrd of `initrd_size` bytes (0: none) and a command line of
// `cmdline_size` bytes including its NUL. INVALID_ARGUMENT naming what does
// not fit: RAM not a multiple of 4 KiB or smaller than the kernel needs
// (pref_address + init_size), a command line longer than the kernel or its
// slot takes, an initrd that does not fit between the kernel's end and the
// highest address it may occupy.
absl::StatusOr<LinuxX86Layout> PlanLinuxX86Boot(const BzImage& kernel,
                                                uint64_t ram_size,
                                                uint64_t initrd_size,
                                                uint64_t cmdline_size);

}  // namespace hv

#endif  // HV_LINUX_BOOT_X86_64_LAYOUT_H_
