// AArch64GuestConformance: registers set by the host and confirmed by the
// guest (and back), MPIDR, PSCI version and the register list, two vCPUs
// at once, kicks and the immediate-exit flag, vCPU features (SVE, pointer
// authentication, PMU, stolen time) and the vCPU's error paths.

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include "absl/numeric/int128.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/aarch64/vcpu_aarch64.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "testing/aarch64/aarch64_guest_conformance.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using a64::Routine;

TEST_P(AArch64GuestConformance, OneRegRoundTripsSeenByTheGuest) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest());
  VcpuAArch64& cpu = guest->vcpu(0);
  for (uint32_t n = 0; n <= 30; ++n) {
    const uint64_t value = 0x0101010101010101ull * n + 0x1000 + n;
    ASSERT_OK(cpu.SetOneReg(AArch64Reg::X(n), value));
  }
  for (uint32_t n = 0; n <= 30; ++n) {
    ASSERT_OK_AND_ASSIGN(uint64_t value, cpu.GetOneReg(AArch64Reg::X(n)));
    EXPECT_EQ(value, 0x0101010101010101ull * n + 0x1000 + n) << "x" << n;
  }
  ASSERT_OK(cpu.SetOneReg(AArch64Reg::Pc(), HV_A64_CODE + 0x40));
  ASSERT_OK_AND_ASSIGN(uint64_t pc, cpu.GetOneReg(AArch64Reg::Pc()));
  EXPECT_EQ(pc, HV_A64_CODE + 0x40u);
  ASSERT_OK(cpu.SetOneReg(AArch64Reg::Pstate(), 0x3c5));
  ASSERT_OK_AND_ASSIGN(uint64_t pstate, cpu.GetOneReg(AArch64Reg::Pstate()));
  EXPECT_EQ(pstate, 0x3c5u);
  ASSERT_OK(cpu.SetOneReg(AArch64Reg::SpEl1(), HV_A64_RAM_BASE + 0x8000));
  ASSERT_OK_AND_ASSIGN(uint64_t sp_el1, cpu.GetOneReg(AArch64Reg::SpEl1()));
  EXPECT_EQ(sp_el1, HV_A64_RAM_BASE + 0x8000u);

  const uint64_t tpidr = 0xfeedfacecafebeef;
  const absl::uint128 v0 = absl::MakeUint128(0x0f0e0d0c0b0a0908, 0x0706050403020100);
  const uint64_t fpcr = 0x03c00000;  // DN, FZ, RMode = toward zero
  const uint64_t fpsr = 0x08000011;  // QC, IXC, IOC
  ASSERT_OK(cpu.SetOneReg(aarch64_sys::kTpidrEl1, tpidr));
  ASSERT_OK(cpu.SetVectorReg(0, v0));
  ASSERT_OK(cpu.SetOneReg(AArch64Reg::Fpcr(), fpcr));
  ASSERT_OK(cpu.SetOneReg(AArch64Reg::Fpsr(), fpsr));
  ASSERT_OK_AND_ASSIGN(uint64_t tpidr_back, cpu.GetOneReg(aarch64_sys::kTpidrEl1));
  EXPECT_EQ(tpidr_back, tpidr);
  ASSERT_OK_AND_ASSIGN(absl::uint128 v0_back, cpu.GetVectorReg(0));
  EXPECT_EQ(v0_back, v0);
  ASSERT_OK_AND_ASSIGN(uint64_t fpcr_back, cpu.GetOneReg(AArch64Reg::Fpcr()));
  EXPECT_EQ(fpcr_back, fpcr);
  ASSERT_OK_AND_ASSIGN(uint64_t fpsr_back, cpu.GetOneReg(AArch64Reg::Fpsr()));
  EXPECT_EQ(fpsr_back, fpsr);

  // The guest sees what the host set, and the host sees what it computed.
  const uint64_t x6 = 0x00000000a5a5a5a5;
  ASSERT_OK(guest->Start(0, Routine::kRegisters, {{6, x6}}));
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0));
  EXPECT_EQ(run.end, GuestRun::End::kDone);
  EXPECT_THAT(run.reports,
              ElementsAre(tpidr, absl::Uint128Low64(v0), absl::Uint128High64(v0),
                          fpcr, fpsr));
  ASSERT_OK_AND_ASSIGN(uint64_t x7, cpu.GetOneReg(AArch64Reg::X(7)));
  EXPECT_EQ(x7, 2 * x6);
  ASSERT_OK_AND_ASSIGN(absl::uint128 v1, cpu.GetVectorReg(1));
  EXPECT_EQ(v1, absl::MakeUint128(~x6, x6));
}

