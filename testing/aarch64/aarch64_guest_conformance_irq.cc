// AArch64GuestConformance: SPIs through the in-kernel GICv3, raised by an
// irq line and by an irqfd, acknowledged and ended by the guest; the GIC's
// order and argument errors; LPIs through a GICv3 ITS the guest programs
// (MSIs with device ids from SignalMsi and from an MSI route's irqfd), the
// ITS's placement checks and its state carried to another VM.

#include <cstring>
#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/status_macros.h"
#include "testing/aarch64/aarch64_guest_conformance.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using a64::Routine;

TEST_P(AArch64GuestConformance, SpiFromSetIrqLineIsAcknowledgedAndEnded) {
  ASSERT_OK_AND_ASSIGN(bool gic_v3, GicV3Offered());
  if (!gic_v3) return;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest(WithGic()));
  constexpr uint32_t kSpi = 5;
  ASSERT_OK(guest->Start(0, Routine::kGicSpi,
                         {{1, kSpi + 32}, {2, 0}, {3, HV_A64_GICD_BASE}}));
  absl::Status raise = absl::UnknownError("never signalled");
  absl::Status lower = absl::UnknownError("never acknowledged");
  size_t reports = 0;
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0, [&](IoRequest& io) {
    if (io.is_write && io.address == HV_A64_SIGNAL) {
      raise = guest->vm().SetIrqLine(kSpi, true);
    } else if (io.is_write && io.address == HV_A64_REPORT && reports++ == 0) {
      // Level-triggered: lower the line once the guest acknowledged it, so
      // the second acknowledge sees nothing pending.
      lower = guest->vm().SetIrqLine(kSpi, false);
    }
  }));
  EXPECT_OK(raise);
  EXPECT_OK(lower);
  EXPECT_EQ(run.end, GuestRun::End::kDone);
  EXPECT_THAT(run.reports, ElementsAre(kSpi + 32, 1023u));
}

TEST_P(AArch64GuestConformance, SpiFromIrqfdIsAcknowledgedAndEnded) {
  ASSERT_OK_AND_ASSIGN(bool gic_v3, GicV3Offered());
  if (!gic_v3) return;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest(WithGic()));
  constexpr uint32_t kSpi = 6;
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  HV_UNIMPLEMENTED_WITHOUT(guest->vm(), VmCap::kIrqfd,
                           guest->vm().RegisterIrqfd(event, kSpi));
  ASSERT_OK(guest->vm().RegisterIrqfd(event, kSpi));
  ASSERT_OK(guest->Start(0, Routine::kGicSpi,
                         {{1, kSpi + 32}, {2, 1}, {3, HV_A64_GICD_BASE}}));
  absl::Status fire = absl::UnknownError("never signalled");
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0, [&](IoRequest& io) {
    if (io.is_write && io.address == HV_A64_SIGNAL) fire = event.Write(1);
  }));
  EXPECT_OK(fire);
  EXPECT_EQ(run.end, GuestRun::End::kDone);
  EXPECT_THAT(run.reports, ElementsAre(kSpi + 32, 1023u));
  EXPECT_OK(guest->vm().UnregisterIrqfd(event, kSpi));
}

TEST_P(AArch64GuestConformance, SpiErrors) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> plain, NewGuest());
  EXPECT_THAT(plain->vm().SetIrqLine(1, true),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("GIC")));
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  EXPECT_THAT(plain->vm().RegisterIrqfd(event, 1),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(bool gic_v3, GicV3Offered());
  if (!gic_v3) return;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> with_gic,
                       NewGuest(WithGic()));
  // 96 interrupts: SPIs 0..63.
  EXPECT_OK(with_gic->vm().SetIrqLine(63, false));
  EXPECT_THAT(with_gic->vm().SetIrqLine(64, true),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("SPI 64")));
}

