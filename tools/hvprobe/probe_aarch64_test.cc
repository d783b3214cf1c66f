// Probes the real arm64 KVM (in the arm64 vmtest VM where the host has
// none) and checks the aarch64 figures hvprobe reports: what QEMU's
// `-cpu max` with emulated EL2 gives a 6.1 KVM (GICv3, PSCI 1.x, PMUv3,
// SVE, pointer authentication), and their text and JSON forms.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "tools/hvprobe/probe.h"
#include "tools/hvprobe/probe_test_util.h"

namespace hv {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::StartsWith;

TEST(ProbeAArch64, KvmReportsGicFeaturesAndPsci) {
  std::vector<BackendReport> reports = ProbeBackends();
  const BackendReport* kvm = FindKvm(reports);
  ASSERT_NE(kvm, nullptr);
  ASSERT_THAT(kvm->usable, hv::testing::IsOk());
  EXPECT_EQ(kvm->arch, "aarch64");
  EXPECT_GT(kvm->memory_slots, 0u);
  EXPECT_GE(kvm->guest_address_limit, 1ull << 40);
  EXPECT_THAT(kvm->hypervisor_caps, Contains(Pair("immediate_exit", true)));
  // x86-only capabilities are not listed on aarch64.
  EXPECT_THAT(kvm->hypervisor_caps, Not(Contains(Pair("xcrs", ::testing::_))));
  EXPECT_THAT(kvm->arch_details, Contains(Pair("gic_v3", "yes")));
  EXPECT_THAT(kvm->arch_details, Contains(Pair("feature psci-0.2", "yes")));
  EXPECT_THAT(kvm->arch_details, Contains(Pair("feature pmu-v3", "yes")));
  EXPECT_THAT(kvm->arch_details, Contains(Pair("feature sve", "yes")));
  EXPECT_THAT(kvm->arch_details, Contains(Pair("feature ptrauth-address", "yes")));
  EXPECT_THAT(kvm->arch_details, Contains(Pair("psci_version", StartsWith("1."))));
  // vCPU 0's MPIDR: affinity 0, with the RES1 bit 31.
  EXPECT_THAT(kvm->arch_details, Contains(Pair("mpidr", "0x80000000")));
}

TEST(ProbeAArch64, TextAndJsonCarryTheFigures) {
  std::vector<BackendReport> reports = ProbeBackends();
  std::string text = FormatReportsText(reports);
  EXPECT_THAT(text, HasSubstr("kvm [options: device]\n  usable\n"));
  EXPECT_THAT(text, HasSubstr("  aarch64:\n"));
  EXPECT_THAT(text, HasSubstr("    gic_v3                 yes\n"));
  std::string json = FormatReportsJson(reports);
  EXPECT_THAT(json, HasSubstr("\"arch\": \"aarch64\""));
  EXPECT_THAT(json, HasSubstr("\"gic_v3\": true"));
  EXPECT_THAT(json, HasSubstr("\"mpidr\": \"0x80000000\""));
}

}  // namespace
}  // namespace hv