TEST_P(AArch64GuestConformance, VectorRegistersWithSveAreZSlices) {
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, NewVm());
    ASSERT_OK_AND_ASSIGN(auto probe, vm->AsAArch64()->CreateVcpuAArch64(0));
    if (!probe->SupportsFeature(VcpuFeature::kSve)) {
      EXPECT_THAT(probe->Init({VcpuFeature::kSve}),
                  StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("sve")));
      GTEST_SKIP() << GetParam().name << " offers no SVE";
    }
  }
  AArch64GuestOptions options;
  options.features = {VcpuFeature::kPsci0_2, VcpuFeature::kSve};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest(options));
  VcpuAArch64& cpu = guest->vcpu(0);
  const absl::uint128 v0 = absl::MakeUint128(0x8899aabbccddeeff, 0x0011223344556677);
  ASSERT_OK(cpu.SetVectorReg(0, v0));
  ASSERT_OK_AND_ASSIGN(absl::uint128 back, cpu.GetVectorReg(0));
  EXPECT_EQ(back, v0);
  const uint64_t x6 = 0x5a5a5a5a;
  ASSERT_OK(guest->Start(0, Routine::kRegisters, {{6, x6}}));
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0));
  ASSERT_THAT(run.reports, SizeIs(5));
  EXPECT_EQ(run.reports[1], absl::Uint128Low64(v0));
  EXPECT_EQ(run.reports[2], absl::Uint128High64(v0));
  ASSERT_OK_AND_ASSIGN(absl::uint128 v1, cpu.GetVectorReg(1));
  EXPECT_EQ(v1, absl::MakeUint128(~x6, x6));
}

TEST_P(AArch64GuestConformance, VirtualTimerRegistersByArchitecturalEncoding) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest());
  VcpuAArch64& cpu = guest->vcpu(0);
  // hv's register ids are the architectural encodings, which the guest's
  // MRS confirms (KVM's uapi, for one, swaps the ids of CNTV_CVAL_EL0 and
  // CNTVCT_EL0).
  const uint64_t cval = 0x0000001234567890;
  ASSERT_OK(cpu.SetOneReg(aarch64_sys::kCntvCvalEl0, cval));
  ASSERT_OK_AND_ASSIGN(uint64_t cval_back, cpu.GetOneReg(aarch64_sys::kCntvCvalEl0));
  EXPECT_EQ(cval_back, cval);
  ASSERT_OK_AND_ASSIGN(uint64_t count_before, cpu.GetOneReg(aarch64_sys::kCntvctEl0));
  ASSERT_OK(guest->Start(0, Routine::kTimerRegs, {}));
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0));
  ASSERT_THAT(run.reports, SizeIs(2));
  EXPECT_EQ(run.reports[0], cval);
  EXPECT_GE(run.reports[1], count_before);
  ASSERT_OK_AND_ASSIGN(uint64_t count_after, cpu.GetOneReg(aarch64_sys::kCntvctEl0));
  EXPECT_GE(count_after, run.reports[1]);
  // GetSystemRegs names them the same way.
  ASSERT_OK_AND_ASSIGN(auto sysregs, cpu.GetSystemRegs());
  bool found = false;
  for (const auto& [reg, value] : sysregs) {
    if (reg == aarch64_sys::kCntvCvalEl0) {
      found = true;
      EXPECT_EQ(value, cval);
    }
  }
  EXPECT_TRUE(found);
}