TEST_P(AArch64GuestConformance, GicOrderAndVersion) {
  ASSERT_OK_AND_ASSIGN(bool gic_v3, GicV3Offered());
  if (!gic_v3) return;
  const GicConfig v3 = LayoutGicV3();
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, NewVm());
    VmAArch64* arm = vm->AsAArch64();
    EXPECT_THAT(arm->FinalizeGic(), StatusIs(absl::StatusCode::kFailedPrecondition));
    ASSERT_OK_AND_ASSIGN(auto vcpu, arm->CreateVcpuAArch64(0));
    EXPECT_THAT(arm->CreateGic(v3),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("vCPU")));
  }
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, NewVm());
    VmAArch64* arm = vm->AsAArch64();
    GicConfig bad = v3;
    bad.num_irqs = 100;
    EXPECT_THAT(arm->CreateGic(bad), StatusIs(absl::StatusCode::kInvalidArgument));
    bad = v3;
    bad.distributor_base = HV_A64_GICD_BASE + 0x1000;
    EXPECT_THAT(arm->CreateGic(bad), StatusIs(absl::StatusCode::kInvalidArgument));
    ASSERT_OK(arm->CreateGic(v3));
    EXPECT_THAT(arm->CreateGic(v3),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("already")));
  }
  // A version this hypervisor lacks (v2 on a GICv3 host without the v2 CPU
  // interface, where there is one) is UNIMPLEMENTED.
  for (GicConfig::Version version : {GicConfig::Version::kV2, GicConfig::Version::kV3}) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, NewVm());
    VmAArch64* arm = vm->AsAArch64();
    if (arm->SupportsGic(version)) continue;
    GicConfig config = v3;
    config.version = version;
    EXPECT_THAT(arm->CreateGic(config), StatusIs(absl::StatusCode::kUnimplemented));
  }
}

// Copies the registers a guest in the middle of a routine needs (general,
// PC, PSTATE, SP_EL1 and every listed system register) from one vCPU to
// another.
absl::Status CopyVcpuRegisters(VcpuAArch64& from, VcpuAArch64& to) {
  std::vector<AArch64Reg> core = {AArch64Reg::Pc(), AArch64Reg::Pstate(),
                                  AArch64Reg::SpEl1()};
  for (uint32_t n = 0; n <= 30; ++n) core.push_back(AArch64Reg::X(n));
  for (const AArch64Reg& reg : core) {
    ASSIGN_OR_RETURN(uint64_t value, from.GetOneReg(reg));
    RETURN_IF_ERROR(to.SetOneReg(reg, value));
  }
  ASSIGN_OR_RETURN(auto system, from.GetSystemRegs());
  for (const auto& [reg, value] : system) {
    RETURN_IF_ERROR(to.SetOneReg(reg, value));
  }
  return absl::OkStatus();
}

