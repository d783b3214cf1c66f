#include "hypervisor/whpx/whpx_vcpu.h"

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/whpx/whpx_test_util.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace whpx_abi;  // NOLINT

class WhpxVcpuTest : public WhpxVcpuFixture {
 protected:
  uint64_t Reg(WHV_REGISTER_NAME name) {
    auto value = bed_.fake->Register(0, name);
    EXPECT_OK(value);
    return value.ok() ? value->Reg64 : 0;
  }
};

TEST_F(WhpxVcpuTest, PortWriteGoesToTheHandlerAndCompletes) {
  const uint64_t rip = Reg(WHvX64RegisterRip);
  bed_.fake->QueueIo(0, 0x3f8, true, {'A'});
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu_->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kIo);
  EXPECT_EQ(exit.raw_reason, WHvRunVpExitReasonX64IoPortAccess);
  EXPECT_EQ(exit.io.port, 0x3f8);
  EXPECT_EQ(exit.io.size, 1);
  EXPECT_TRUE(exit.io.is_write);
  EXPECT_EQ(exit.io.count, 1u);
  std::vector<uint8_t> seen;
  ASSERT_OK(vcpu_->HandleIo([&](IoRequest& io) {
    EXPECT_EQ(io.address, 0x3f8u);
    EXPECT_TRUE(io.is_write);
    seen.assign(io.data.begin(), io.data.end());
  }));
  EXPECT_THAT(seen, ElementsAre('A'));
  EXPECT_EQ(Reg(WHvX64RegisterRip), rip + 1);  // out dx, al
  EXPECT_THAT(vcpu_->HandleIo([](IoRequest&) {}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(WhpxVcpuTest, PortReadResultReachesTheGuestRegister) {
  WHV_REGISTER_VALUE rax = {};
  rax.Reg64 = 0xaaaabbbbccccdddd;
  ASSERT_OK(bed_.fake->SetRegister(0, WHvX64RegisterRax, rax));
  bed_.fake->QueueIo(0, 0x60, false, {0, 0});
  bed_.fake->QueueHalt(0);
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu_->Run());
  ASSERT_EQ(exit.kind, VcpuExitKind::kIo);
  EXPECT_EQ(exit.io.size, 2);
  EXPECT_FALSE(exit.io.is_write);
  ASSERT_OK(vcpu_->HandleIo([](IoRequest& io) {
    ASSERT_EQ(io.data.size(), 2u);
    EXPECT_EQ(io.data[0], 0);  // a read starts zeroed
    io.data[0] = 0x34;
    io.data[1] = 0x12;
  }));
  ASSERT_OK_AND_ASSIGN(exit, vcpu_->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kHlt);
  EXPECT_THAT(bed_.fake->CompletedRead(0), ElementsAre(0x34, 0x12));
  // A 16-bit in keeps rax's upper bits.
  EXPECT_EQ(Reg(WHvX64RegisterRax), 0xaaaabbbbcccc1234u);
}

TEST_F(WhpxVcpuTest, AnUnhandledExitIsDeliveredAgain) {
  bed_.fake->QueueIo(0, 0x70, true, {1});
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu_->Run());
  ASSERT_EQ(exit.kind, VcpuExitKind::kIo);
  // No HandleIo: the guest executes the same `out` again.
  ASSERT_OK_AND_ASSIGN(exit, vcpu_->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kIo);
  EXPECT_EQ(exit.io.port, 0x70);
}

TEST_F(WhpxVcpuTest, MmioReadIsSizedByTheProbeAndCompleted) {
  bed_.fake->QueueMmio(0, 0xd0000010, false, {0, 0, 0, 0});
  bed_.fake->QueueHalt(0);
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu_->Run());
  ASSERT_EQ(exit.kind, VcpuExitKind::kMmio);
  EXPECT_EQ(exit.mmio.address, 0xd0000010u);
  EXPECT_EQ(exit.mmio.size, 4);
  EXPECT_FALSE(exit.mmio.is_write);
  // The probe completed nothing.
  const uint64_t rip = Reg(WHvX64RegisterRip);
  ASSERT_OK(vcpu_->HandleMmio([](IoRequest& io) {
    ASSERT_EQ(io.data.size(), 4u);
    const uint32_t value = 0xdeadbeef;
    std::memcpy(io.data.data(), &value, 4);
  }));
  EXPECT_EQ(Reg(WHvX64RegisterRip), rip + 2);  // mov eax, [rbx]
  ASSERT_OK_AND_ASSIGN(exit, vcpu_->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kHlt);
  EXPECT_THAT(bed_.fake->CompletedRead(0), ElementsAre(0xef, 0xbe, 0xad, 0xde));
}

