// KvmVmAArch64::GetGicState / SetGicState: a vGICv3's registers through the
// device's attribute groups (Documentation/virt/kvm/devices/arm-vgic-v3.rst):
// the distributor and redistributors 32 bits at a time, the CPU interface
// registers by encoding, and the input line levels. Which registers make
// the state comes from the GICv3 architecture (Arm IHI 0069, Section
// 12.8-12.11); the order they are written back in is the one the kernel
// needs (GICD_IIDR first, the CPU interface's SRE and CTLR before the rest).
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/strings/str_format.h"
#include "hypervisor/kvm/kvm_abi_aarch64.h"
#include "hypervisor/kvm/kvm_ioctl.h"
#include "hypervisor/kvm/kvm_vm_aarch64.h"
#include "hypervisor/os/status_macros.h"

namespace hv {
namespace {

using Register = GicState::Register;
using SysReg = GicState::SysReg;

// Distributor offsets (IHI 0069, Table 12-25).
constexpr uint32_t kGicdCtlr = 0x0000;
constexpr uint32_t kGicdIidr = 0x0008;
constexpr uint32_t kGicdStatusr = 0x0010;
constexpr uint32_t kIgroupr = 0x0080;
constexpr uint32_t kIsenabler = 0x0100;
constexpr uint32_t kIcenabler = 0x0180;
constexpr uint32_t kIspendr = 0x0200;
constexpr uint32_t kIsactiver = 0x0300;
constexpr uint32_t kIcactiver = 0x0380;
constexpr uint32_t kIpriorityr = 0x0400;
constexpr uint32_t kIcfgr = 0x0c00;
constexpr uint32_t kIgrpmodr = 0x0d00;
constexpr uint32_t kGicdIrouter = 0x6000;
// Redistributor RD_base offsets (Table 12-27) and its SGI frame (12-29),
// whose registers sit at the distributor's offsets for INTIDs 0-31.
constexpr uint32_t kGicrCtlr = 0x0000;
constexpr uint32_t kGicrStatusr = 0x0010;
constexpr uint32_t kGicrWaker = 0x0014;
constexpr uint32_t kGicrPropbaser = 0x0070;
constexpr uint32_t kGicrPendbaser = 0x0078;
constexpr uint32_t kSgiFrame = 0x10000;

// A64 system register encodings of the CPU interface (Section 12.2).
constexpr uint16_t Icc(uint32_t crn, uint32_t crm, uint32_t op2) {
  return static_cast<uint16_t>((3 << 14) | (crn << 7) | (crm << 3) | op2);
}
constexpr uint16_t kIccSre = Icc(12, 12, 5);
constexpr uint16_t kIccCtlr = Icc(12, 12, 4);
constexpr uint16_t kIccPmr = Icc(4, 6, 0);
constexpr uint16_t kIccBpr0 = Icc(12, 8, 3);
constexpr uint16_t kIccBpr1 = Icc(12, 12, 3);
constexpr uint16_t kIccIgrpen0 = Icc(12, 12, 6);
constexpr uint16_t kIccIgrpen1 = Icc(12, 12, 7);
constexpr uint16_t IccAp0r(uint32_t n) { return Icc(12, 8, 4 + n); }
constexpr uint16_t IccAp1r(uint32_t n) { return Icc(12, 9, n); }

// The attribute's MPIDR field: Aff3.Aff2.Aff1.Aff0 in bits 63:32.
uint64_t MpidrField(uint64_t mpidr) {
  const uint64_t affinity = ((mpidr >> 32) & 0xff) << 24 | (mpidr & 0xffffff);
  return affinity << KVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT;
}

// The distributor registers for `irqs` interrupts, in restore order.
std::vector<uint32_t> DistributorOffsets(uint32_t irqs) {
  std::vector<uint32_t> offsets = {kGicdIidr, kGicdCtlr, kGicdStatusr};
  // One bit per INTID: words 1.. (word 0, the private INTIDs, is banked in
  // the redistributors).
  for (uint32_t base : {kIgroupr, kIgrpmodr}) {
    for (uint32_t w = 1; w < irqs / 32; ++w) offsets.push_back(base + 4 * w);
  }
  for (uint32_t k = 2; k < irqs / 16; ++k) offsets.push_back(kIcfgr + 4 * k);
  for (uint32_t k = 8; k < irqs / 4; ++k) offsets.push_back(kIpriorityr + 4 * k);
  for (uint32_t i = 32; i < irqs; ++i) {
    offsets.push_back(kGicdIrouter + 8 * i);
    offsets.push_back(kGicdIrouter + 8 * i + 4);
  }
  for (uint32_t base : {kIspendr, kIsactiver, kIsenabler}) {
    for (uint32_t w = 1; w < irqs / 32; ++w) offsets.push_back(base + 4 * w);
  }
  return offsets;
}

// One redistributor's registers, in restore order.
std::vector<uint32_t> RedistributorOffsets() {
  std::vector<uint32_t> offsets = {
      kGicrPropbaser, kGicrPropbaser + 4, kGicrPendbaser, kGicrPendbaser + 4,
      kGicrCtlr,      kGicrStatusr,       kGicrWaker,
      kSgiFrame + kIgroupr, kSgiFrame + kIgrpmodr, kSgiFrame + kIcfgr,
      kSgiFrame + kIcfgr + 4};
  for (uint32_t k = 0; k < 8; ++k) offsets.push_back(kSgiFrame + kIpriorityr + 4 * k);
  for (uint32_t base : {kIspendr, kIsactiver, kIsenabler}) {
    offsets.push_back(kSgiFrame + base);
  }
  return offsets;
}

// ISENABLER and ISACTIVER only set bits; restoring one first clears the
// others through its ICENABLER / ICACTIVER twin. (ISPENDR through this
// interface writes the latch as given.)
std::optional<uint32_t> ClearTwin(uint32_t offset) {
  const uint32_t in_frame = offset % kSgiFrame;
  if (in_frame >= kIsenabler && in_frame < kIcenabler) {
    return offset + (kIcenabler - kIsenabler);
  }
  if (in_frame >= kIsactiver && in_frame < kIcactiver) {
    return offset + (kIcactiver - kIsactiver);
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<KvmVmAArch64::GicV3> KvmVmAArch64::FinalizedGicV3(
    const char* operation) const {
  if (!gic_config_.has_value() || !gic_finalized_) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: the VM has no finalised GIC (VmAArch64::CreateGic, FinalizeGic)",
        operation));
  }
  if (gic_config_->version != GicConfig::Version::kV3) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: only a GICv3's state is saved, and this VM's GIC is a v2",
        operation));
  }
  return GicV3{gic_fd_.get(), gic_config_->num_irqs};
}

