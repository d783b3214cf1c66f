// HaxmVcpu against the fake driver: creation, exits decoded from the tunnel
// and I/O buffer (port I/O incl. string I/O, fast MMIO, HLT, panics, host
// interrupts, interrupt windows), completions, kicks, and register state.
#include "hypervisor/haxm/haxm_vcpu.h"

#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/haxm/haxm_hypervisor.h"
#include "hypervisor/haxm/haxm_test_util.h"
#include "testing/fakes/haxm_fake.h"
#include "testing/backend_expectations.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

TEST(HaxmVcpu, CreateIsVcpuCreateOpenSetupTunnel) {
  for (const haxm_abi::Platform* platform : HaxmPlatforms()) {
    SCOPED_TRACE(platform->name);
    HaxmTestEnv env = NewHaxmVcpu(HaxmOptionsFor(platform));
    ASSERT_NE(env.vcpu, nullptr);
    env.fake->ClearCalls();
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, env.vm->CreateVcpu(5));
    EXPECT_EQ(vcpu->id(), 5u);
    const std::vector<HaxmCall> calls = env.fake->Calls();
    ASSERT_THAT(calls, SizeIs(4));
    EXPECT_EQ(calls[0].name, "HAX_VM_IOCTL_VCPU_CREATE");
    EXPECT_THAT(calls[0].input, ElementsAre(5, 0, 0, 0));
    EXPECT_EQ(calls[1].name,
              "open " + haxm_abi::VcpuDevicePath(*platform, 0, 5));
    EXPECT_EQ(calls[2].name, "HAX_VCPU_IOCTL_SETUP_TUNNEL");
    EXPECT_EQ(calls[3].name, "map tunnel");
    EXPECT_EQ(env.fake->MappedTunnels(), 2u);
    vcpu.reset();
    EXPECT_EQ(env.fake->MappedTunnels(), 1u);
    EXPECT_EQ(env.fake->LiveVcpus(), 1u);
    EXPECT_THAT(env.fake->Violations(), SizeIs(0));
  }
}

TEST(HaxmVcpu, IdsAreCheckedAndFreedWithTheVcpu) {
  HaxmTestEnv env = NewHaxmVcpu();
  ASSERT_NE(env.vcpu, nullptr);
  EXPECT_THAT(env.vm->CreateVcpu(16),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("ids below 16")));
  EXPECT_THAT(env.vm->CreateVcpu(0),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(env.fake->Calls(), SizeIs(0));
  env.vcpu.reset();
  EXPECT_EQ(env.fake->LiveVcpus(), 0u);
  EXPECT_OK(env.vm->CreateVcpu(0).status());
  EXPECT_THAT(env.fake->Violations(), SizeIs(0));
}

