// The vCPU state a Linux x86_64 guest expects from its VMM: CPUID that
// tells each vCPU its APIC id and the machine's topology, the boot MSRs,
// LAPIC LINT0/LINT1 wired for virtual-wire mode, and for the bootstrap
// vCPU the 64-bit boot protocol's entry state (long mode, flat segments,
// identity-mapped page tables, rsi = the zero page, interrupts off).
// Application processors get everything but the entry state: they wait for
// INIT/SIPI from the in-kernel LAPIC, which resets their registers anyway.
//
// Example:
//   ASSIGN_OR_RETURN(auto supported, vm->GetSupportedCpuid());
//   for (uint32_t i = 0; i < cpus; ++i) {
//     ASSIGN_OR_RETURN(auto vcpu, vm->CreateVcpuX86_64(i));
//     RETURN_IF_ERROR(hv::SetupLinuxVcpu(*vcpu, i, cpus, supported, ram, layout));
//   }
#ifndef HV_LINUX_BOOT_X86_64_VCPU_H_
#define HV_LINUX_BOOT_X86_64_VCPU_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "hypervisor/x86_64/regs.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"
#include "linux_boot/x86_64_layout.h"

namespace hv {

// LinuxCpuid(): `supported` (VmX86_64::GetSupportedCpuid) made into the
// CPUID of vCPU `apic_id` of `cpus`, one core each, one package: leaf 1
// (initial APIC id, logical processor count, HTT, the hypervisor bit),
// leaf 4 (cores per package, who shares each cache level), leaves 0xB and
// 0x1F (x2APIC topology: SMT and core levels), AMD 0x80000001 (CmpLegacy),
// 0x80000008 (core count) and 0x8000001E (extended APIC id). Intel SDM Vol.
// 2A, CPUID; AMD APM Vol. 3, Appendix E.
std::vector<CpuidEntry> LinuxCpuid(absl::Span<const CpuidEntry> supported,
                                   uint32_t apic_id, uint32_t cpus);

// LinuxBootMsrs(): the MSRs a VMM sets before entering Linux: SYSENTER and
// SYSCALL targets cleared, fast strings on (IA32_MISC_ENABLE bit 0) and
// MTRRs enabled with write-back as the default type (IA32_MTRR_DEF_TYPE).
std::vector<MsrEntry> LinuxBootMsrs();

// WithVirtualWireLints(): `lapic` with LVT LINT0 set to ExtINT and LINT1
// to NMI, both unmasked (Intel MP spec 3.6.2.2; SDM Vol. 3A 10.5.1).
LapicState WithVirtualWireLints(const LapicState& lapic);

// SetupLinuxVcpu(): all of the above on `vcpu` (index `index` of `cpus`,
// APIC id = index); on vCPU 0 also the entry state for `layout`, writing
// the GDT and page tables into `ram` (guest RAM from address 0) at
// kLinuxBootTables. The kernel, zero page and command line must already
// be in RAM. Errors name the step and the vCPU.
absl::Status SetupLinuxVcpu(VcpuX86_64& vcpu, uint32_t index, uint32_t cpus,
                            absl::Span<const CpuidEntry> supported_cpuid,
                            absl::Span<uint8_t> ram,
                            const LinuxX86Layout& layout);

}  // namespace hv

#endif  // HV_LINUX_BOOT_X86_64_VCPU_H_