absl::StatusOr<GicState> KvmVmAArch64::GetGicState(
    absl::Span<VcpuAArch64* const> vcpus) {
  std::lock_guard<std::mutex> lock(mutex_);
  ASSIGN_OR_RETURN(GicV3 gic, FinalizedGicV3("get GIC state"));
  auto read32 = [&](uint32_t group, uint64_t attr, const char* what) {
    uint32_t value = 0;
    absl::Status status = KvmGetDeviceAttr(
        sys_, gic.fd, group, attr, &value,
        absl::StrFormat("get GIC state: KVM_GET_DEVICE_ATTR (%s %#x)", what,
                        attr & 0xffffffff));
    return status.ok() ? absl::StatusOr<uint32_t>(value)
                       : absl::StatusOr<uint32_t>(status);
  };
  GicState state;
  for (uint32_t offset : DistributorOffsets(gic.irqs)) {
    ASSIGN_OR_RETURN(uint32_t value,
                     read32(KVM_DEV_ARM_VGIC_GRP_DIST_REGS, offset, "GICD"));
    state.distributor.push_back({offset, value});
  }
  for (uint32_t intid = 32; intid < gic.irqs; intid += 32) {
    ASSIGN_OR_RETURN(uint32_t levels,
                     read32(KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, intid, "line level"));
    state.line_levels.push_back(levels);
  }
  for (VcpuAArch64* vcpu : vcpus) {
    GicState::Cpu cpu;
    ASSIGN_OR_RETURN(cpu.mpidr, vcpu->GetMpidr());
    const uint64_t who = MpidrField(cpu.mpidr);
    for (uint32_t offset : RedistributorOffsets()) {
      ASSIGN_OR_RETURN(uint32_t value, read32(KVM_DEV_ARM_VGIC_GRP_REDIST_REGS,
                                              who | offset, "GICR"));
      cpu.redistributor.push_back({offset, value});
    }
    ASSIGN_OR_RETURN(cpu.ppi_line_levels,
                     read32(KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, who, "PPI level"));
    auto sysreg = [&](uint16_t encoding) -> absl::StatusOr<uint64_t> {
      uint64_t value = 0;
      RETURN_IF_ERROR(KvmGetDeviceAttr(
          sys_, gic.fd, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, who | encoding,
          &value,
          absl::StrFormat("get GIC state: KVM_GET_DEVICE_ATTR (ICC register "
                          "%#x of MPIDR %#x)",
                          encoding, cpu.mpidr)));
      cpu.cpu_interface.push_back({encoding, value});
      return value;
    };
    RETURN_IF_ERROR(sysreg(kIccSre).status());
    ASSIGN_OR_RETURN(const uint64_t ctlr, sysreg(kIccCtlr));
    for (uint16_t encoding : {kIccPmr, kIccBpr0, kIccBpr1}) {
      RETURN_IF_ERROR(sysreg(encoding).status());
    }
    // ICC_CTLR_EL1.PRIbits (bits 10:8) + 1 priority bits: 5 give one
    // active-priority register per group, 6 two, 7 four (Section 12.2.1).
    const uint32_t pri_bits = ((ctlr >> 8) & 7) + 1;
    const uint32_t aprs = pri_bits <= 5 ? 1 : 1u << (pri_bits - 5);
    for (uint32_t n = 0; n < aprs; ++n) RETURN_IF_ERROR(sysreg(IccAp0r(n)).status());
    for (uint32_t n = 0; n < aprs; ++n) RETURN_IF_ERROR(sysreg(IccAp1r(n)).status());
    RETURN_IF_ERROR(sysreg(kIccIgrpen0).status());
    RETURN_IF_ERROR(sysreg(kIccIgrpen1).status());
    state.cpus.push_back(std::move(cpu));
  }
  return state;
}