TEST(HaxmVcpu, PortIoIsDecodedAndCompleted) {
  HaxmTestEnv env = NewHaxmVcpu();
  ASSERT_NE(env.vcpu, nullptr);
  env.fake->QueueIo(0, 0x3f8, true, {'h'});
  env.fake->QueueIo(0, 0x71, false, {0, 0, 0, 0});
  env.fake->QueueHalt(0);
  ASSERT_OK_AND_ASSIGN(VcpuExit out, env.vcpu->Run());
  ASSERT_EQ(out.kind, VcpuExitKind::kIo);
  EXPECT_EQ(out.raw_reason, haxm_abi::kExitIo);
  EXPECT_EQ(out.io.port, 0x3f8);
  EXPECT_EQ(out.io.size, 1);
  EXPECT_EQ(out.io.count, 1u);
  EXPECT_TRUE(out.io.is_write);
  std::vector<uint8_t> written;
  ASSERT_OK(env.vcpu->HandleIo(
      [&](IoRequest& io) { written.assign(io.data.begin(), io.data.end()); }));
  EXPECT_THAT(written, ElementsAre('h'));
  EXPECT_THAT(env.vcpu->HandleIo([](IoRequest&) {}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(VcpuExit in, env.vcpu->Run());
  ASSERT_EQ(in.kind, VcpuExitKind::kIo);
  EXPECT_FALSE(in.io.is_write);
  EXPECT_EQ(in.io.size, 4);
  ASSERT_OK(env.vcpu->HandleIo([](IoRequest& io) {
    EXPECT_EQ(io.address, 0x71u);
    for (size_t i = 0; i < io.data.size(); ++i) io.data[i] = 0x10 + i;
  }));
  ASSERT_OK_AND_ASSIGN(VcpuExit halt, env.vcpu->Run());
  EXPECT_EQ(halt.kind, VcpuExitKind::kHlt);
  EXPECT_THAT(env.fake->CompletedRead(0), ElementsAre(0x10, 0x11, 0x12, 0x13));
}

TEST(HaxmVcpu, StringIoIsCountAccessesInGuestOrder) {
  HaxmTestEnv env = NewHaxmVcpu();
  ASSERT_NE(env.vcpu, nullptr);
  // OUTSW x3 upwards, then downwards (EFLAGS.DF): the buffer is in address
  // order, the guest's accesses are not.
  env.fake->QueueStringIo(0, 0x80, true, 2, 3, false, {1, 0, 2, 0, 3, 0});
  env.fake->QueueStringIo(0, 0x80, true, 2, 3, true, {1, 0, 2, 0, 3, 0});
  env.fake->QueueStringIo(0, 0x60, false, 1, 4, true, {});
  env.fake->QueueHalt(0);
  for (bool downwards : {false, true}) {
    ASSERT_OK_AND_ASSIGN(VcpuExit exit, env.vcpu->Run());
    ASSERT_EQ(exit.kind, VcpuExitKind::kIo);
    EXPECT_EQ(exit.io.count, 3u);
    EXPECT_EQ(exit.io.size, 2);
    std::vector<uint8_t> seen;
    ASSERT_OK(env.vcpu->HandleIo([&](IoRequest& io) {
      ASSERT_EQ(io.data.size(), 2u);
      seen.push_back(io.data[0]);
    }));
    if (downwards) {
      EXPECT_THAT(seen, ElementsAre(3, 2, 1));
    } else {
      EXPECT_THAT(seen, ElementsAre(1, 2, 3));
    }
  }
  ASSERT_OK_AND_ASSIGN(VcpuExit ins, env.vcpu->Run());
  ASSERT_EQ(ins.kind, VcpuExitKind::kIo);
  EXPECT_EQ(ins.io.count, 4u);
  uint8_t next = 0xa0;
  ASSERT_OK(env.vcpu->HandleIo([&](IoRequest& io) { io.data[0] = next++; }));
  ASSERT_OK(env.vcpu->Run().status());
  // INSB downwards: the first access fills the highest address.
  EXPECT_THAT(env.fake->CompletedRead(0), ElementsAre(0xa3, 0xa2, 0xa1, 0xa0));
}

TEST(HaxmVcpu, FastMmioIsDecodedAndReadsCompleted) {
  HaxmTestEnv env = NewHaxmVcpu();
  ASSERT_NE(env.vcpu, nullptr);
  env.fake->QueueMmio(0, 0xfee00030, true, {0x11, 0x22, 0x33, 0x44});
  env.fake->QueueMmio(0, 0xd0000008, false, std::vector<uint8_t>(8));
  env.fake->QueueHalt(0);
  ASSERT_OK_AND_ASSIGN(VcpuExit write, env.vcpu->Run());
  ASSERT_EQ(write.kind, VcpuExitKind::kMmio);
  EXPECT_EQ(write.mmio.address, 0xfee00030u);
  EXPECT_EQ(write.mmio.size, 4);
  EXPECT_TRUE(write.mmio.is_write);
  ASSERT_OK(env.vcpu->HandleMmio([](IoRequest& io) {
    EXPECT_THAT(io.data, ElementsAre(0x11, 0x22, 0x33, 0x44));
  }));
  ASSERT_OK_AND_ASSIGN(VcpuExit read, env.vcpu->Run());
  ASSERT_EQ(read.kind, VcpuExitKind::kMmio);
  EXPECT_FALSE(read.mmio.is_write);
  EXPECT_EQ(read.mmio.size, 8);
  ASSERT_OK(env.vcpu->HandleMmio([](IoRequest& io) {
    for (size_t i = 0; i < io.data.size(); ++i) io.data[i] = 0xb0 + i;
  }));
  ASSERT_OK(env.vcpu->Run().status());
  EXPECT_THAT(env.fake->CompletedRead(0),
              ElementsAre(0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7));
}

TEST(HaxmVcpu, OtherExitsAreDecoded) {
  HaxmTestEnv env = NewHaxmVcpu();
  ASSERT_NE(env.vcpu, nullptr);
  env.fake->QueueExit(0, haxm_abi::kExitStateChange);
  env.fake->QueueExit(0, haxm_abi::kExitRealMode);
  env.fake->QueueExit(0, haxm_abi::kExitUnknown, 33);
  env.fake->QueueExit(0, haxm_abi::kExitMmio);
  env.fake->QueueExit(0, 77);
  const VcpuExitKind expected[] = {
      VcpuExitKind::kShutdown, VcpuExitKind::kFailEntry,
      VcpuExitKind::kFailEntry, VcpuExitKind::kInternalError,
      VcpuExitKind::kUnknown};
  for (VcpuExitKind kind : expected) {
    ASSERT_OK_AND_ASSIGN(VcpuExit exit, env.vcpu->Run());
    EXPECT_EQ(exit.kind, kind) << VcpuExitKindName(exit.kind);
  }
}

TEST(HaxmVcpu, HostInterruptsEnterTheGuestAgain) {
  HaxmTestEnv env = NewHaxmVcpu();
  ASSERT_NE(env.vcpu, nullptr);
  env.fake->QueueHostInterrupt(0);
  env.fake->QueueHostInterrupt(0);
  env.fake->QueueHalt(0);
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, env.vcpu->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kHlt);
  EXPECT_EQ(CountHaxmCalls(*env.fake, "HAX_VCPU_IOCTL_RUN"), 3u);
}

TEST(HaxmVcpu, InterruptWindowExitsOnlyWhenRequested) {
  HaxmTestEnv env = NewHaxmVcpu();
  ASSERT_NE(env.vcpu, nullptr);
  env.vcpu->SetInterruptWindowRequested(true);
  env.fake->QueueInterruptWindow(0);
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, env.vcpu->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kIrqWindowOpen);
  EXPECT_TRUE(env.vcpu->ReadyForInterrupt());
  ASSERT_OK(env.vcpu->InjectInterrupt(0x30));
  EXPECT_THAT(env.fake->InjectedVectors(0), ElementsAre(0x30));
  env.vcpu->SetInterruptWindowRequested(false);
  env.fake->QueueInterruptWindow(0);
  env.fake->QueueHalt(0);
  ASSERT_OK_AND_ASSIGN(VcpuExit halt, env.vcpu->Run());
  EXPECT_EQ(halt.kind, VcpuExitKind::kHlt);
}