TEST_F(WhpxVcpuTest, MmioWriteHandsTheDataOver) {
  bed_.fake->QueueMmio(0, 0xfed00000, true, {1, 2, 3, 4, 5, 6, 7, 8});
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu_->Run());
  ASSERT_EQ(exit.kind, VcpuExitKind::kMmio);
  EXPECT_EQ(exit.mmio.size, 8);
  EXPECT_TRUE(exit.mmio.is_write);
  std::vector<uint8_t> seen;
  ASSERT_OK(vcpu_->HandleMmio([&](IoRequest& io) {
    EXPECT_EQ(io.address, 0xfed00000u);
    seen.assign(io.data.begin(), io.data.end());
  }));
  EXPECT_THAT(seen, ElementsAre(1, 2, 3, 4, 5, 6, 7, 8));
}

TEST_F(WhpxVcpuTest, EmulatorCallbackFailureIsAnError) {
  bed_.fake->QueueIo(0, 0x60, false, {0});
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu_->Run());
  ASSERT_EQ(exit.kind, VcpuExitKind::kIo);
  bed_.fake->FailNext("WHvSetVirtualProcessorRegisters", kEInvalidArg);
  EXPECT_THAT(vcpu_->HandleIo([](IoRequest&) {}),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("SetVirtualProcessorRegistersCallbackFailed")));
}

TEST_F(WhpxVcpuTest, ImmediateExitNeverEntersTheGuest) {
  vcpu_->SetImmediateExit(true);
  bed_.fake->ClearCalls();
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu_->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kInterrupted);
  EXPECT_THAT(bed_.fake->CallNames(), Not(Contains("WHvRunVirtualProcessor")));
  // A kick before Run() also returns at once, without a cancel.
  ASSERT_OK(vcpu_->Kick());
  ASSERT_OK_AND_ASSIGN(exit, vcpu_->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kInterrupted);
  EXPECT_TRUE(bed_.fake->calls().empty());
}

