// Puts an x86_64 vCPU into a known execution mode at an entry point:
// real mode, flat 32-bit protected mode, or 64-bit long mode with identity
// page tables (optionally at CPL3). For VMMs, test runners and fuzz harnesses
// that run flat binaries rather than a firmware.
//
// Example:
//   hv::X86BootOptions boot;
//   boot.mode = hv::X86Mode::kLong;
//   boot.entry = 0x100000;
//   boot.tables = 0x1000;                      // seven pages of guest RAM
//   RETURN_IF_ERROR(hv::SetupX86Boot(*vcpu, ram_span, /*ram_base=*/0, boot));
#ifndef HV_HYPERVISOR_X86_64_BOOT_H_
#define HV_HYPERVISOR_X86_64_BOOT_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "hypervisor/memory.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"

namespace hv {

enum class X86Mode { kReal, kProtected, kLong };

// ParseX86Mode(): "real", "protected" or "long".
absl::StatusOr<X86Mode> ParseX86Mode(absl::string_view name);
const char* X86ModeName(X86Mode mode);

struct X86BootOptions {
  X86Mode mode = X86Mode::kReal;
  GuestAddress entry = 0;
  GuestAddress stack = 0;  // initial rsp (real mode: relative to ss = 0)
  // Where SetupX86Boot writes the GDT and (long mode) the page tables:
  // kX86BootTablesSize bytes of guest RAM, page aligned. Unused in real mode.
  GuestAddress tables = 0x1000;
  // Long mode only: run at CPL3 with IOPL 3 (so in/out work) on user pages.
  // On nested PVM hosts only CPL3 code runs natively; CPL0 is emulated.
  bool user_mode = false;
};

// Bytes of guest RAM SetupX86Boot writes at `tables`: the GDT page and, in
// long mode, a PML4, a PDPT and four page directories mapping 4 GiB with
// 2 MiB pages: seven pages.
inline constexpr uint64_t kX86BootTablesSize = 7 * 0x1000;

// SetupX86Boot(): writes the tables into `ram` (guest RAM starting at
// guest-physical `ram_base`) and sets the vCPU's registers. Fails without
// touching RAM or the vCPU when the tables do not fit in `ram` or the entry
// is not reachable in the chosen mode.
absl::Status SetupX86Boot(VcpuX86_64& vcpu, absl::Span<uint8_t> ram,
                          GuestAddress ram_base, const X86BootOptions& options);

}  // namespace hv

#endif  // HV_HYPERVISOR_X86_64_BOOT_H_
