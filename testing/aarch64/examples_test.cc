// The Example block of each header in testing/aarch64, pasted as it stands
// there under a line naming the header (tools/examples_check.sh), so an
// example that no longer matches the API stops the build. aarch64 builds
// only (--config=aarch64); the fixture's and the conformance suite's
// examples need a hypervisor that runs aarch64 guest code, so they are
// compiled, not run (the suite is instantiated as DISABLED_KvmAArch64:
// GoogleTest lists it and runs none of it).
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vcpu_exit.h"
#include "testing/aarch64/aarch64_guest_conformance.h"
#include "testing/aarch64/guest_fixture.h"
#include "testing/aarch64/guest_image.h"
#include "testing/aarch64/guest_layout.h"
#include "testing/backend_under_test.h"

// testing/aarch64/guest_layout.h
// The routine of examples_guest.S.
extern "C" const uint8_t hv_a64_report_mpidr[];

namespace hv::testing {
namespace {

TEST(AArch64Examples, GuestLayout) {
  // Its first instruction is PROLOGUE's adr x9, hv_a64_vectors: op 0b0 at
  // bit 31, 0b10000 at bits 28:24, register 9.
  uint32_t first;
  std::memcpy(&first, hv_a64_report_mpidr, sizeof(first));
  EXPECT_EQ(first & 0x9f00001fu, 0x10000009u);
}

// testing/aarch64/guest_fixture.h
// Compiled, not run: it needs a hypervisor that runs aarch64 guest code.
absl::Status GuestFixtureExample(hv::Hypervisor* hypervisor) {
  ASSIGN_OR_RETURN(auto guest, hv::testing::AArch64Guest::Create(*hypervisor, {}));
  RETURN_IF_ERROR(guest->Start(0, a64::Routine::kMmioRoundTrip,
                               {{0, 42}, {1, HV_A64_DATA}}));
  ASSIGN_OR_RETURN(hv::testing::GuestRun run, guest->Run(0, [](hv::IoRequest& io) {
    if (!io.is_write) io.data[0] = 7;
  }));
  return absl::OkStatus();
}

TEST(AArch64Examples, GuestFixture) { EXPECT_NE(&GuestFixtureExample, nullptr); }

// testing/aarch64/guest_image.h
uint64_t GuestImageExample(uint8_t* ram) {
  absl::Span<const uint8_t> image = hv::testing::a64::Image();
  std::memcpy(ram + (HV_A64_CODE - HV_A64_RAM_BASE), image.data(), image.size());
  uint64_t pc = HV_A64_CODE + hv::testing::a64::Offset(hv::testing::a64::Routine::kSpin);
  return pc;
}

TEST(AArch64Examples, GuestImage) {
  std::vector<uint8_t> ram(HV_A64_RAM_SIZE);
  const uint64_t pc = GuestImageExample(ram.data());
  EXPECT_GT(pc, static_cast<uint64_t>(HV_A64_CODE));
  EXPECT_LT(pc, static_cast<uint64_t>(HV_A64_CODE + a64::Image().size()));
  EXPECT_EQ(std::memcmp(ram.data() + (HV_A64_CODE - HV_A64_RAM_BASE),
                        a64::Image().data(), a64::Image().size()),
            0);
}

// testing/aarch64/aarch64_guest_conformance.h
// Instantiated as DISABLED_KvmAArch64: compiled, never run (it needs a KVM;
// hypervisor/kvm:kvm_aarch64_conformance_test runs it).
INSTANTIATE_TEST_SUITE_P(
    DISABLED_KvmAArch64, AArch64GuestConformance,
    ::testing::Values(hv::testing::RegisteredBackend(
        "kvm", "kvm", "HV_ALLOW_MISSING_KVM")),
    hv::testing::BackendName);

}  // namespace
}  // namespace hv::testing
