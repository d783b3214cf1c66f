// Probes the real KVM (on a VM's KVM where this host has none) and checks
// the report hvprobe prints from it.
#include "tools/hvprobe/probe.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "tools/hvprobe/probe_test_util.h"

namespace hv {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(ProbeBackends, KvmIsUsableWithItsLimitsAndCapabilities) {
  std::vector<BackendReport> reports = ProbeBackends();
  const BackendReport* kvm = FindKvm(reports);
  ASSERT_NE(kvm, nullptr);
  EXPECT_THAT(kvm->usable, hv::testing::IsOk());
  EXPECT_GT(kvm->memory_slots, 0u);
  EXPECT_GT(kvm->max_vcpus, 0u);
  EXPECT_GT(kvm->guest_address_limit, 1ull << 32);
  EXPECT_THAT(kvm->hypervisor_caps, Contains(Pair("immediate_exit", true)));
  EXPECT_THAT(kvm->hypervisor_caps, Contains(Pair("user_memory", true)));
  EXPECT_THAT(kvm->vm_caps, Contains(Pair("ioeventfd", true)));
  // The interrupt calls the guest-code suite shows working on a KVM.
  EXPECT_THAT(kvm->vm_caps, Contains(Pair("gsi_routing", true)));
  EXPECT_THAT(kvm->vm_caps, Contains(Pair("signal_msi", true)));
  EXPECT_THAT(kvm->vm_caps, Contains(Pair("dirty_log_switch", true)));
  // Upstream KVM has no per-slot non-coherent DMA flag.
  EXPECT_THAT(kvm->vm_caps, Contains(Pair("mem_noncoherent_dma", false)));
}

TEST(FormatReports, TextAndJsonCarryTheFigures) {
  std::vector<BackendReport> reports = ProbeBackends();
  const BackendReport* kvm = FindKvm(reports);
  ASSERT_NE(kvm, nullptr);
  std::string text = FormatReportsText(reports);
  EXPECT_TRUE(AnyUsable(reports));
  EXPECT_THAT(text, HasSubstr("kvm [options: device]\n  usable\n"
                              "  hypervisor (asked of the backend):\n"));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("  vm (asked of a probe VM):\n    memory slots: ",
                                           kvm->memory_slots, "\n")));
  std::string json = FormatReportsJson(reports);
  EXPECT_THAT(json, HasSubstr("{\"any_usable\": true, \"backends\": [{\"kind\": \"kvm\""));
  EXPECT_THAT(json, HasSubstr(absl::StrCat("\"hypervisor\": {\"max_vcpus\": ", kvm->max_vcpus,
                                           ", \"caps\": {")));
  EXPECT_THAT(json, HasSubstr(absl::StrCat("\"vm\": {\"memory_slots\": ", kvm->memory_slots)));
  EXPECT_THAT(json, HasSubstr("\"usable\": true, \"error\": null"));
}

TEST(FormatReports, JsonEscapesErrorText) {
  BackendReport broken;
  broken.kind = "fake";
  broken.usable = absl::NotFoundError("open \"/dev/x\"\n\ttab");
  std::string json = FormatReportsJson({broken});
  EXPECT_FALSE(AnyUsable({broken}));
  EXPECT_THAT(json, HasSubstr(R"({"any_usable": false, "backends": [)"));
  EXPECT_THAT(json, HasSubstr(R"("error": "NOT_FOUND: open \"/dev/x\"\n\ttab")"));
  EXPECT_THAT(json, HasSubstr(R"("hypervisor": null, "vm": null)"));
  EXPECT_THAT(FormatReportsText({broken}),
              HasSubstr("not usable here: open \"/dev/x\"\n\ttab"));
}

}  // namespace
}  // namespace hv
