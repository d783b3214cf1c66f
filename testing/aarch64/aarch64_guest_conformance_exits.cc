// AArch64GuestConformance: MMIO exits carrying data both ways, and PSCI
// calls that end the run as system events or return to the guest.

#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/vcpu_exit.h"
#include "testing/aarch64/aarch64_guest_conformance.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using a64::Routine;

TEST_P(AArch64GuestConformance, MmioWriteReadWriteBackWithData) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest());
  ASSERT_OK(guest->Start(0, Routine::kMmioRoundTrip,
                         {{0, 0x1122334455667788}, {1, HV_A64_DATA}}));
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0, [](IoRequest& io) {
    if (!io.is_write && io.address == HV_A64_DATA) Answer(io, 0xcafe0000f00d);
  }));
  EXPECT_EQ(run.end, GuestRun::End::kDone);
  ASSERT_THAT(run.mmio, SizeIs(3));
  EXPECT_EQ(run.mmio[0].address, HV_A64_DATA);
  EXPECT_TRUE(run.mmio[0].is_write);
  EXPECT_EQ(run.mmio[0].size, 8);
  EXPECT_EQ(run.mmio[0].value, 0x1122334455667788u);
  EXPECT_FALSE(run.mmio[1].is_write);
  EXPECT_EQ(run.mmio[1].value, 0xcafe0000f00du);
  EXPECT_TRUE(run.mmio[2].is_write);
  EXPECT_EQ(run.mmio[2].value, 0xcafe0000f00eu);
  // The guest's x2 holds what it read plus one, as the host reads it back.
  ASSERT_OK_AND_ASSIGN(uint64_t x2, guest->vcpu(0).GetOneReg(AArch64Reg::X(2)));
  EXPECT_EQ(x2, 0xcafe0000f00eu);
}

// PSCI `function` on vCPU 0 of `guest` ends the run with a system event of
// `kind`; the call never returns, so the guest reports nothing.
void ExpectPsciSystemEvent(AArch64Guest& guest, uint64_t function,
                           SystemEventKind kind) {
  ASSERT_OK(guest.Start(0, Routine::kPsciCall, {{0, function}}));
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest.Run(0));
  ASSERT_EQ(run.end, GuestRun::End::kSystemEvent);
  EXPECT_EQ(run.last_exit.kind, VcpuExitKind::kSystemEvent);
  EXPECT_EQ(run.last_exit.system_event.kind, kind);
  EXPECT_THAT(run.reports, IsEmpty());
}

TEST_P(AArch64GuestConformance, PsciSystemOffIsShutdownEvent) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest());
  ExpectPsciSystemEvent(*guest, HV_A64_PSCI_SYSTEM_OFF,
                        SystemEventKind::kShutdown);
}

TEST_P(AArch64GuestConformance, PsciSystemResetIsResetEvent) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest());
  ExpectPsciSystemEvent(*guest, HV_A64_PSCI_SYSTEM_RESET,
                        SystemEventKind::kReset);
}

TEST_P(AArch64GuestConformance, PsciUnknownFunctionReturnsNotSupported) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest());
  // A PSCI function id past the ones hypervisors implement: the call
  // returns NOT_SUPPORTED (-1) to the guest (Arm DEN0022), which reports it.
  ASSERT_OK(guest->Start(0, Routine::kPsciCall, {{0, 0x8400001f}}));
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0));
  EXPECT_EQ(run.end, GuestRun::End::kDone);
  EXPECT_THAT(run.reports, ElementsAre(~0ull));
}

}  // namespace
}  // namespace hv::testing