// A GICv3's state saved with an SPI pending that the guest has not taken
// yet, restored with the vCPU's registers into a second VM: that VM's
// guest takes the SPI (and finds nothing more pending) and finishes.
TEST_P(AArch64GuestConformance, GicStateCarriesAPendingSpiToAnotherVm) {
  ASSERT_OK_AND_ASSIGN(bool gic_v3, GicV3Offered());
  if (!gic_v3) return;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> source, NewGuest(WithGic()));
  VcpuAArch64* source_cpu = &source->vcpu(0);
  if (!hypervisor_->CheckCapability(HypervisorCap::kIrqChipState)) {
    EXPECT_THAT(source->vm().GetGicState({&source_cpu, 1}),
                StatusIs(absl::StatusCode::kUnimplemented));
    return;
  }
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> plain, NewGuest());
    VcpuAArch64* cpu = &plain->vcpu(0);
    EXPECT_THAT(plain->vm().GetGicState({&cpu, 1}),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("GIC")));
  }
  constexpr uint32_t kSpi = 7;
  ASSERT_OK(source->Start(0, Routine::kGicSpi,
                          {{1, kSpi + 32}, {2, 1}, {3, HV_A64_GICD_BASE}}));
  // The guest has configured and enabled the SPI when it signals; stop it
  // there, before it waits for the interrupt.
  ASSERT_OK_AND_ASSIGN(GuestRun ready, source->Run(0, [&](IoRequest& io) {
    if (io.is_write && io.address == HV_A64_SIGNAL) source_cpu->SetImmediateExit(true);
  }));
  ASSERT_EQ(ready.last_exit.kind, VcpuExitKind::kInterrupted);
  source_cpu->SetImmediateExit(false);
  ASSERT_OK(source->vm().SetIrqLine(kSpi, true));
  ASSERT_OK(source->vm().SetIrqLine(kSpi, false));  // edge: latched pending
  ASSERT_OK_AND_ASSIGN(GicState state, source->vm().GetGicState({&source_cpu, 1}));
  // ISPENDR1 (INTIDs 32-63) holds the SPI's latched pending bit.
  bool pending = false;
  for (const GicState::Register& reg : state.distributor) {
    if (reg.offset == 0x204) pending = (reg.value >> kSpi) & 1;
  }
  EXPECT_TRUE(pending) << "the SPI is not pending in the saved state";
  ASSERT_EQ(state.cpus.size(), 1u);
  EXPECT_FALSE(state.cpus[0].cpu_interface.empty());

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> target, NewGuest(WithGic()));
  VcpuAArch64* target_cpu = &target->vcpu(0);
  // Bad input is refused before anything is written.
  EXPECT_THAT(target->vm().SetGicState(state, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1 CPU")));
  GicState foreign = state;
  foreign.cpus[0].mpidr ^= 1;
  EXPECT_THAT(target->vm().SetGicState(foreign, {&target_cpu, 1}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("MPIDR")));
  GicState too_many = state;
  too_many.line_levels.resize(64);
  EXPECT_THAT(target->vm().SetGicState(too_many, {&target_cpu, 1}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line-level")));

  ASSERT_OK(CopyVcpuRegisters(*source_cpu, *target_cpu));
  ASSERT_OK(target->vm().SetGicState(state, {&target_cpu, 1}));
  ASSERT_OK_AND_ASSIGN(GuestRun run, target->Run(0));
  EXPECT_EQ(run.end, GuestRun::End::kDone);
  EXPECT_THAT(run.reports, ElementsAre(kSpi + 32, 1023u));
}


AArch64GuestOptions WithIts() {
  AArch64GuestOptions options = WithGic();
  options.its = true;
  return options;
}

// The MSI a device with `device_id` writes for `event` to the layout's ITS.
MsiMessage ItsMsi(uint32_t device_id, uint32_t event) {
  MsiMessage msi;
  msi.address = HV_A64_GITS_TRANSLATER;
  msi.data = event;
  msi.device_id = device_id;
  return msi;
}

constexpr uint32_t kDeviceId = 3;
constexpr uint32_t kEvent = 5;
constexpr uint32_t kLpi = 8192 + 40;

TEST_P(AArch64GuestConformance, GicItsFollowsTheCapability) {
  ASSERT_OK_AND_ASSIGN(bool gic_v3, GicV3Offered());
  if (!gic_v3) return;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest(WithGic()));
  VmAArch64& vm = guest->vm();
  if (!vm.CheckCapability(VmCap::kGicIts)) {
    EXPECT_THAT(vm.CreateGicIts(HV_A64_GITS_BASE),
                StatusIs(absl::StatusCode::kUnimplemented));
    EXPECT_THAT(vm.GetGicItsState().status(),
                StatusIs(absl::StatusCode::kUnimplemented));
    EXPECT_THAT(vm.SetGicItsState({}), StatusIs(absl::StatusCode::kUnimplemented));
    EXPECT_THAT(vm.ResetGicIts(), StatusIs(absl::StatusCode::kUnimplemented));
    return;
  }
  // Without an ITS nothing takes an MSI.
  EXPECT_FALSE(vm.CheckCapability(VmCap::kSignalMsi));
  EXPECT_THAT(vm.GetGicItsState().status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no ITS")));
  EXPECT_THAT(vm.ResetGicIts(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no ITS")));
  ASSERT_OK(vm.CreateGicIts(HV_A64_GITS_BASE));
  EXPECT_TRUE(vm.CheckCapability(VmCap::kSignalMsi));
  EXPECT_THAT(vm.CreateGicIts(HV_A64_GITS_BASE + 0x100000),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("already")));
  // The ITS translates by device id: an MSI without one is refused.
  MsiMessage no_id = ItsMsi(kDeviceId, kEvent);
  no_id.device_id.reset();
  EXPECT_THAT(vm.SignalMsi(no_id).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("device id")));
  EXPECT_THAT(vm.SetGsiRouting({IrqRoute::Msi(1, no_id)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("device id")));
  // A route with one is taken.
  EXPECT_OK(vm.SetGsiRouting({IrqRoute::Msi(1, ItsMsi(kDeviceId, kEvent))}));
  // The guest has not mapped anything yet: the state is the reset one.
  ASSERT_OK_AND_ASSIGN(GicItsState state, vm.GetGicItsState());
  EXPECT_EQ(state.base, HV_A64_GITS_BASE);
  EXPECT_EQ(state.ctlr & 1, 0u);
  EXPECT_OK(vm.SetGicItsState(state));
}

TEST_P(AArch64GuestConformance, GicItsPlacementIsCheckedAndChangesNothing) {
  ASSERT_OK_AND_ASSIGN(bool gic_v3, GicV3Offered());
  if (!gic_v3) return;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> plain, NewGuest());
    if (!plain->vm().CheckCapability(VmCap::kGicIts)) return;
    EXPECT_THAT(plain->vm().CreateGicIts(HV_A64_GITS_BASE),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("GICv3")));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, NewVm());
  VmAArch64* arm = vm->AsAArch64();
  ASSERT_OK_AND_ASSIGN(auto ram, MemoryRegion::CreateShared("ram", 0x200000));
  ASSERT_OK(vm->AddMemoryRegion(HV_A64_RAM_BASE, std::move(ram), {}).status());
  ASSERT_OK(arm->CreateGic(LayoutGicV3()));
  struct Bad {
    uint64_t base;
    const char* what;
  };
  const Bad bad[] = {
      {HV_A64_GITS_BASE + 0x1000, "aligned"},
      {HV_A64_GICD_BASE, "distributor"},
      {HV_A64_GICR_BASE - 0x10000, "redistributors"},
      {HV_A64_RAM_BASE + 0x1f0000, "memory region"},
      {vm->GuestAddressLimit() - 0x10000, "limit"},
  };
  for (const Bad& b : bad) {
    EXPECT_THAT(arm->CreateGicIts(b.base),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(b.what)))
        << std::hex << b.base;
  }
  // Nothing was created: the VM still takes no MSI, and an ITS can still
  // be placed, right after one redistributor.
  EXPECT_FALSE(vm->CheckCapability(VmCap::kSignalMsi));
  ASSERT_OK(arm->CreateGicIts(HV_A64_GICR_BASE + 0x20000));
  EXPECT_TRUE(vm->CheckCapability(VmCap::kSignalMsi));
  // Two vCPUs' redistributors reach it: FinalizeGic refuses, unfinalised.
  ASSERT_OK_AND_ASSIGN(auto vcpu0, arm->CreateVcpuAArch64(0));
  ASSERT_OK_AND_ASSIGN(auto vcpu1, arm->CreateVcpuAArch64(1));
  EXPECT_THAT(arm->FinalizeGic(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("redistributors")));
  EXPECT_THAT(arm->GetGicItsState().status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("finalised")));
}

