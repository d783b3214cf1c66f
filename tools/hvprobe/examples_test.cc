// The Example block of each header in tools/hvprobe, pasted as it stands
// there under a line naming the header (tools/examples_check.sh) and run, so
// an example that no longer matches the code stops the build. No backend is
// linked in, so the probe finds none; the architecture's part probes a
// FakeVm.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/caps.h"
#include "testing/fakes/fake_vm.h"
#include "testing/status_matchers.h"
#include "tools/hvprobe/probe.h"
#include "tools/hvprobe/probe_arch.h"

namespace hv {
namespace {

// tools/hvprobe/probe.h
void ProbeExample() {
  std::vector<hv::BackendReport> reports = hv::ProbeBackends();
  std::cout << hv::FormatReportsText(reports);
}

TEST(HvprobeExamples, Probe) {
  ProbeExample();
  EXPECT_TRUE(hv::ProbeBackends().empty());
}

// tools/hvprobe/probe_arch.h
std::vector<hv::HypervisorCap> ProbeArchExample(hv::Vm* vm,
                                                hv::BackendReport& report) {
  std::vector<hv::HypervisorCap> caps;
  for (hv::HypervisorCap cap : hv::probe_internal::ArchHypervisorCaps()) caps.push_back(cap);
  hv::probe_internal::ProbeArch(*vm, report);
  return caps;
}

TEST(HvprobeExamples, ProbeArch) {
  ASSERT_OK_AND_ASSIGN(auto vm, testing::FakeVm::Create());
  BackendReport report;
  EXPECT_THAT(ProbeArchExample(vm.get(), report),
              ::testing::Contains(HypervisorCap::kUserMemory));
}

// Not an example: probe.cc's one table gives each architecture its own
// capabilities, in report order.
TEST(ProbeArch, ListsTheTargetsCapabilitiesOnly) {
  const auto hypervisor_caps = probe_internal::ArchHypervisorCaps();
  const auto vm_caps = probe_internal::ArchVmCaps();
  EXPECT_EQ(hypervisor_caps.front(), HypervisorCap::kUserMemory);
  EXPECT_EQ(vm_caps.front(), VmCap::kDirtyLog);
#if defined(__aarch64__)
  EXPECT_EQ(hypervisor_caps.size(), 9u);
  EXPECT_EQ(hypervisor_caps.back(), HypervisorCap::kMpState);
  EXPECT_EQ(vm_caps.size(), 11u);
  EXPECT_EQ(vm_caps.back(), VmCap::kGicIts);
#else
  EXPECT_EQ(hypervisor_caps.size(), 19u);
  EXPECT_EQ(hypervisor_caps.back(), HypervisorCap::kGuestDebug);
  EXPECT_EQ(vm_caps.size(), 12u);
  EXPECT_EQ(vm_caps.back(), VmCap::kDirtyLogManualProtect);
#endif
}

}  // namespace
}  // namespace hv
