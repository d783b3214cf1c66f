#include "linux_boot/x86_64_vcpu.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hv {
namespace {

const CpuidEntry* Find(const std::vector<CpuidEntry>& cpuid, uint32_t function,
                       uint32_t index = 0) {
  for (const CpuidEntry& e : cpuid) {
    if (e.function == function && (!e.significant_index || e.index == index)) return &e;
  }
  return nullptr;
}

std::vector<CpuidEntry> Supported() {
  std::vector<CpuidEntry> s;
  s.push_back({0x0, 0, false, 0x1f, 0, 0, 0});
  s.push_back({0x1, 0, false, 0x806f8, 0x00000800, 0x0, 0x0});  // CLFLUSH size 8
  s.push_back({0x4, 0, true, 0x121, 0, 0, 0});   // L1 data
  s.push_back({0x4, 1, true, 0x163, 0, 0, 0});   // L3 unified
  s.push_back({0x4, 2, true, 0x0, 0, 0, 0});     // end
  s.push_back({0xb, 0, true, 1, 2, 0x100, 7});
  s.push_back({0x80000001, 0, false, 0, 0, 0, 0});
  s.push_back({0x80000008, 0, false, 0x3030, 0, 0x0, 0});
  s.push_back({0x8000001e, 0, false, 9, 0x100, 0x101, 0});
  return s;
}

TEST(LinuxCpuid, TellsEachVcpuItsApicIdAndTheTopology) {
  const std::vector<CpuidEntry> cpuid = LinuxCpuid(Supported(), 2, 3);
  const CpuidEntry* leaf1 = Find(cpuid, 0x1);
  ASSERT_NE(leaf1, nullptr);
  EXPECT_EQ(leaf1->ebx >> 24, 2u);            // initial APIC id
  EXPECT_EQ((leaf1->ebx >> 16) & 0xff, 3u);   // logical processors
  EXPECT_EQ(leaf1->ebx & 0xffff, 0x800u);     // CLFLUSH size kept
  EXPECT_NE(leaf1->edx & (1u << 28), 0u);     // HTT
  EXPECT_NE(leaf1->ecx & (1u << 31), 0u);     // hypervisor

  EXPECT_EQ(Find(cpuid, 0x4, 0)->eax >> 26, 2u);            // 3 cores
  EXPECT_EQ((Find(cpuid, 0x4, 0)->eax >> 14) & 0xfff, 0u);  // L1 per core
  EXPECT_EQ((Find(cpuid, 0x4, 1)->eax >> 14) & 0xfff, 2u);  // L3 shared
  EXPECT_EQ(Find(cpuid, 0x4, 2)->eax, 0u);

  const CpuidEntry* smt = Find(cpuid, 0xb, 0);
  const CpuidEntry* core = Find(cpuid, 0xb, 1);
  const CpuidEntry* end = Find(cpuid, 0xb, 2);
  ASSERT_TRUE(smt && core && end);
  EXPECT_EQ(smt->ebx, 1u);
  EXPECT_EQ(smt->ecx, 0x100u);
  EXPECT_EQ(core->eax, 2u);  // two bits of APIC id for 3 cores
  EXPECT_EQ(core->ebx, 3u);
  EXPECT_EQ(core->ecx, 0x201u);
  EXPECT_EQ(end->ecx, 2u);
  EXPECT_EQ(core->edx, 2u);
  EXPECT_EQ(Find(cpuid, 0x1f), nullptr);  // not supported, not invented

  EXPECT_NE(Find(cpuid, 0x80000001)->ecx & 2u, 0u);  // CmpLegacy
  EXPECT_EQ(Find(cpuid, 0x80000008)->ecx, (2u << 12) | 2u);
  EXPECT_EQ(Find(cpuid, 0x8000001e)->eax, 2u);
}

TEST(LinuxCpuid, OneVcpuHasNoHtt) {
  const std::vector<CpuidEntry> cpuid = LinuxCpuid(Supported(), 0, 1);
  EXPECT_EQ(Find(cpuid, 0x1)->edx & (1u << 28), 0u);
  EXPECT_EQ(Find(cpuid, 0xb, 1)->eax, 0u);
  EXPECT_EQ(Find(cpuid, 0x80000001)->ecx & 2u, 0u);
}

TEST(WithVirtualWireLints, SetsExtIntAndNmiUnmasked) {
  LapicState lapic;
  lapic.regs[0x352] = 0x01;  // LINT0 masked
  lapic.regs[0x362] = 0x01;  // LINT1 masked
  const LapicState out = WithVirtualWireLints(lapic);
  EXPECT_EQ(out.regs[0x351], 0x07);  // ExtINT
  EXPECT_EQ(out.regs[0x352], 0x00);
  EXPECT_EQ(out.regs[0x361], 0x04);  // NMI
  EXPECT_EQ(out.regs[0x362], 0x00);
}

TEST(LinuxBootMsrs, EnablesFastStringsAndWriteBackMtrrs) {
  bool misc = false, mtrr = false;
  for (const MsrEntry& msr : LinuxBootMsrs()) {
    if (msr.index == 0x1a0) misc = msr.value == 1;
    if (msr.index == 0x2ff) mtrr = msr.value == 0x806;
  }
  EXPECT_TRUE(misc);
  EXPECT_TRUE(mtrr);
}

}  // namespace
}  // namespace hv
