// GeniezoneVcpu against the fake /dev/gzvm: the run struct, exit decoding,
// MMIO completion, immediate exit and kicks, and one-reg registers.
#include "hypervisor/geniezone/geniezone_vcpu.h"

#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/aarch64/regs.h"
#include "hypervisor/geniezone/geniezone_abi.h"
#include "hypervisor/geniezone/geniezone_test_util.h"
#include "hypervisor/os/eventfd.h"
#include "testing/fakes/geniezone_fake.h"
#include "testing/backend_expectations.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

constexpr uint64_t kMmio = 0x9000000;

struct VcpuEnv {
  GeniezoneTestEnv env;
  std::unique_ptr<VcpuAArch64> vcpu;
};

absl::StatusOr<VcpuEnv> NewVcpu(GeniezoneFake::Options options = {}) {
  VcpuEnv out;
  ASSIGN_OR_RETURN(out.env, GeniezoneTestEnv::Create(options));
  ASSIGN_OR_RETURN(out.vcpu, out.env.arm()->CreateVcpuAArch64(0));
  RETURN_IF_ERROR(out.vcpu->Init({VcpuFeature::kPsci0_2}));
  return out;
}

TEST(GeniezoneVcpu, CreateMapsARunStructAndReleasesIt) {
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create());
  env.fake->ClearCalls();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, env.vm->CreateVcpu(2));
  EXPECT_THAT(env.fake->CallNames(), ElementsAre("GZVM_CREATE_VCPU", "mmap"));
  EXPECT_EQ(env.fake->calls()[0].arg, 2u);
  EXPECT_EQ(env.fake->LiveMappingCount(), 1u);
  EXPECT_EQ(env.fake->OpenFdCount(), 3u);
  vcpu.reset();
  EXPECT_EQ(env.fake->LiveMappingCount(), 0u);
  EXPECT_EQ(env.fake->OpenFdCount(), 2u);
}

TEST(GeniezoneVcpu, MmioWriteIsDecodedFromTheRunStruct) {
  ASSERT_OK_AND_ASSIGN(VcpuEnv t, NewVcpu());
  t.env.fake->QueueMmio(0, kMmio + 4, true, {1, 2, 3, 4});
  t.env.fake->ClearCalls();
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, t.vcpu->Run());
  EXPECT_THAT(IoctlNames(*t.env.fake), ElementsAre("GZVM_RUN"));
  EXPECT_NE(LastIoctl(*t.env.fake, "GZVM_RUN").arg, 0u);  // the struct's address
  ASSERT_EQ(exit.kind, VcpuExitKind::kMmio);
  EXPECT_EQ(exit.raw_reason, geniezone_abi::kExitMmio);
  EXPECT_EQ(exit.mmio.address, kMmio + 4);
  EXPECT_EQ(exit.mmio.size, 4);
  EXPECT_TRUE(exit.mmio.is_write);
  std::vector<uint8_t> seen;
  ASSERT_OK(t.vcpu->HandleMmio([&](IoRequest& io) {
    EXPECT_EQ(io.address, kMmio + 4);
    seen.assign(io.data.begin(), io.data.end());
  }));
  EXPECT_THAT(seen, ElementsAre(1, 2, 3, 4));
  EXPECT_THAT(t.vcpu->HandleMmio([](IoRequest&) {}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(GeniezoneVcpu, MmioReadAnswerReachesTheGuestOnTheNextRun) {
  ASSERT_OK_AND_ASSIGN(VcpuEnv t, NewVcpu());
  t.env.fake->QueueMmio(0, kMmio, false, std::vector<uint8_t>(2));
  t.env.fake->QueueSystemEvent(0, SystemEventKind::kShutdown);
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, t.vcpu->Run());
  ASSERT_EQ(exit.kind, VcpuExitKind::kMmio);
  EXPECT_FALSE(exit.mmio.is_write);
  ASSERT_OK(t.vcpu->HandleMmio([](IoRequest& io) {
    ASSERT_EQ(io.data.size(), 2u);
    io.data[0] = 0xcd;
    io.data[1] = 0xab;
  }));
  ASSERT_OK_AND_ASSIGN(VcpuExit next, t.vcpu->Run());
  EXPECT_EQ(next.kind, VcpuExitKind::kSystemEvent);
  EXPECT_THAT(t.env.fake->CompletedRead(0), ElementsAre(0xcd, 0xab));
}

TEST(GeniezoneVcpu, MmioWriteToAnIoeventfdStaysInTheDriver) {
  ASSERT_OK_AND_ASSIGN(VcpuEnv t, NewVcpu());
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  ASSERT_OK(t.env.vm->RegisterIoEvent(
      event, {IoEventAddress::Space::kMmio, kMmio, 4, std::nullopt}));
  t.env.fake->QueueMmio(0, kMmio, true, {9, 0, 0, 0});
  t.env.fake->QueueSystemEvent(0, SystemEventKind::kReset);
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, t.vcpu->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kSystemEvent);
  EXPECT_EQ(exit.system_event.kind, SystemEventKind::kReset);
  EXPECT_THAT(event.Read(), IsOkAndHolds(1u));
}

