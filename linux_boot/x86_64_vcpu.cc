#include "linux_boot/x86_64_vcpu.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/arch_bits.h"
#include "hypervisor/x86_64/boot.h"
#include "linux_boot/le_bytes.h"

namespace hv {
namespace {

// CPUID leaves (Intel SDM Vol. 2A; AMD APM Vol. 3, Appendix E).
constexpr uint32_t kLeafFeatures = 0x1;
constexpr uint32_t kLeafCacheParameters = 0x4;
constexpr uint32_t kLeafTopology = 0xb;
constexpr uint32_t kLeafTopologyV2 = 0x1f;
constexpr uint32_t kLeafAmdFeatures = 0x80000001;
constexpr uint32_t kLeafAmdSizes = 0x80000008;
constexpr uint32_t kLeafAmdTopology = 0x8000001e;

constexpr uint32_t kEdxHtt = 1u << 28;
constexpr uint32_t kEcxHypervisor = 1u << 31;
constexpr uint32_t kAmdEcxCmpLegacy = 1u << 1;
// Topology level types in leaf 0xB/0x1F ECX[15:8].
constexpr uint32_t kLevelSmt = 1;
constexpr uint32_t kLevelCore = 2;

// Local APIC registers (SDM Vol. 3A, Table 10-1) and LVT fields (10.5.1).
constexpr size_t kLapicLvtLint0 = 0x350;
constexpr size_t kLapicLvtLint1 = 0x360;
constexpr uint32_t kLvtDeliveryModeMask = 0x7u << 8;
constexpr uint32_t kLvtMasked = 1u << 16;
constexpr uint32_t kDeliveryExtInt = 0x7u << 8;
constexpr uint32_t kDeliveryNmi = 0x4u << 8;

uint32_t CeilLog2(uint32_t n) {
  uint32_t bits = 0;
  while ((uint64_t{1} << bits) < n) ++bits;
  return bits;
}

// Leaf 0xB/0x1F, subleaf `level`: an SMT level of one thread per core, a
// core level of `cpus` cores, then the terminating invalid level.
CpuidEntry TopologyLeaf(uint32_t function, uint32_t level, uint32_t apic_id,
                        uint32_t cpus) {
  CpuidEntry e;
  e.function = function;
  e.index = level;
  e.significant_index = true;
  e.edx = apic_id;
  e.ecx = level & 0xff;
  if (level == 0) {
    e.eax = 0;  // no bits of the APIC id for threads
    e.ebx = 1;
    e.ecx |= kLevelSmt << 8;
  } else if (level == 1) {
    e.eax = CeilLog2(cpus);
    e.ebx = cpus;
    e.ecx |= kLevelCore << 8;
  }
  return e;
}

absl::Status Step(absl::Status status, uint32_t index, const char* what) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrFormat("linux boot: vCPU %u: %s: %s",
                                                     index, what, status.message()));
}

}  // namespace

std::vector<CpuidEntry> LinuxCpuid(absl::Span<const CpuidEntry> supported,
                                   uint32_t apic_id, uint32_t cpus) {
  std::vector<CpuidEntry> out;
  bool has_topology = false, has_topology_v2 = false;
  const uint32_t core_bits = CeilLog2(cpus);
  for (CpuidEntry e : supported) {
    switch (e.function) {
      case kLeafFeatures:
        e.ebx = (e.ebx & 0x0000ffffu) | (apic_id & 0xff) << 24 |
                std::min<uint32_t>(cpus, 255) << 16;
        if (cpus > 1) e.edx |= kEdxHtt;
        e.ecx |= kEcxHypervisor;
        break;
      case kLeafCacheParameters:
        if ((e.eax & 0x1f) != 0) {  // a cache, not the terminating subleaf
          const uint32_t level = (e.eax >> 5) & 0x7;
          e.eax &= 0x00003fffu;
          e.eax |= (std::min<uint32_t>(cpus, 64) - 1) << 26;
          if (level == 3) e.eax |= (std::min<uint32_t>(cpus, 4096) - 1) << 14;
        }
        break;
      case kLeafTopology:
        has_topology = true;
        continue;  // rebuilt below
      case kLeafTopologyV2:
        has_topology_v2 = true;
        continue;
      case kLeafAmdFeatures:
        if (cpus > 1) e.ecx |= kAmdEcxCmpLegacy;
        break;
      case kLeafAmdSizes:
        e.ecx = (e.ecx & ~0xf0ffu) | core_bits << 12 | ((cpus - 1) & 0xff);
        break;
      case kLeafAmdTopology:
        e.eax = apic_id;
        e.ebx = (e.ebx & ~0xffffu) | (apic_id & 0xff);  // one thread per core
        e.ecx &= ~0x7ffu;                               // node 0 of 1
        break;
      default:
        break;
    }
    out.push_back(e);
  }
  for (uint32_t level = 0; level < 3; ++level) {
    if (has_topology) out.push_back(TopologyLeaf(kLeafTopology, level, apic_id, cpus));
    if (has_topology_v2) {
      out.push_back(TopologyLeaf(kLeafTopologyV2, level, apic_id, cpus));
    }
  }
  return out;
}