TEST_P(AArch64GuestConformance, MpidrPsciVersionAndSystemRegs) {
  AArch64GuestOptions options;
  options.vcpus = 2;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest(options));
  ASSERT_OK_AND_ASSIGN(uint64_t mpidr0, guest->vcpu(0).GetMpidr());
  ASSERT_OK_AND_ASSIGN(uint64_t mpidr1, guest->vcpu(1).GetMpidr());
  EXPECT_EQ(mpidr0 & 0xff00ffffffull, 0u);
  EXPECT_EQ(mpidr1 & 0xff00ffffffull, 1u);
  EXPECT_NE(mpidr0 & (1ull << 31), 0u);  // RES1

  ASSERT_OK_AND_ASSIGN(PsciVersion psci, guest->vcpu(0).GetPsciVersion());
  EXPECT_TRUE(psci.major >= 1 || (psci.major == 0 && psci.minor >= 2))
      << psci.major << "." << psci.minor;

  ASSERT_OK_AND_ASSIGN(auto sysregs, guest->vcpu(1).GetSystemRegs());
  EXPECT_GT(sysregs.size(), 20u);
  bool found = false;
  for (const auto& [reg, value] : sysregs) {
    if (reg == aarch64_sys::kMpidrEl1) {
      found = true;
      EXPECT_EQ(value, mpidr1);
    }
  }
  EXPECT_TRUE(found) << "MPIDR_EL1 not among " << sysregs.size() << " registers";
}

TEST_P(AArch64GuestConformance, TwoVcpusRunConcurrently) {
  AArch64GuestOptions options;
  options.vcpus = 2;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest(options));
  std::memset(guest->ram() + (HV_A64_SCRATCH - HV_A64_RAM_BASE), 0, 16);
  ASSERT_OK(guest->Start(0, Routine::kWaitForPeer,
                         {{1, HV_A64_SCRATCH}, {2, HV_A64_SCRATCH + 8}}));
  ASSERT_OK(guest->Start(1, Routine::kWaitForPeer,
                         {{1, HV_A64_SCRATCH + 8}, {2, HV_A64_SCRATCH}}));
  absl::StatusOr<GuestRun> runs[2] = {absl::UnknownError("not run"),
                                      absl::UnknownError("not run")};
  std::thread second([&] { runs[1] = guest->Run(1); });
  runs[0] = guest->Run(0);
  second.join();
  for (uint32_t i = 0; i < 2; ++i) {
    ASSERT_OK(runs[i].status()) << "vCPU " << i;
    EXPECT_EQ(runs[i]->end, GuestRun::End::kDone);
    ASSERT_OK_AND_ASSIGN(uint64_t mpidr, guest->vcpu(i).GetMpidr());
    EXPECT_THAT(runs[i]->reports, ElementsAre(mpidr)) << "vCPU " << i;
  }
  EXPECT_NE(runs[0]->reports, runs[1]->reports);
}

TEST_P(AArch64GuestConformance, KickAndImmediateExitInterrupt) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest());
  VcpuAArch64& cpu = guest->vcpu(0);
  ASSERT_OK(guest->Start(0, Routine::kSpin, {}));
  cpu.SetImmediateExit(true);
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, cpu.Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kInterrupted);
  ASSERT_OK_AND_ASSIGN(uint64_t pc, cpu.GetOneReg(AArch64Reg::Pc()));
  EXPECT_EQ(pc, HV_A64_CODE + a64::Offset(Routine::kSpin));

  // A kick from another thread ends a run spinning in the guest.
  std::atomic<bool> stop{false};
  std::thread kicker([&] {
    while (!stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      EXPECT_OK(cpu.Kick());
    }
  });
  ASSERT_OK_AND_ASSIGN(exit, cpu.Run());
  stop = true;
  kicker.join();
  EXPECT_EQ(exit.kind, VcpuExitKind::kInterrupted);
  // It ran: the PC moved past the prologue into the spin loop.
  ASSERT_OK_AND_ASSIGN(pc, cpu.GetOneReg(AArch64Reg::Pc()));
  EXPECT_GT(pc, HV_A64_CODE + a64::Offset(Routine::kSpin));

  // A kick with no run in progress interrupts the next one.
  ASSERT_OK(cpu.Kick());
  ASSERT_OK_AND_ASSIGN(exit, cpu.Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kInterrupted);
}