TEST(GeniezoneVcpu, SystemEventsAreDecoded) {
  ASSERT_OK_AND_ASSIGN(VcpuEnv t, NewVcpu());
  for (SystemEventKind kind :
       {SystemEventKind::kShutdown, SystemEventKind::kReset,
        SystemEventKind::kCrash, SystemEventKind::kWakeup}) {
    ASSERT_TRUE(t.env.fake->QueueSystemEvent(0, kind));
    ASSERT_OK_AND_ASSIGN(VcpuExit exit, t.vcpu->Run());
    EXPECT_EQ(exit.kind, VcpuExitKind::kSystemEvent);
    EXPECT_EQ(exit.system_event.kind, kind);
  }
  EXPECT_FALSE(t.env.fake->QueueSystemEvent(0, SystemEventKind::kOther));
  EXPECT_FALSE(t.env.fake->QueueHalt(0));
  EXPECT_FALSE(t.env.fake->QueueIo(0, 0x3f8, true, {1}));
  geniezone_abi::VcpuRun run = {};
  run.exit_reason = geniezone_abi::kExitSystemEvent;
  run.system_event.type = geniezone_abi::kSystemEventSuspend;
  run.system_event.ndata = 1;
  run.system_event.data[0] = 0x42;
  t.env.fake->QueueRawExit(0, run);
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, t.vcpu->Run());
  EXPECT_EQ(exit.system_event.kind, SystemEventKind::kOther);
  EXPECT_EQ(exit.system_event.flags, 0x42u);
  EXPECT_EQ(exit.code, geniezone_abi::kSystemEventSuspend);
}