TEST_F(WhpxVcpuTest, KickCancelsARunningVcpu) {
  std::atomic<bool> done{false};
  std::thread kicker([&] {
    // Kick until Run() returns: the first kicks may land before it enters.
    while (!done.load()) {
      EXPECT_OK(vcpu_->Kick());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  absl::StatusOr<VcpuExit> exit = vcpu_->Run();
  done = true;
  kicker.join();
  ASSERT_OK(exit);
  EXPECT_EQ(exit->kind, VcpuExitKind::kInterrupted);
}

TEST_F(WhpxVcpuTest, KickDuringARunUsesCancel) {
  std::thread runner([&] {
    absl::StatusOr<VcpuExit> exit = vcpu_->Run();
    EXPECT_OK(exit);
    if (exit.ok()) {
      EXPECT_EQ(exit->kind, VcpuExitKind::kInterrupted);
    }
  });
  // Wait until the fake sees the run, then kick.
  for (int i = 0; i < 2000; ++i) {
    const auto names = bed_.fake->CallNames();
    if (std::find(names.begin(), names.end(), "WHvRunVirtualProcessor") !=
        names.end()) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_OK(vcpu_->Kick());
  runner.join();
  EXPECT_THAT(bed_.fake->CallNames(),
              Contains("WHvCancelRunVirtualProcessor"));
}

TEST_F(WhpxVcpuTest, CpuidIsAnsweredFromSetCpuid) {
  CpuidEntry entry;
  entry.function = 0x40000000;
  entry.eax = 0x40000001;
  entry.ebx = 0x12345678;
  ASSERT_OK(vcpu_->SetCpuid({entry}));
  WHV_RUN_VP_EXIT_CONTEXT cpuid = {};
  cpuid.ExitReason = WHvRunVpExitReasonX64Cpuid;
  cpuid.VpContext.InstructionLengthCr8 = 2;
  cpuid.CpuidAccess.Rax = 0x40000000;
  cpuid.CpuidAccess.DefaultResultRcx = 0x99;
  bed_.fake->QueueRawExit(0, cpuid);
  bed_.fake->QueueHalt(0);
  const uint64_t rip = Reg(WHvX64RegisterRip);
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu_->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kHlt);  // CPUID never reached the caller
  EXPECT_EQ(Reg(WHvX64RegisterRax), 0x40000001u);
  EXPECT_EQ(Reg(WHvX64RegisterRbx), 0x12345678u);
  EXPECT_EQ(Reg(WHvX64RegisterRcx), 0u);  // the entry's, not the default
  EXPECT_EQ(Reg(WHvX64RegisterRip), rip + 2);
}

TEST_F(WhpxVcpuTest, UnhandledMsrExitThenGeneralProtection) {
  WHV_RUN_VP_EXIT_CONTEXT msr = {};
  msr.ExitReason = WHvRunVpExitReasonX64MsrAccess;
  msr.MsrAccess.AccessInfo = 1;  // write
  msr.MsrAccess.MsrNumber = 0x4b564d00;
  msr.MsrAccess.Rax = 0x11223344;
  msr.MsrAccess.Rdx = 0x55;
  bed_.fake->QueueRawExit(0, msr);
  bed_.fake->QueueHalt(0);
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu_->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kWrMsr);
  EXPECT_EQ(exit.code, 0x4b564d00u);
  EXPECT_EQ(exit.data, 0x5511223344u);
  ASSERT_OK_AND_ASSIGN(exit, vcpu_->Run());
  const uint64_t pending = Reg(WHvRegisterPendingInterruption);
  EXPECT_EQ(pending & 1, 1u);
  EXPECT_EQ((pending >> 1) & 7, WHvX64PendingException);
  EXPECT_EQ((pending >> 16) & 0xffff, 13u);
}

TEST_F(WhpxVcpuTest, HandleMsrAnswersAnUnimplementedMsr) {
  // A read: the VMM's value lands in edx:eax and rip moves past rdmsr.
  WHV_RUN_VP_EXIT_CONTEXT read = {};
  read.ExitReason = WHvRunVpExitReasonX64MsrAccess;
  read.MsrAccess.MsrNumber = 0x4b564dff;
  read.VpContext.Rip = Reg(WHvX64RegisterRip);
  read.VpContext.InstructionLengthCr8 = 2;
  bed_.fake->QueueRawExit(0, read);
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu_->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kRdMsr);
  const uint64_t rip = Reg(WHvX64RegisterRip);
  ASSERT_OK(vcpu_->HandleMsr([](MsrRequest& request) {
    EXPECT_EQ(request.index, 0x4b564dffu);
    EXPECT_FALSE(request.is_write);
    request.data = 0x1122334455667788;
  }));
  EXPECT_EQ(Reg(WHvX64RegisterRax), 0x55667788u);
  EXPECT_EQ(Reg(WHvX64RegisterRdx), 0x11223344u);
  EXPECT_EQ(Reg(WHvX64RegisterRip), rip + 2);
  // Answered once only.
  EXPECT_THAT(vcpu_->HandleMsr([](MsrRequest&) { ADD_FAILURE(); }),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // A write the VMM refuses: #GP at the next entry, rip unchanged.
  WHV_RUN_VP_EXIT_CONTEXT write = read;
  write.MsrAccess.AccessInfo = 1;
  write.MsrAccess.Rax = 0xaabbccdd;
  write.MsrAccess.Rdx = 0x1;
  write.VpContext.Rip = Reg(WHvX64RegisterRip);
  bed_.fake->QueueRawExit(0, write);
  bed_.fake->QueueHalt(0);
  ASSERT_OK_AND_ASSIGN(exit, vcpu_->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kWrMsr);
  ASSERT_OK(vcpu_->HandleMsr([](MsrRequest& request) {
    EXPECT_TRUE(request.is_write);
    EXPECT_EQ(request.data, 0x1aabbccddu);
    request.fault = true;
  }));
  EXPECT_EQ(Reg(WHvX64RegisterRip), rip + 2);
  ASSERT_OK_AND_ASSIGN(exit, vcpu_->Run());
  const uint64_t pending = Reg(WHvRegisterPendingInterruption);
  EXPECT_EQ(pending & 1, 1u);
  EXPECT_EQ((pending >> 16) & 0xffff, 13u);
}

TEST_F(WhpxVcpuTest, OtherExitsAreDecoded) {
  WHV_RUN_VP_EXIT_CONTEXT raw = {};
  raw.ExitReason = WHvRunVpExitReasonUnrecoverableException;
  bed_.fake->QueueRawExit(0, raw);
  raw = {};
  raw.ExitReason = WHvRunVpExitReasonException;
  raw.VpException.ExceptionType = 14;
  raw.VpException.ErrorCode = 2;
  bed_.fake->QueueRawExit(0, raw);
  raw = {};
  raw.ExitReason = 0x7777;
  bed_.fake->QueueRawExit(0, raw);
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu_->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kShutdown);
  ASSERT_OK_AND_ASSIGN(exit, vcpu_->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kException);
  EXPECT_EQ(exit.code, 14u);
  EXPECT_EQ(exit.data, 2u);
  ASSERT_OK_AND_ASSIGN(exit, vcpu_->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kUnknown);
  EXPECT_EQ(exit.raw_reason, 0x7777u);
}

TEST_F(WhpxVcpuTest, RunFailureNamesTheCall) {
  bed_.fake->FailNext("WHvRunVirtualProcessor", kWhvEInvalidVpState);
  EXPECT_THAT(vcpu_->Run(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "WHvRunVirtualProcessor (vCPU 0): "
                       "WHV_E_INVALID_VP_STATE (HRESULT 0x80370308)"));
}

TEST_F(WhpxVcpuTest, RegisterStateRoundTrips) {
  Regs regs;
  regs.rax = 1;
  regs.rbx = 2;
  regs.r15 = 15;
  regs.rip = 0x1000;
  regs.rflags = 0x202;
  ASSERT_OK(vcpu_->SetRegs(regs));
  EXPECT_EQ(Reg(WHvX64RegisterRbx), 2u);
  EXPECT_EQ(Reg(WHvX64RegisterR15), 15u);
  ASSERT_OK_AND_ASSIGN(Regs back, vcpu_->GetRegs());
  EXPECT_EQ(back.rax, 1u);
  EXPECT_EQ(back.rip, 0x1000u);
  EXPECT_EQ(back.rflags, 0x202u);

  ASSERT_OK_AND_ASSIGN(Sregs sregs, vcpu_->GetSregs());
  EXPECT_EQ(sregs.cs.selector, 0xf000);  // reset state
  EXPECT_EQ(sregs.cs.base, 0xffff0000u);
  EXPECT_EQ(sregs.cs.type, 0xb);
  EXPECT_TRUE(sregs.cs.present && sregs.cs.s);
  sregs.cs.l = true;
  sregs.cs.db = false;
  sregs.cs.dpl = 0;
  sregs.cr0 = 0x80000011;
  sregs.efer = 0x500;
  sregs.gdt.base = 0x1000;
  sregs.gdt.limit = 0x17;
  ASSERT_OK(vcpu_->SetSregs(sregs));
  auto cs = bed_.fake->Register(0, WHvX64RegisterCs);
  ASSERT_OK(cs);
  EXPECT_EQ(cs->Segment.Attributes, 0x209b);  // L, P, S, type 0xb
  ASSERT_OK_AND_ASSIGN(Sregs sregs_back, vcpu_->GetSregs());
  EXPECT_TRUE(sregs_back.cs.l);
  EXPECT_EQ(sregs_back.efer, 0x500u);
  EXPECT_EQ(sregs_back.gdt.limit, 0x17);

  ASSERT_OK_AND_ASSIGN(Fpu fpu, vcpu_->GetFpu());
  EXPECT_EQ(fpu.mxcsr, 0x1f80u);
  fpu.xmm[3][0] = 0x5a;
  fpu.fcw = 0x37f;
  ASSERT_OK(vcpu_->SetFpu(fpu));
  ASSERT_OK_AND_ASSIGN(Fpu fpu_back, vcpu_->GetFpu());
  EXPECT_EQ(fpu_back.xmm[3][0], 0x5a);
  EXPECT_EQ(fpu_back.fcw, 0x37f);
  auto xmm = bed_.fake->Register(0, WHvX64RegisterXmmControlStatus);
  ASSERT_OK(xmm);
  EXPECT_EQ(xmm->XmmControlStatus.XmmStatusControlMask, 0xffffu);  // kept

  DebugRegs debug;
  debug.db[2] = 0x4000;
  debug.dr7 = 0x400;
  ASSERT_OK(vcpu_->SetDebugRegs(debug));
  EXPECT_EQ(Reg(WHvX64RegisterDr2), 0x4000u);
  ASSERT_OK_AND_ASSIGN(DebugRegs debug_back, vcpu_->GetDebugRegs());
  EXPECT_EQ(debug_back.dr7, 0x400u);

  ASSERT_OK(vcpu_->SetXcrs({Xcr{0, 7}}));
  ASSERT_OK_AND_ASSIGN(auto xcrs, vcpu_->GetXcrs());
  ASSERT_EQ(xcrs.size(), 1u);
  EXPECT_EQ(xcrs[0].value, 7u);
}

TEST_F(WhpxVcpuTest, MsrsMapToWhpxRegisters) {
  ASSERT_OK(vcpu_->SetMsrs({MsrEntry{0xc0000082, 0xffff800000001000},
                            MsrEntry{0x277, 0x0007040600070406}}));
  EXPECT_EQ(Reg(WHvX64RegisterLstar), 0xffff800000001000u);
  ASSERT_OK_AND_ASSIGN(auto msrs, vcpu_->GetMsrs({0x277, 0xc0000082}));
  ASSERT_EQ(msrs.size(), 2u);
  EXPECT_EQ(msrs[0].value, 0x0007040600070406u);
  bed_.fake->ClearCalls();
  EXPECT_THAT(vcpu_->GetMsrs({0x277, 0x12345}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("MSR 0x12345")));
  EXPECT_THAT(vcpu_->SetXcrs({Xcr{1, 1}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("XCR1")));
  EXPECT_TRUE(bed_.fake->calls().empty());
}

TEST_F(WhpxVcpuTest, RegisterCallFailureNamesTheCall) {
  bed_.fake->FailNext("WHvSetVirtualProcessorRegisters",
                      kWhvEInvalidVpRegisterName);
  EXPECT_THAT(vcpu_->SetRegs(Regs()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "WHvSetVirtualProcessorRegisters (vCPU 0, regs): "
                       "WHV_E_INVALID_VP_REGISTER_NAME (HRESULT 0x80370309)"));
}

TEST_F(WhpxVcpuTest, InterruptsGoThroughThePendingInterruption) {
  Regs regs;
  regs.rflags = 0x202;  // IF
  ASSERT_OK(vcpu_->SetRegs(regs));
  EXPECT_TRUE(vcpu_->ReadyForInterrupt());
  ASSERT_OK(vcpu_->InjectInterrupt(0x30));
  const uint64_t pending = Reg(WHvRegisterPendingInterruption);
  EXPECT_EQ(pending, 1u | (uint64_t{0x30} << 16));
  EXPECT_FALSE(vcpu_->ReadyForInterrupt());
  EXPECT_THAT(vcpu_->InjectInterrupt(0x31),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("already pending")));
  EXPECT_EQ(bed_.fake->InterruptsDelivered(0x30), 1u);
  EXPECT_EQ(bed_.fake->InterruptsDelivered(0x31), 0u);
}

TEST_F(WhpxVcpuTest, InterruptsAreRefusedWhileTheGuestHasIfClear) {
  Regs regs;
  regs.rflags = 0x2;  // IF clear
  ASSERT_OK(vcpu_->SetRegs(regs));
  EXPECT_FALSE(vcpu_->ReadyForInterrupt());
  EXPECT_THAT(vcpu_->InjectInterrupt(0x30),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("interrupt window")));
  EXPECT_EQ(Reg(WHvRegisterPendingInterruption), 0u);
  EXPECT_EQ(bed_.fake->InterruptsDelivered(0x30), 0u);
}