TEST_P(AArch64GuestConformance, PointerAuthComesAsAPair) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, NewVm());
  ASSERT_OK_AND_ASSIGN(auto vcpu, vm->AsAArch64()->CreateVcpuAArch64(0));
  if (!vcpu->SupportsFeature(VcpuFeature::kPtrAuthAddress) ||
      !vcpu->SupportsFeature(VcpuFeature::kPtrAuthGeneric)) {
    GTEST_SKIP() << GetParam().name << " offers no pointer authentication";
  }
  EXPECT_THAT(vcpu->Init({VcpuFeature::kPtrAuthAddress}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("together")));
  EXPECT_THAT(vcpu->Run(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(vcpu->Init({VcpuFeature::kPtrAuthAddress, VcpuFeature::kPtrAuthGeneric}));
}

TEST_P(AArch64GuestConformance, BadRegisterIsInvalidArgumentNamingIt) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest());
  VcpuAArch64& cpu = guest->vcpu(0);
  EXPECT_THAT(cpu.GetOneReg(AArch64Reg{AArch64Reg::Kind::kCore, 99}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("core(99)")));
  EXPECT_THAT(cpu.SetOneReg(AArch64Reg::Sys(1, 0, 7, 5, 0), 0),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("sys(1,0,7,5,0)")));
  EXPECT_THAT(cpu.GetOneReg(AArch64Reg{AArch64Reg::Kind::kFpSimd, 3}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fpsimd(3)")));
  EXPECT_THAT(cpu.SetOneReg(AArch64Reg::Fpsr(), 1ull << 40),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fpsr")));
  EXPECT_THAT(cpu.GetVectorReg(32),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("v32")));
  // A well-formed encoding the hypervisor does not expose: NOT_FOUND.
  EXPECT_THAT(cpu.GetOneReg(AArch64Reg::Sys(3, 7, 15, 15, 7)),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(AArch64GuestConformance, RunAndRegistersBeforeInitAreFailedPrecondition) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, NewVm());
  ASSERT_OK_AND_ASSIGN(auto vcpu, vm->AsAArch64()->CreateVcpuAArch64(0));
  EXPECT_THAT(vcpu->Run(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("Init")));
  EXPECT_THAT(vcpu->GetOneReg(AArch64Reg::Pc()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(vcpu->GetSystemRegs(), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK(vcpu->Init({VcpuFeature::kPsci0_2}));
  EXPECT_OK(vcpu->GetOneReg(AArch64Reg::Pc()).status());
  // A reset keeps the features; asking for others is refused.
  EXPECT_OK(vcpu->Init({VcpuFeature::kPsci0_2}));
  EXPECT_THAT(vcpu->Init({}), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_P(AArch64GuestConformance, Pvtime) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest());
  VcpuAArch64& cpu = guest->vcpu(0);
  if (!cpu.HasPvtime()) {
    EXPECT_THAT(cpu.InitPvtime(HV_A64_SCRATCH),
                StatusIs(absl::StatusCode::kUnimplemented));
    return;
  }
  EXPECT_THAT(cpu.InitPvtime(HV_A64_SCRATCH + 8),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("64-byte")));
  EXPECT_OK(cpu.InitPvtime(HV_A64_SCRATCH + 0x1000));
}

TEST_P(AArch64GuestConformance, PmuNeedsFeatureAndFinalizedGic) {
  ASSERT_OK_AND_ASSIGN(bool gic_v3, GicV3Offered());
  if (!gic_v3) return;
  AArch64GuestOptions options = WithGic();
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> plain, NewGuest(options));
    EXPECT_THAT(plain->vcpu(0).InitPmu(23),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("pmu-v3")));
  }
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, NewVm());
    ASSERT_OK_AND_ASSIGN(auto probe, vm->AsAArch64()->CreateVcpuAArch64(0));
    if (!probe->SupportsFeature(VcpuFeature::kPmuV3)) {
      GTEST_SKIP() << GetParam().name << " offers no PMUv3";
    }
  }
  options.features = {VcpuFeature::kPsci0_2, VcpuFeature::kPmuV3};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest(options));
  EXPECT_THAT(guest->vcpu(0).InitPmu(40), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_OK(guest->vcpu(0).InitPmu(23));
}