TEST(HaxmVcpu, InjectInterruptIsRefusedUntilTheGuestCanTakeOne) {
  HaxmTestEnv env = NewHaxmVcpu();
  ASSERT_NE(env.vcpu, nullptr);
  // Never run: HAXM has not said the guest can take an interrupt.
  ASSERT_FALSE(env.vcpu->ReadyForInterrupt());
  EXPECT_THAT(env.vcpu->InjectInterrupt(0x30),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("interrupt window")));
  EXPECT_THAT(env.fake->InjectedVectors(0), ElementsAre());
}

TEST(HaxmVcpu, AKickBeforeRunPausesTheNextEntry) {
  HaxmTestEnv env = NewHaxmVcpu();
  ASSERT_NE(env.vcpu, nullptr);
  env.fake->QueueHalt(0);
  ASSERT_OK(env.vcpu->Kick());
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, env.vcpu->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kInterrupted);
  EXPECT_EQ(exit.raw_reason, haxm_abi::kExitPaused);
  EXPECT_EQ(CountHaxmCalls(*env.fake, "signal thread"), 0u) << "nothing was running";
  // Consumed: the guest runs on.
  ASSERT_OK_AND_ASSIGN(VcpuExit halt, env.vcpu->Run());
  EXPECT_EQ(halt.kind, VcpuExitKind::kHlt);
  env.vcpu->SetImmediateExit(true);
  ASSERT_OK_AND_ASSIGN(VcpuExit paused, env.vcpu->Run());
  EXPECT_EQ(paused.kind, VcpuExitKind::kInterrupted);
}

TEST(HaxmVcpu, AKickFromAnotherThreadEndsABlockedRun) {
  HaxmTestEnv env = NewHaxmVcpu();
  ASSERT_NE(env.vcpu, nullptr);
  ASSERT_OK_AND_ASSIGN(VcpuExit exit,
                       RunKickedAfter(*env.vcpu, absl::Milliseconds(50)));
  EXPECT_EQ(exit.kind, VcpuExitKind::kInterrupted);
  EXPECT_EQ(exit.raw_reason, haxm_abi::kExitInterrupt);
}

TEST(HaxmVcpu, AKickRacingAnIoExitComesAfterItsCompletion) {
  HaxmTestEnv env = NewHaxmVcpu();
  ASSERT_NE(env.vcpu, nullptr);
  env.fake->QueueIo(0, 0x60, false, {0});
  ASSERT_OK_AND_ASSIGN(VcpuExit io, env.vcpu->Run());
  ASSERT_EQ(io.kind, VcpuExitKind::kIo);
  ASSERT_OK(env.vcpu->Kick());
  ASSERT_OK(env.vcpu->HandleIo([](IoRequest& r) { r.data[0] = 0x42; }));
  ASSERT_OK_AND_ASSIGN(VcpuExit next, env.vcpu->Run());
  EXPECT_EQ(next.kind, VcpuExitKind::kInterrupted);
  EXPECT_THAT(env.fake->CompletedRead(0), ElementsAre(0x42));
}