TEST(GeniezoneVcpu, EveryExitReasonIsDecoded) {
  ASSERT_OK_AND_ASSIGN(VcpuEnv t, NewVcpu());
  geniezone_abi::VcpuRun run = {};
  run.exit_reason = geniezone_abi::kExitHypercall;
  for (int i = 0; i < 8; ++i) run.hypercall.args[i] = 0x84000000u + i;
  t.env.fake->QueueRawExit(0, run);
  ASSERT_OK_AND_ASSIGN(VcpuExit hvc, t.vcpu->Run());
  EXPECT_EQ(hvc.kind, VcpuExitKind::kHypercall);
  EXPECT_EQ(hvc.hypercall.nr, 0x84000000u);
  EXPECT_EQ(hvc.hypercall.args[0], 0x84000001u);
  EXPECT_EQ(hvc.hypercall.args[5], 0x84000006u);

  run = {};
  run.exit_reason = geniezone_abi::kExitException;
  run.exception.exception = geniezone_abi::kExceptionPageFault;
  run.exception.fault_gpa = 0x1234000;
  t.env.fake->QueueRawExit(0, run);
  ASSERT_OK_AND_ASSIGN(VcpuExit exception, t.vcpu->Run());
  EXPECT_EQ(exception.kind, VcpuExitKind::kException);
  EXPECT_EQ(exception.code, geniezone_abi::kExceptionPageFault);
  EXPECT_EQ(exception.data, 0x1234000u);

  run = {};
  run.exit_reason = geniezone_abi::kExitFailEntry;
  run.fail_entry.hardware_entry_failure_reason = 0x77;
  run.fail_entry.cpu = 3;
  t.env.fake->QueueRawExit(0, run);
  ASSERT_OK_AND_ASSIGN(VcpuExit fail, t.vcpu->Run());
  EXPECT_EQ(fail.kind, VcpuExitKind::kFailEntry);
  EXPECT_EQ(fail.code, 0x77u);
  EXPECT_EQ(fail.data, 3u);

  run = {};
  run.exit_reason = geniezone_abi::kExitInternalError;
  run.internal.suberror = 5;
  t.env.fake->QueueRawExit(0, run);
  ASSERT_OK_AND_ASSIGN(VcpuExit internal, t.vcpu->Run());
  EXPECT_EQ(internal.kind, VcpuExitKind::kInternalError);
  EXPECT_EQ(internal.code, 5u);

  const std::pair<uint32_t, VcpuExitKind> simple[] = {
      {geniezone_abi::kExitDebug, VcpuExitKind::kDebug},
      {geniezone_abi::kExitShutdown, VcpuExitKind::kShutdown},
      {geniezone_abi::kExitIdle, VcpuExitKind::kHlt},
      {geniezone_abi::kExitIrq, VcpuExitKind::kUnknown},
      {geniezone_abi::kExitGz, VcpuExitKind::kUnknown},
      {geniezone_abi::kExitUnknown, VcpuExitKind::kUnknown},
      {0x12345678, VcpuExitKind::kUnknown},
  };
  for (const auto& [reason, kind] : simple) {
    run = {};
    run.exit_reason = reason;
    t.env.fake->QueueRawExit(0, run);
    ASSERT_OK_AND_ASSIGN(VcpuExit exit, t.vcpu->Run());
    EXPECT_EQ(exit.kind, kind) << std::hex << reason;
    EXPECT_EQ(exit.raw_reason, reason);
  }
}

TEST(GeniezoneVcpu, MmioSizeOutsideTheDataIsAnInternalError) {
  ASSERT_OK_AND_ASSIGN(VcpuEnv t, NewVcpu());
  geniezone_abi::VcpuRun run = {};
  run.exit_reason = geniezone_abi::kExitMmio;
  run.mmio.phys_addr = kMmio;
  run.mmio.size = 16;
  t.env.fake->QueueRawExit(0, run);
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, t.vcpu->Run());
  ASSERT_EQ(exit.kind, VcpuExitKind::kMmio);
  EXPECT_THAT(t.vcpu->HandleMmio([](IoRequest&) { ADD_FAILURE(); }),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("size 16")));
}

TEST(GeniezoneVcpu, ImmediateExitAndKicksInterruptRun) {
  ASSERT_OK_AND_ASSIGN(VcpuEnv t, NewVcpu());
  t.vcpu->SetImmediateExit(true);
  t.env.fake->QueueSystemEvent(0, SystemEventKind::kShutdown);
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, t.vcpu->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kInterrupted);
  // Cleared by the interrupted run: the queued event comes next.
  ASSERT_OK_AND_ASSIGN(VcpuExit event, t.vcpu->Run());
  EXPECT_EQ(event.kind, VcpuExitKind::kSystemEvent);
  ASSERT_OK(t.vcpu->Kick());
  ASSERT_OK_AND_ASSIGN(VcpuExit kicked, t.vcpu->Run());
  EXPECT_EQ(kicked.kind, VcpuExitKind::kInterrupted);
  t.vcpu->SetImmediateExit(true);
  t.vcpu->SetImmediateExit(false);
  t.env.fake->QueueSystemEvent(0, SystemEventKind::kReset);
  ASSERT_OK_AND_ASSIGN(VcpuExit reset, t.vcpu->Run());
  EXPECT_EQ(reset.kind, VcpuExitKind::kSystemEvent);
}

