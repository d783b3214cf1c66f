// VcpuAArch64: the aarch64 part of a vCPU: initialisation with features,
// one-reg access to core, FP/SIMD, system and firmware registers, the PMU,
// stolen-time (PVTIME) and the MPIDR other CPUs address it by.
//
// A vCPU must be Init()ed once before it runs or its registers are touched
// (FAILED_PRECONDITION otherwise).
//
// Example:
//   hv::VcpuAArch64* cpu = vcpu->AsAArch64();
//   RETURN_IF_ERROR(cpu->Init({hv::VcpuFeature::kPsci0_2}));
//   RETURN_IF_ERROR(cpu->SetOneReg(hv::AArch64Reg::Pc(), 0x80000000));
//   RETURN_IF_ERROR(cpu->SetOneReg(hv::AArch64Reg::Pstate(), 0x3c5));  // EL1h, DAIF masked
#ifndef HV_HYPERVISOR_AARCH64_VCPU_AARCH64_H_
#define HV_HYPERVISOR_AARCH64_VCPU_AARCH64_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hypervisor/aarch64/regs.h"
#include "hypervisor/memory.h"
#include "hypervisor/vcpu.h"

namespace hv {

class VcpuAArch64 : public Vcpu {
 public:
  VcpuAArch64* AsAArch64() override { return this; }

  // VcpuAArch64::Init(): resets the vCPU to its architectural reset state
  // with `features`. A feature the hypervisor does not offer is
  // UNIMPLEMENTED naming it (ask SupportsFeature first). May be called again
  // to reset the vCPU with the same features.
  virtual absl::Status Init(absl::Span<const VcpuFeature> features) = 0;
  virtual bool SupportsFeature(VcpuFeature feature) const = 0;

  // One 64-bit register. INVALID_ARGUMENT for an id the backend cannot map,
  // NOT_FOUND for one the hypervisor does not expose.
  virtual absl::StatusOr<uint64_t> GetOneReg(AArch64Reg reg) = 0;
  virtual absl::Status SetOneReg(AArch64Reg reg, uint64_t value) = 0;

  // V0-V31 (128-bit).
  virtual absl::StatusOr<absl::uint128> GetVectorReg(uint32_t n) = 0;
  virtual absl::Status SetVectorReg(uint32_t n, absl::uint128 value) = 0;

  // VcpuAArch64::GetSystemRegs(): every system register the hypervisor
  // lists for this vCPU with its value (for snapshots), by encoding.
  virtual absl::StatusOr<std::vector<std::pair<AArch64Reg, uint64_t>>>
  GetSystemRegs() = 0;

  // VcpuAArch64::GetMpidr(): MPIDR_EL1 (affinity fields address the vCPU in
  // PSCI CPU_ON and the GIC).
  virtual absl::StatusOr<uint64_t> GetMpidr() = 0;
  // VcpuAArch64::GetPsciVersion(): what PSCI_VERSION returns to the guest.
  virtual absl::StatusOr<PsciVersion> GetPsciVersion() = 0;

  // VcpuAArch64::InitPmu(): after Init with kPmuV3 and after the GIC is
  // created and finalized (KVM initialises the PMU only on an initialised
  // vGIC): the PMU overflow interrupt (a PPI INTID, 16..31).
  virtual absl::Status InitPmu(uint32_t irq) = 0;

  // Stolen-time reporting (Arm DEN0057A). UNIMPLEMENTED where not offered.
  virtual bool HasPvtime() const = 0;
  virtual absl::Status InitPvtime(GuestAddress address) = 0;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_AARCH64_VCPU_AARCH64_H_