TEST(HaxmVcpu, RunErrorsNameTheIoctl) {
  HaxmTestEnv env = NewHaxmVcpu();
  ASSERT_NE(env.vcpu, nullptr);
  env.fake->FailNextIoctl("HAX_VCPU_IOCTL_RUN", EFAULT);
  EXPECT_THAT(env.vcpu->Run(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "HAX_VCPU_IOCTL_RUN (vCPU 0): Bad address"));
}

TEST(HaxmVcpu, RegistersRoundTripThroughVcpuState) {
  HaxmTestEnv env = NewHaxmVcpu();
  ASSERT_NE(env.vcpu, nullptr);
  Regs regs;
  regs.rax = 1;
  regs.rcx = 2;
  regs.rdx = 3;
  regs.rbx = 4;
  regs.rsp = 5;
  regs.rbp = 6;
  regs.rsi = 7;
  regs.rdi = 8;
  regs.r15 = 15;
  regs.rip = 0x1000;
  regs.rflags = 0x202;
  ASSERT_OK(env.vcpu->SetRegs(regs));
  ASSERT_OK_AND_ASSIGN(haxm_abi::vcpu_state_t state, env.fake->VcpuState(0));
  EXPECT_EQ(state.regs[1], 2u) << "rcx is register 1";
  EXPECT_EQ(state.regs[3], 4u) << "rbx is register 3";
  EXPECT_EQ(state.regs[15], 15u);
  EXPECT_EQ(state.rip, 0x1000u);
  ASSERT_OK_AND_ASSIGN(Regs back, env.vcpu->GetRegs());
  EXPECT_EQ(back.rbx, 4u);
  EXPECT_EQ(back.rdi, 8u);
  EXPECT_EQ(back.rflags, 0x202u);
}

TEST(HaxmVcpu, SregsUseAccessRightsAndEferThroughMsrs) {
  HaxmTestEnv env = NewHaxmVcpu();
  ASSERT_NE(env.vcpu, nullptr);
  ASSERT_OK_AND_ASSIGN(Sregs sregs, env.vcpu->GetSregs());
  EXPECT_EQ(sregs.cs.selector, 0xf000);
  EXPECT_EQ(sregs.cs.base, 0xffff0000u);
  EXPECT_TRUE(sregs.cs.present);
  EXPECT_EQ(sregs.apic_base, 0xfee00900u);
  sregs.cs = Segment{0, 0xffffffff, 8, 0xb, true, 0, false, true, true, true,
                     false, false};
  sregs.ss.unusable = true;
  sregs.cr0 = 0x80050033;
  sregs.cr4 = 0x20;
  sregs.efer = 0x500;
  sregs.gdt = {0x1000, 0x27};
  ASSERT_OK(env.vcpu->SetSregs(sregs));
  ASSERT_OK_AND_ASSIGN(haxm_abi::vcpu_state_t state, env.fake->VcpuState(0));
  EXPECT_EQ(state.cs.ar, 0xbu | haxm_abi::kArS | haxm_abi::kArPresent |
                             haxm_abi::kArL | haxm_abi::kArG);
  EXPECT_TRUE(state.ss.ar & haxm_abi::kArUnusable);
  EXPECT_EQ(state.gdt.limit, 0x27u);
  EXPECT_THAT(env.fake->VcpuMsr(0, 0xc0000080),
              ::hv::testing::IsOkAndHolds(0x500u));
  ASSERT_OK_AND_ASSIGN(Sregs back, env.vcpu->GetSregs());
  EXPECT_TRUE(back.cs.l);
  EXPECT_FALSE(back.cs.db);
  EXPECT_EQ(back.efer, 0x500u);
  EXPECT_EQ(back.cr0, 0x80050033u);
  EXPECT_EQ(back.gdt.base, 0x1000u);

  env.fake->ClearCalls();
  sregs.cr8 = 1;
  EXPECT_THAT(env.vcpu->SetSregs(sregs),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("CR8")));
  EXPECT_THAT(env.fake->Calls(), SizeIs(0));
}