std::vector<MsrEntry> LinuxBootMsrs() {
  return {
      {x86::kMsrSysenterCs, 0},
      {x86::kMsrSysenterEsp, 0},
      {x86::kMsrSysenterEip, 0},
      {x86::kMsrStar, 0},
      {x86::kMsrLstar, 0},
      {x86::kMsrCstar, 0},
      {x86::kMsrSyscallMask, 0},
      {x86::kMsrKernelGsBase, 0},
      {x86::kMsrMiscEnable, x86::kMiscEnableFastStrings},
      {x86::kMsrMtrrDefType, x86::kMtrrEnable | x86::kMemTypeWriteBack},
  };
}

LapicState WithVirtualWireLints(const LapicState& lapic) {
  LapicState out = lapic;
  for (auto [offset, mode] : {std::pair<size_t, uint32_t>{kLapicLvtLint0, kDeliveryExtInt},
                              {kLapicLvtLint1, kDeliveryNmi}}) {
    uint32_t lvt = LoadLe<uint32_t>(out.regs.data() + offset);
    lvt = (lvt & ~(kLvtDeliveryModeMask | kLvtMasked)) | mode;
    StoreLe<uint32_t>(out.regs.data() + offset, lvt);
  }
  return out;
}

absl::Status SetupLinuxVcpu(VcpuX86_64& vcpu, uint32_t index, uint32_t cpus,
                            absl::Span<const CpuidEntry> supported_cpuid,
                            absl::Span<uint8_t> ram,
                            const LinuxX86Layout& layout) {
  RETURN_IF_ERROR(
      Step(vcpu.SetCpuid(LinuxCpuid(supported_cpuid, index, cpus)), index, "CPUID"));
  RETURN_IF_ERROR(Step(vcpu.SetMsrs(LinuxBootMsrs()), index, "boot MSRs"));
  absl::StatusOr<LapicState> lapic = vcpu.GetLapic();
  RETURN_IF_ERROR(Step(lapic.status(), index, "read LAPIC"));
  RETURN_IF_ERROR(Step(vcpu.SetLapic(WithVirtualWireLints(*lapic)), index, "LAPIC LINT0/1"));
  if (index != 0) return absl::OkStatus();  // an AP: INIT/SIPI starts it

  // boot.rst, "64-bit boot protocol": long mode, paging on with the
  // kernel, zero page and command line identity mapped, a GDT with flat
  // 4 GiB code and data segments, interrupts off, rsi = the zero page.
  X86BootOptions boot;
  boot.mode = X86Mode::kLong;
  boot.entry = layout.entry;
  boot.tables = kLinuxBootTables;
  boot.stack = kLinuxStackTop;
  RETURN_IF_ERROR(Step(SetupX86Boot(vcpu, ram, 0, boot), index, "entry state"));
  absl::StatusOr<Regs> regs = vcpu.GetRegs();
  RETURN_IF_ERROR(Step(regs.status(), index, "read registers"));
  regs->rsi = kLinuxZeroPage;
  return Step(vcpu.SetRegs(*regs), index, "zero page in rsi");
}

}  // namespace hv
