#include "linux_boot/x86_64_loader.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"
#include "linux_boot/acpi_tables.h"
#include "linux_boot/zero_page.h"

namespace hv {
namespace {

absl::Status CheckFits(const char* what, GuestAddress address, uint64_t size,
                       uint64_t ram_size) {
  if (address > ram_size || size > ram_size - address) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "linux boot: the %s [%#x, %#x) is not inside RAM [0, %#x)", what, address,
        address + size, ram_size));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status LoadLinuxX86(const BzImage& kernel, const LinuxX86Layout& layout,
                          absl::Span<const uint8_t> initrd,
                          absl::string_view cmdline, const MpTableConfig& mp,
                          absl::Span<uint8_t> low_ram) {
  if (cmdline.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("linux boot: the command line contains a NUL byte");
  }
  // Everything is built and checked before RAM is touched.
  ZeroPageParams params;
  params.cmdline_address = kLinuxCmdline;
  params.cmdline_size = static_cast<uint32_t>(cmdline.size() + 1);
  params.initrd_address = initrd.empty() ? 0 : layout.initrd;
  params.initrd_size = initrd.size();
  params.e820 = layout.e820;
  params.acpi_rsdp = kLinuxAcpiTables;
  ASSIGN_OR_RETURN(ZeroPage zero_page, BuildZeroPage(kernel, params));
  ASSIGN_OR_RETURN(std::vector<uint8_t> mp_table, BuildMpTable(mp, kLinuxMpTable));
  AcpiConfig acpi;
  acpi.cpus = mp.cpus;
  acpi.lapic_address = mp.lapic_address;
  acpi.ioapic_address = mp.ioapic_address;
  acpi.room = kLinuxAcpiTablesRoom;
  ASSIGN_OR_RETURN(std::vector<uint8_t> acpi_tables, BuildAcpiTables(acpi, kLinuxAcpiTables));
  const uint64_t size = low_ram.size();
  RETURN_IF_ERROR(CheckFits("kernel", layout.kernel, kernel.protected_mode_kernel.size(), size));
  RETURN_IF_ERROR(CheckFits("initrd", layout.initrd, initrd.size(), size));
  RETURN_IF_ERROR(CheckFits("command line", kLinuxCmdline, cmdline.size() + 1, size));
  RETURN_IF_ERROR(CheckFits("zero page", kLinuxZeroPage, zero_page.size(), size));
  RETURN_IF_ERROR(CheckFits("MP table", kLinuxMpTable, mp_table.size(), size));
  RETURN_IF_ERROR(CheckFits("ACPI tables", kLinuxAcpiTables, acpi_tables.size(), size));

  uint8_t* ram = low_ram.data();
  std::memcpy(ram + layout.kernel, kernel.protected_mode_kernel.data(),
              kernel.protected_mode_kernel.size());
  if (!initrd.empty()) std::memcpy(ram + layout.initrd, initrd.data(), initrd.size());
  std::memcpy(ram + kLinuxCmdline, cmdline.data(), cmdline.size());
  ram[kLinuxCmdline + cmdline.size()] = '\0';
  std::memcpy(ram + kLinuxZeroPage, zero_page.data(), zero_page.size());
  std::memcpy(ram + kLinuxMpTable, mp_table.data(), mp_table.size());
  std::memcpy(ram + kLinuxAcpiTables, acpi_tables.data(), acpi_tables.size());
  return absl::OkStatus();
}

}  // namespace hv