TEST_F(WhpxVcpuTest, InterruptWindowRequestIsWrittenBeforeEntry) {
  vcpu_->SetInterruptWindowRequested(true);
  WHV_RUN_VP_EXIT_CONTEXT window = {};
  window.ExitReason = WHvRunVpExitReasonX64InterruptWindow;
  bed_.fake->QueueRawExit(0, window);
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu_->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kIrqWindowOpen);
  EXPECT_EQ(Reg(WHvX64RegisterDeliverabilityNotifications),
            kDeliverabilityInterruptNotification);
}

TEST_F(WhpxVcpuTest, NoLapicWithoutIrqchipNoTscControl) {
  // The partition could emulate local APICs, but CreateIrqChip(kSplit) did
  // not ask for it: the VMM has the APIC.
  EXPECT_THAT(vcpu_->GetLapic(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("no in-kernel irqchip")));
  EXPECT_THAT(vcpu_->SetTscOffset(5),
              StatusIs(absl::StatusCode::kUnimplemented));
  ASSERT_OK_AND_ASSIGN(uint32_t khz, vcpu_->GetTscKhz());
  EXPECT_EQ(khz, 2'400'000u);
}

TEST(WhpxVcpu, EmulatorFailureDeletesTheVirtualProcessor) {
  WhpxTestBed bed;
  ASSERT_OK(bed.Init());
  bed.fake->FailNext("WHvEmulatorCreateEmulator", kEOutOfMemory);
  EXPECT_THAT(bed.vm->CreateVcpu(0),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("WHvEmulatorCreateEmulator (vCPU 0)")));
  EXPECT_EQ(bed.fake->LiveVps(), 0);
  ASSERT_OK(bed.vm->CreateVcpu(0));  // the index is free again
}

}  // namespace
}  // namespace hv
