// Writes a Linux x86_64 guest's boot pieces into guest RAM, where
// PlanLinuxX86Boot() put them: the protected-mode kernel, the initrd, the
// NUL-terminated command line, the zero page (with the layout's e820 map
// and the RSDP's address), the MP table and the ACPI tables, both built for
// `cpus` vCPUs. The vCPUs are set up separately (x86_64_vcpu.h).
//
// Example:
//   ASSIGN_OR_RETURN(hv::BzImage kernel, hv::ParseBzImage(kernel_file));
//   ASSIGN_OR_RETURN(hv::LinuxX86Layout layout,
//                    hv::PlanLinuxX86Boot(kernel, ram_size, initrd.size(),
//                                         cmdline.size() + 1));
//   hv::MpTableConfig mp;
//   mp.cpus = 2;
//   RETURN_IF_ERROR(hv::LoadLinuxX86(kernel, layout, initrd, cmdline, mp, low_ram));
// (the ACPI tables take the vCPU count from `mp`).
#ifndef HV_LINUX_BOOT_X86_64_LOADER_H_
#define HV_LINUX_BOOT_X86_64_LOADER_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "linux_boot/bzimage.h"
#include "linux_boot/mp_table.h"
#include "linux_boot/x86_64_layout.h"

namespace hv {

// LoadLinuxX86(): `low_ram` is guest RAM from address 0 (layout.ram[0]).
// INVALID_ARGUMENT when a piece does not fit `low_ram`, the command line
// holds a NUL, or the zero page or MP table cannot be built; RAM is then
// unchanged.
absl::Status LoadLinuxX86(const BzImage& kernel, const LinuxX86Layout& layout,
                          absl::Span<const uint8_t> initrd,
                          absl::string_view cmdline, const MpTableConfig& mp,
                          absl::Span<uint8_t> low_ram);

}  // namespace hv

#endif  // HV_LINUX_BOOT_X86_64_LOADER_H_