TEST(GeniezoneVcpu, KickFromAnotherThreadEndsABlockedRun) {
  ASSERT_OK_AND_ASSIGN(VcpuEnv t, NewVcpu());
  for (int round = 0; round < 3; ++round) {
    ASSERT_OK_AND_ASSIGN(VcpuExit exit,
                         RunKickedAfter(*t.vcpu, absl::Milliseconds(20)));
    EXPECT_EQ(exit.kind, VcpuExitKind::kInterrupted);
  }
  // Work queued from another thread wakes a blocked run as well.
  std::thread queuer([&] {
    absl::SleepFor(absl::Milliseconds(20));
    t.env.fake->QueueMmio(0, kMmio, true, {1});
  });
  absl::StatusOr<VcpuExit> exit = t.vcpu->Run();
  queuer.join();
  ASSERT_OK(exit.status());
  EXPECT_EQ(exit->kind, VcpuExitKind::kMmio);
}

TEST(GeniezoneVcpu, RunErrorNamesTheIoctlAndErrno) {
  ASSERT_OK_AND_ASSIGN(VcpuEnv t, NewVcpu());
  t.env.fake->FailCall(t.env.fake->call_count(), EFAULT);
  EXPECT_THAT(t.vcpu->Run(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("GZVM_RUN: Bad address")));
}

TEST(GeniezoneVcpu, PortIoNeverHappens) {
  ASSERT_OK_AND_ASSIGN(VcpuEnv t, NewVcpu());
  EXPECT_THAT(t.vcpu->HandleIo([](IoRequest&) {}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("port I/O")));
}

TEST(GeniezoneVcpu, SetOneRegUsesGeniezoneRegisterIds) {
  ASSERT_OK_AND_ASSIGN(VcpuEnv t, NewVcpu());
  ASSERT_OK(t.vcpu->SetOneReg(AArch64Reg::X(0), 0x1111));
  ASSERT_OK(t.vcpu->SetOneReg(AArch64Reg::Pc(), 0x80000000));
  ASSERT_OK(t.vcpu->SetOneReg(AArch64Reg::Pstate(), 0x3c5));
  ASSERT_OK(t.vcpu->SetOneReg(AArch64Reg::SpEl1(), 0x2222));
  ASSERT_OK(t.vcpu->SetOneReg(AArch64Reg::Fpcr(), 0x3333));
  ASSERT_OK(t.vcpu->SetOneReg(aarch64_sys::kSctlrEl1, 0x30d00800));
  // KVM's arm64 ids, as the uapi defines them: core block offsets in
  // 32-bit words, system registers by their MRS encoding.
  const GeniezoneFake& fake = *t.env.fake;
  EXPECT_THAT(fake.RegisterValue(0, 0x6030000000100000), Optional(0x1111u));
  EXPECT_THAT(fake.RegisterValue(0, 0x6030000000100040), Optional(0x80000000u));
  EXPECT_THAT(fake.RegisterValue(0, 0x6030000000100042), Optional(0x3c5u));
  EXPECT_THAT(fake.RegisterValue(0, 0x6030000000100044), Optional(0x2222u));
  EXPECT_THAT(fake.RegisterValue(0, 0x60200000001000d5), Optional(0x3333u));
  EXPECT_THAT(fake.RegisterValue(0, 0x603000000013c080), Optional(0x30d00800u));
  auto last = LastIoctl(fake, "GZVM_SET_ONE_REG").As<geniezone_abi::OneReg>();
  EXPECT_EQ(last.id, 0x603000000013c080u);
}