absl::Status KvmVmAArch64::SetGicState(const GicState& state,
                                       absl::Span<VcpuAArch64* const> vcpus) {
  std::lock_guard<std::mutex> lock(mutex_);
  ASSIGN_OR_RETURN(GicV3 gic, FinalizedGicV3("set GIC state"));
  // Every check before the first write.
  if (state.cpus.size() != vcpus.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "set GIC state: the state has %u CPU interfaces, %u vCPUs given",
        state.cpus.size(), vcpus.size()));
  }
  std::vector<uint64_t> who(vcpus.size());
  for (size_t i = 0; i < vcpus.size(); ++i) {
    ASSIGN_OR_RETURN(uint64_t mpidr, vcpus[i]->GetMpidr());
    if (mpidr != state.cpus[i].mpidr) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "set GIC state: CPU interface %u was saved for MPIDR %#x, vCPU %u "
          "has MPIDR %#x",
          i, state.cpus[i].mpidr, vcpus[i]->id(), mpidr));
    }
    who[i] = MpidrField(mpidr);
  }
  if (state.line_levels.size() > gic.irqs / 32 - 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "set GIC state: %u line-level words, but the GIC's %u interrupts "
        "have %u SPI words",
        state.line_levels.size(), gic.irqs, gic.irqs / 32 - 1));
  }
  auto write = [&](uint32_t group, uint64_t attr, const void* value,
                   const char* what) {
    return KvmSetDeviceAttr(
        sys_, gic.fd, group, attr, value,
        absl::StrFormat("set GIC state: KVM_SET_DEVICE_ATTR (%s %#x)", what,
                        attr & 0xffffffff));
  };
  auto write_register = [&](uint32_t group, uint64_t who_field,
                            const Register& reg, const char* what) {
    if (std::optional<uint32_t> twin = ClearTwin(reg.offset)) {
      const uint32_t clear = ~reg.value;
      RETURN_IF_ERROR(write(group, who_field | *twin, &clear, what));
    }
    return write(group, who_field | reg.offset, &reg.value, what);
  };
  for (const Register& reg : state.distributor) {
    RETURN_IF_ERROR(
        write_register(KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0, reg, "GICD"));
  }
  for (size_t k = 0; k < state.line_levels.size(); ++k) {
    RETURN_IF_ERROR(write(KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, 32 * (k + 1),
                          &state.line_levels[k], "line level"));
  }
  for (size_t i = 0; i < vcpus.size(); ++i) {
    const GicState::Cpu& cpu = state.cpus[i];
    for (const Register& reg : cpu.redistributor) {
      RETURN_IF_ERROR(write_register(KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, who[i],
                                     reg, "GICR"));
    }
    RETURN_IF_ERROR(write(KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, who[i],
                          &cpu.ppi_line_levels, "PPI level"));
    for (const SysReg& reg : cpu.cpu_interface) {
      RETURN_IF_ERROR(write(KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS,
                            who[i] | reg.encoding, &reg.value, "ICC register"));
    }
  }
  return absl::OkStatus();
}

}  // namespace hv