TEST_P(AArch64GuestConformance, LpiFromSignalMsiWithDeviceIdIsTaken) {
  ASSERT_OK_AND_ASSIGN(bool gic_v3, GicV3Offered());
  if (!gic_v3) return;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> plain, NewGuest());
    if (!plain->vm().CheckCapability(VmCap::kGicIts)) return;
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest(WithIts()));
  ASSERT_OK(guest->Start(0, Routine::kItsLpi, {{1, kDeviceId}, {2, kEvent}, {3, kLpi}}));
  absl::StatusOr<bool> unmapped = absl::UnknownError("never signalled");
  absl::StatusOr<bool> delivered = absl::UnknownError("never signalled");
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0, [&](IoRequest& io) {
    if (io.is_write && io.address == HV_A64_SIGNAL) {
      // An event the guest did not map is dropped ("blocked"), not an error.
      unmapped = guest->vm().SignalMsi(ItsMsi(kDeviceId, kEvent + 1));
      delivered = guest->vm().SignalMsi(ItsMsi(kDeviceId, kEvent));
    }
  }));
  EXPECT_THAT(unmapped, IsOkAndHolds(false));
  EXPECT_THAT(delivered, IsOkAndHolds(true));
  EXPECT_EQ(run.end, GuestRun::End::kDone);
  EXPECT_THAT(run.reports, ElementsAre(kLpi, 1023u));
}