TEST(GeniezoneVcpu, RegisterReadsFollowTheDriver) {
  {
    // The v13 driver answers every GZVM_GET_ONE_REG with EOPNOTSUPP.
    ASSERT_OK_AND_ASSIGN(VcpuEnv t, NewVcpu());
    EXPECT_THAT(t.vcpu->GetOneReg(AArch64Reg::Pc()),
                StatusIs(absl::StatusCode::kUnimplemented,
                         HasSubstr("GZVM_GET_ONE_REG (pc, id 0x6030000000100040)")));
    EXPECT_THAT(t.vcpu->GetMpidr(), StatusIs(absl::StatusCode::kUnimplemented));
  }
  GeniezoneFake::Options early;
  early.get_one_reg = true;
  ASSERT_OK_AND_ASSIGN(VcpuEnv t, NewVcpu(early));
  ASSERT_OK(t.vcpu->SetOneReg(AArch64Reg::X(30), 0xfeed));
  EXPECT_THAT(t.vcpu->GetOneReg(AArch64Reg::X(30)), IsOkAndHolds(0xfeedu));
  ASSERT_OK(t.vcpu->SetOneReg(AArch64Reg::Fpsr(), 0x8000000));
  EXPECT_THAT(t.vcpu->GetOneReg(AArch64Reg::Fpsr()), IsOkAndHolds(0x8000000u));
  ASSERT_OK(t.vcpu->SetOneReg(aarch64_sys::kMpidrEl1, 0x80000001));
  EXPECT_THAT(t.vcpu->GetMpidr(), IsOkAndHolds(0x80000001u));
}

TEST(GeniezoneVcpu, RegistersGeniezoneCannotCarryAreRefused) {
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<VcpuAArch64> vcpu,
                       env.arm()->CreateVcpuAArch64(0));
  EXPECT_THAT(vcpu->SetOneReg(AArch64Reg::Pc(), 0),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("Init")));
  ASSERT_OK(vcpu->Init({VcpuFeature::kPsci0_2}));
  env.fake->ClearCalls();
  EXPECT_THAT(vcpu->SetOneReg(AArch64Reg::PsciVersion(), 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("firmware")));
  EXPECT_THAT(vcpu->SetOneReg({AArch64Reg::Kind::kCore, 40}, 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(vcpu->SetOneReg(AArch64Reg::Fpcr(), uint64_t{1} << 32),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("32 bits")));
  EXPECT_THAT(vcpu->GetVectorReg(3), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(vcpu->SetVectorReg(3, 1), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(vcpu->GetVectorReg(32), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(vcpu->GetSystemRegs(), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(IoctlNames(*env.fake), ::testing::IsEmpty());
  // Any 64-bit system register goes to the driver by its encoding.
  EXPECT_OK(vcpu->SetOneReg(AArch64Reg::Sys(3, 0, 15, 15, 7), 1));
}

TEST(GeniezoneVcpu, InitTakesPsciOnlyAndOnce) {
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<VcpuAArch64> vcpu,
                       env.arm()->CreateVcpuAArch64(0));
  EXPECT_TRUE(vcpu->SupportsFeature(VcpuFeature::kPsci0_2));
  EXPECT_FALSE(vcpu->SupportsFeature(VcpuFeature::kPmuV3));
  EXPECT_THAT(vcpu->Init({VcpuFeature::kPsci0_2, VcpuFeature::kPmuV3}),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("pmu-v3")));
  EXPECT_THAT(vcpu->GetPsciVersion(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK(vcpu->Init({VcpuFeature::kPsci0_2}));
  ASSERT_OK_AND_ASSIGN(PsciVersion psci, vcpu->GetPsciVersion());
  EXPECT_EQ(psci.major, 0);
  EXPECT_EQ(psci.minor, 2);
  EXPECT_THAT(vcpu->Init({VcpuFeature::kPsci0_2}),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("reset")));
  EXPECT_THAT(vcpu->InitPmu(23), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_FALSE(vcpu->HasPvtime());
  EXPECT_THAT(vcpu->InitPvtime(0x1000), StatusIs(absl::StatusCode::kUnimplemented));
}

}  // namespace
}  // namespace hv::testing