TEST(HaxmVcpu, FpuRoundTripsAndKeepsMxcsrMask) {
  HaxmTestEnv env = NewHaxmVcpu();
  ASSERT_NE(env.vcpu, nullptr);
  Fpu fpu;
  fpu.fcw = 0x27f;
  fpu.mxcsr = 0x1fa0;
  fpu.fpr[2][0] = 0x12;
  fpu.xmm[3][1] = 0x34;
  fpu.xmm[12][15] = 0x56;
  ASSERT_OK(env.vcpu->SetFpu(fpu));
  ASSERT_OK_AND_ASSIGN(haxm_abi::fx_layout fx, env.fake->VcpuFpu(0));
  EXPECT_EQ(fx.mxcsr_mask, 0xffffu);
  EXPECT_EQ(fx.mmx_2[4][15], 0x56);
  ASSERT_OK_AND_ASSIGN(Fpu back, env.vcpu->GetFpu());
  EXPECT_EQ(back.fcw, 0x27f);
  EXPECT_EQ(back.mxcsr, 0x1fa0u);
  EXPECT_EQ(back.fpr[2][0], 0x12);
  EXPECT_EQ(back.xmm[3][1], 0x34);
  EXPECT_EQ(back.xmm[12][15], 0x56);
}

TEST(HaxmVcpu, MsrsGoInBatchesAndUnknownOnesAreNamed) {
  for (const haxm_abi::Platform* platform : HaxmPlatforms()) {
    SCOPED_TRACE(platform->name);
    HaxmTestEnv env = NewHaxmVcpu(HaxmOptionsFor(platform));
    ASSERT_NE(env.vcpu, nullptr);
    std::vector<uint32_t> indices;
    for (int i = 0; i < 40; ++i) indices.push_back(i % 2 ? 0x1b : 0xc0000082);
    ASSERT_OK(env.vcpu->SetMsrs({{0xc0000082, 0xffffffff81000000}}));
    env.fake->ClearCalls();
    ASSERT_OK_AND_ASSIGN(std::vector<MsrEntry> msrs,
                         env.vcpu->GetMsrs(indices));
    ASSERT_THAT(msrs, SizeIs(40));
    EXPECT_EQ(msrs[0].value, 0xffffffff81000000u);
    EXPECT_EQ(msrs[39].value, 0xfee00900u);
    EXPECT_EQ(CountHaxmCalls(*env.fake, "HAX_VCPU_IOCTL_GET_MSRS"), 2u);
    const uint32_t unknown[] = {0x1b, 0x1234};
    EXPECT_THAT(env.vcpu->GetMsrs(unknown),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("cannot read MSR 0x1234")));
    const absl::Status set = env.vcpu->SetMsrs({{0x1234, 1}});
    if (platform == &haxm_abi::WindowsPlatform()) {
      EXPECT_THAT(set, StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("cannot write MSR 0x1234")));
    } else {
      // The POSIX port never reports how many MSRs SET_MSRS wrote.
      EXPECT_OK(set);
    }
  }
}

TEST(HaxmVcpu, CpuidReachesTheDriverInEachPortsForm) {
  for (const haxm_abi::Platform* platform : HaxmPlatforms()) {
    SCOPED_TRACE(platform->name);
    HaxmTestEnv env = NewHaxmVcpu(HaxmOptionsFor(platform));
    ASSERT_NE(env.vcpu, nullptr);
    CpuidEntry leaf1;
    leaf1.function = 1;
    leaf1.ecx = 0x80000000;
    CpuidEntry leaf7;
    leaf7.function = 7;
    leaf7.significant_index = true;
    leaf7.ebx = 0x9;
    ASSERT_OK(env.vcpu->SetCpuid({leaf1, leaf7}));
    const std::vector<haxm_abi::hax_cpuid_entry> seen = env.fake->VcpuCpuid(0);
    ASSERT_THAT(seen, SizeIs(2));
    EXPECT_EQ(seen[0].function, 1u);
    EXPECT_EQ(seen[0].ecx, 0x80000000u);
    EXPECT_EQ(seen[1].ebx, 0x9u);
    EXPECT_EQ(seen[1].flags, 1u);
    std::vector<CpuidEntry> too_many(65);
    EXPECT_THAT(env.vcpu->SetCpuid(too_many),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(HaxmVcpu, WhatHaxmLacksIsUnimplemented) {
  HaxmTestEnv env = NewHaxmVcpu();
  ASSERT_NE(env.vcpu, nullptr);
  EXPECT_THAT(env.vcpu->InjectNmi(), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(env.vcpu->GetXcrs(), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(env.vcpu->GetLapic(), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(env.vcpu->SetTscOffset(1),
              StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(env.vcpu->GetTscKhz(), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(env.vcpu->HandleMmio([](IoRequest&) {}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace hv::testing
