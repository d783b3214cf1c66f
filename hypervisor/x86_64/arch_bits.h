// Architectural x86_64 constants that VMM code writes into a vCPU's state
// or a guest's page tables: control-register, EFER and RFLAGS bits,
// paging-structure entry bits and the MSR numbers hv sets up. Each group
// cites the Intel SDM section that defines it (AMD's APM Vol. 2 agrees for
// every bit here). Written once for hv's boot helper, the Linux boot
// set-up, hvrun, the backends and the raw KVM benchmarks.
//
// Example (long mode with 4-level paging, as hv::SetupX86Boot writes it):
//   hv::Sregs sregs;
//   sregs.cr0 = hv::x86::kCr0Pe | hv::x86::kCr0Et | hv::x86::kCr0Pg;
//   sregs.cr4 = hv::x86::kCr4Pae;
//   sregs.efer = hv::x86::kEferLme | hv::x86::kEferLma;
//   uint64_t pde = 0x200000 | hv::x86::kPtePresent | hv::x86::kPteWritable |
//                  hv::x86::kPdeLargePage;
#ifndef HV_HYPERVISOR_X86_64_ARCH_BITS_H_
#define HV_HYPERVISOR_X86_64_ARCH_BITS_H_

#include <cstdint>

namespace hv::x86 {

// The 4 KiB page (SDM Vol. 3A, 4.5).
inline constexpr uint64_t kPageSize = 0x1000;

// CR0 (SDM Vol. 3A, 2.5): protection enable, monitor coprocessor, x87
// emulation, extension type, paging.
inline constexpr uint64_t kCr0Pe = 1ull << 0;
inline constexpr uint64_t kCr0Mp = 1ull << 1;
inline constexpr uint64_t kCr0Em = 1ull << 2;
inline constexpr uint64_t kCr0Et = 1ull << 4;
inline constexpr uint64_t kCr0Pg = 1ull << 31;

// CR4 (SDM Vol. 3A, 2.5): physical-address extension, FXSAVE/FXRSTOR and
// SSE enabled, SIMD exceptions unmasked, XSAVE enabled.
inline constexpr uint64_t kCr4Pae = 1ull << 5;
inline constexpr uint64_t kCr4Osfxsr = 1ull << 9;
inline constexpr uint64_t kCr4Osxmmexcpt = 1ull << 10;
inline constexpr uint64_t kCr4Osxsave = 1ull << 18;

// IA32_EFER (SDM Vol. 3A, 2.2.1): long mode enable and active.
inline constexpr uint64_t kEferLme = 1ull << 8;
inline constexpr uint64_t kEferLma = 1ull << 10;

// RFLAGS (SDM Vol. 1, 3.4.3): bit 1 always set, interrupts enabled, I/O
// privilege level 3.
inline constexpr uint64_t kRflagsReserved1 = 1ull << 1;
inline constexpr uint64_t kRflagsIf = 1ull << 9;
inline constexpr uint64_t kRflagsIopl3 = 3ull << 12;

// Paging-structure entries (SDM Vol. 3A, 4.5, Tables 4-15 to 4-20):
// present, writable, user, and page size (a 2 MiB page in a PDE).
inline constexpr uint64_t kPtePresent = 1ull << 0;
inline constexpr uint64_t kPteWritable = 1ull << 1;
inline constexpr uint64_t kPteUser = 1ull << 2;
inline constexpr uint64_t kPdeLargePage = 1ull << 7;

// MSR numbers (SDM Vol. 4, Table 2-2).
inline constexpr uint32_t kMsrApicBase = 0x1b;
inline constexpr uint32_t kMsrSysenterCs = 0x174;
inline constexpr uint32_t kMsrSysenterEsp = 0x175;
inline constexpr uint32_t kMsrSysenterEip = 0x176;
inline constexpr uint32_t kMsrMiscEnable = 0x1a0;
inline constexpr uint32_t kMsrMtrrDefType = 0x2ff;
inline constexpr uint32_t kMsrEfer = 0xc0000080;
inline constexpr uint32_t kMsrStar = 0xc0000081;
inline constexpr uint32_t kMsrLstar = 0xc0000082;
inline constexpr uint32_t kMsrCstar = 0xc0000083;
inline constexpr uint32_t kMsrSyscallMask = 0xc0000084;
inline constexpr uint32_t kMsrKernelGsBase = 0xc0000102;

// MSR values: IA32_MISC_ENABLE's fast-strings enable (SDM Vol. 4, Table
// 2-2); IA32_MTRR_DEF_TYPE's MTRR enable and its default memory type, here
// write-back (SDM Vol. 3A, 11.11.2.1 and Table 11-8).
inline constexpr uint64_t kMiscEnableFastStrings = 1ull << 0;
inline constexpr uint64_t kMtrrEnable = 1ull << 11;
inline constexpr uint64_t kMemTypeWriteBack = 6;

}  // namespace hv::x86

#endif  // HV_HYPERVISOR_X86_64_ARCH_BITS_H_