TEST_P(AArch64GuestConformance, LpiFromAnMsiRoutesIrqfdIsTaken) {
  ASSERT_OK_AND_ASSIGN(bool gic_v3, GicV3Offered());
  if (!gic_v3) return;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> plain, NewGuest());
    if (!plain->vm().CheckCapability(VmCap::kGicIts) ||
        !plain->vm().CheckCapability(VmCap::kGsiRouting) ||
        !plain->vm().CheckCapability(VmCap::kIrqfd)) {
      return;
    }
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest(WithIts()));
  constexpr uint32_t kGsi = 9;
  ASSERT_OK(guest->vm().SetGsiRouting({IrqRoute::Msi(kGsi, ItsMsi(kDeviceId, kEvent))}));
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  ASSERT_OK(guest->vm().RegisterIrqfd(event, kGsi));
  ASSERT_OK(guest->Start(0, Routine::kItsLpi, {{1, kDeviceId}, {2, kEvent}, {3, kLpi}}));
  absl::Status fire = absl::UnknownError("never signalled");
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0, [&](IoRequest& io) {
    if (io.is_write && io.address == HV_A64_SIGNAL) fire = event.Write(1);
  }));
  EXPECT_OK(fire);
  EXPECT_EQ(run.end, GuestRun::End::kDone);
  EXPECT_THAT(run.reports, ElementsAre(kLpi, 1023u));
  EXPECT_OK(guest->vm().UnregisterIrqfd(event, kGsi));
}

// The guest has mapped its device's event to an LPI and waits; the host
// signals the MSI while the vCPU is out of the guest, so the LPI is
// pending. The GIC and ITS state and the guest's memory (which holds the
// ITS tables and the pending table) go into a second VM, restored in the
// documented order; that VM's guest takes the LPI and finishes.
TEST_P(AArch64GuestConformance, GicItsStateCarriesAPendingLpiToAnotherVm) {
  ASSERT_OK_AND_ASSIGN(bool gic_v3, GicV3Offered());
  if (!gic_v3) return;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> plain, NewGuest());
    if (!plain->vm().CheckCapability(VmCap::kGicIts) ||
        !hypervisor_->CheckCapability(HypervisorCap::kIrqChipState)) {
      return;
    }
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> source, NewGuest(WithIts()));
  VcpuAArch64* source_cpu = &source->vcpu(0);
  ASSERT_OK(source->Start(0, Routine::kItsLpi, {{1, kDeviceId}, {2, kEvent}, {3, kLpi}}));
  ASSERT_OK_AND_ASSIGN(GuestRun ready, source->Run(0, [&](IoRequest& io) {
    if (io.is_write && io.address == HV_A64_SIGNAL) source_cpu->SetImmediateExit(true);
  }));
  ASSERT_EQ(ready.last_exit.kind, VcpuExitKind::kInterrupted);
  source_cpu->SetImmediateExit(false);
  ASSERT_THAT(source->vm().SignalMsi(ItsMsi(kDeviceId, kEvent)), IsOkAndHolds(true));
  ASSERT_OK_AND_ASSIGN(GicState gic, source->vm().GetGicState({&source_cpu, 1}));
  ASSERT_OK_AND_ASSIGN(GicItsState its, source->vm().GetGicItsState());
  EXPECT_EQ(its.ctlr & 1, 1u) << "the guest enabled the ITS";
  EXPECT_NE(its.cbaser >> 63, 0u) << "the guest's command queue is valid";
  EXPECT_EQ(its.creadr, 128u) << "four commands read";
  EXPECT_EQ(its.baser[0] >> 63, 1u) << "device table valid";
  EXPECT_EQ((its.baser[0] >> 56) & 7, 1u) << "GITS_BASER0 holds devices";
  // The pending table (saved into guest memory) has the LPI's bit.
  const uint8_t* pending =
      source->ram() + (HV_A64_LPI_PENDING_TABLE - HV_A64_RAM_BASE);
  EXPECT_EQ((pending[kLpi / 8] >> (kLpi % 8)) & 1, 1) << "LPI not pending";

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> target, NewGuest(WithIts()));
  VcpuAArch64* target_cpu = &target->vcpu(0);
  // Memory first, then the vCPU and the GIC (redistributors), then the ITS.
  std::memcpy(target->ram(), source->ram(), HV_A64_RAM_SIZE);
  ASSERT_OK(CopyVcpuRegisters(*source_cpu, *target_cpu));
  ASSERT_OK(target->vm().SetGicState(gic, {&target_cpu, 1}));
  // An ITS state of another address is refused before anything is written.
  GicItsState elsewhere = its;
  elsewhere.base += 0x100000;
  EXPECT_THAT(target->vm().SetGicItsState(elsewhere),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("0x8080000")));
  ASSERT_OK(target->vm().SetGicItsState(its));
  ASSERT_OK_AND_ASSIGN(GicItsState restored, target->vm().GetGicItsState());
  EXPECT_EQ(restored.ctlr & 1, 1u);
  EXPECT_EQ(restored.cbaser, its.cbaser);
  EXPECT_EQ(restored.creadr, its.creadr);
  EXPECT_EQ(restored.baser, its.baser);
  ASSERT_OK_AND_ASSIGN(GuestRun run, target->Run(0));
  EXPECT_EQ(run.end, GuestRun::End::kDone);
  EXPECT_THAT(run.reports, ElementsAre(kLpi, 1023u));
  // The restored ITS translates as the source's did.
  EXPECT_THAT(target->vm().SignalMsi(ItsMsi(kDeviceId, kEvent + 1)),
              IsOkAndHolds(false));
}