// A vCPU created powered off (PSCI) is kStopped; made runnable through its
// MP state it runs; and back to stopped. What restoring a secondary vCPU
// that the guest had not started (or had stopped) needs.
TEST_P(AArch64GuestConformance, MpStateOfAPoweredOffVcpuRoundTrips) {
  AArch64GuestOptions options;
  options.features = {VcpuFeature::kPsci0_2, VcpuFeature::kPowerOff};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest(options));
  VcpuAArch64& vcpu = guest->vcpu(0);
  if (!hypervisor_->CheckCapability(HypervisorCap::kMpState)) {
    EXPECT_THAT(vcpu.GetMpState(), StatusIs(absl::StatusCode::kUnimplemented));
    return;
  }
  EXPECT_THAT(vcpu.GetMpState(), IsOkAndHolds(MpState::kStopped));
  EXPECT_THAT(vcpu.SetMpState(MpState::kHalted),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(vcpu.GetMpState(), IsOkAndHolds(MpState::kStopped));
  ASSERT_OK(vcpu.SetMpState(MpState::kRunnable));
  EXPECT_THAT(vcpu.GetMpState(), IsOkAndHolds(MpState::kRunnable));
  Store64(guest->ram() + (HV_A64_SCRATCH - HV_A64_RAM_BASE), 0x5eed);
  ASSERT_OK(guest->Start(0, Routine::kLoadReport, {{1, HV_A64_SCRATCH}}));
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0));
  EXPECT_EQ(run.end, GuestRun::End::kDone);
  EXPECT_THAT(run.reports, ElementsAre(0x5eedu));
  ASSERT_OK(vcpu.SetMpState(MpState::kStopped));
  EXPECT_THAT(vcpu.GetMpState(), IsOkAndHolds(MpState::kStopped));
}

// Software step stops after each instruction (ESR EC 0x32, Arm ARM
// D17.2.37); a hardware breakpoint stops before the instruction at its
// address (EC 0x30); with debugging off the routine runs to its end.
TEST_P(AArch64GuestConformance, SingleStepAndHardwareBreakpoint) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest, NewGuest());
  VcpuAArch64& cpu = guest->vcpu(0);
  Vcpu::GuestDebug step;
  step.enable = true;
  step.single_step = true;
  if (!hypervisor_->CheckCapability(HypervisorCap::kGuestDebug)) {
    EXPECT_THAT(cpu.SetGuestDebug(step), StatusIs(absl::StatusCode::kUnimplemented));
    return;
  }
  Vcpu::GuestDebug bad;
  bad.enable = true;
  bad.hw_breakpoints = {HV_A64_CODE + 2};
  EXPECT_THAT(cpu.SetGuestDebug(bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("word-aligned")));
  bad.hw_breakpoints.assign(17, HV_A64_CODE);
  EXPECT_THAT(cpu.SetGuestDebug(bad),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("17 hardware breakpoints")));

  // store_load: str, ldr, then the report.
  const uint64_t start = HV_A64_CODE + a64::Offset(Routine::kStoreLoad);
  constexpr uint64_t kValue = 0x5eed;
  ASSERT_OK(guest->Start(0, Routine::kStoreLoad, {{1, HV_A64_SCRATCH}, {2, kValue}}));
  ASSERT_OK(cpu.SetGuestDebug(step));
  for (uint64_t n = 1; n <= 2; ++n) {
    ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0));
    ASSERT_EQ(run.last_exit.kind, VcpuExitKind::kDebug) << "step " << n;
    EXPECT_EQ(run.last_exit.debug.syndrome >> 26, 0x32u) << "step " << n;
    EXPECT_THAT(cpu.GetOneReg(AArch64Reg::Pc()), IsOkAndHolds(start + 4 * n));
  }

  ASSERT_OK(guest->Start(0, Routine::kStoreLoad, {{1, HV_A64_SCRATCH}, {2, kValue}}));
  Vcpu::GuestDebug breakpoint;
  breakpoint.enable = true;
  breakpoint.hw_breakpoints = {start + 4};
  ASSERT_OK(cpu.SetGuestDebug(breakpoint));
  ASSERT_OK_AND_ASSIGN(GuestRun stopped, guest->Run(0));
  ASSERT_EQ(stopped.last_exit.kind, VcpuExitKind::kDebug);
  EXPECT_EQ(stopped.last_exit.debug.syndrome >> 26, 0x30u);
  EXPECT_THAT(cpu.GetOneReg(AArch64Reg::Pc()), IsOkAndHolds(start + 4));

  ASSERT_OK(cpu.SetGuestDebug({}));
  ASSERT_OK_AND_ASSIGN(GuestRun finished, guest->Run(0));
  EXPECT_EQ(finished.end, GuestRun::End::kDone);
  EXPECT_THAT(finished.reports, ElementsAre(kValue));
}

}  // namespace
}  // namespace hv::testing