// A machine reset: the guest has mapped its device's event and enabled the
// ITS; ResetGicIts() puts the ITS back as CreateGicIts left it, so the
// guest's mappings are gone and its MSI no longer becomes an LPI.
TEST_P(AArch64GuestConformance, GicItsResetForgetsTheGuestsMappings) {
  ASSERT_OK_AND_ASSIGN(bool gic_v3, GicV3Offered());
  if (!gic_v3) return;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> plain, NewGuest());
    if (!plain->vm().CheckCapability(VmCap::kGicIts)) return;
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest(WithIts()));
  VcpuAArch64* cpu = &guest->vcpu(0);
  ASSERT_OK(guest->Start(0, Routine::kItsLpi, {{1, kDeviceId}, {2, kEvent}, {3, kLpi}}));
  ASSERT_OK_AND_ASSIGN(GuestRun ready, guest->Run(0, [&](IoRequest& io) {
    if (io.is_write && io.address == HV_A64_SIGNAL) cpu->SetImmediateExit(true);
  }));
  ASSERT_EQ(ready.last_exit.kind, VcpuExitKind::kInterrupted);
  ASSERT_OK_AND_ASSIGN(GicItsState mapped, guest->vm().GetGicItsState());
  ASSERT_EQ(mapped.ctlr & 1, 1u) << "the guest enabled the ITS";
  ASSERT_NE(mapped.cbaser >> 63, 0u) << "the guest's command queue is valid";

  ASSERT_OK(guest->vm().ResetGicIts());
  ASSERT_OK_AND_ASSIGN(GicItsState reset, guest->vm().GetGicItsState());
  EXPECT_EQ(reset.base, HV_A64_GITS_BASE) << "the ITS keeps its address";
  EXPECT_EQ(reset.ctlr & 1, 0u) << "GITS_CTLR.Enabled";
  EXPECT_EQ(reset.cbaser >> 63, 0u) << "GITS_CBASER.Valid";
  EXPECT_EQ(reset.creadr, 0u);
  EXPECT_EQ(reset.cwriter, 0u);
  for (size_t n = 0; n < reset.baser.size(); ++n) {
    EXPECT_EQ(reset.baser[n] >> 63, 0u) << "GITS_BASER" << n << ".Valid";
  }
  // The event the guest had mapped is no longer translated.
  EXPECT_THAT(guest->vm().SignalMsi(ItsMsi(kDeviceId, kEvent)),
              Not(IsOkAndHolds(true)));
}

}  // namespace
}  // namespace hv::testing
