#include "hypervisor/gunyah/gunyah_vcpu.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/gunyah/gunyah_abi.h"
#include "hypervisor/gunyah/gunyah_test_util.h"
#include "testing/backend_expectations.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

namespace abi = gunyah_abi;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr uint64_t kMmio = 0x09000000;

class GunyahVcpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(gunyah_, NewGunyahTestEnv());
    ASSERT_OK_AND_ASSIGN(vm_, NewBootableVm(*gunyah_.hypervisor));
    fake_ = gunyah_.fake.get();
    fake_->ClearCalls();
  }
  absl::StatusOr<std::unique_ptr<VcpuAArch64>> NewVcpu(uint32_t id) {
    auto vcpu = vm_->CreateVcpuAArch64(id);
    if (vcpu.ok()) {
      absl::Status init = (*vcpu)->Init({VcpuFeature::kPsci0_2});
      if (!init.ok()) return init;
    }
    return vcpu;
  }

  GunyahTestEnv gunyah_;
  std::unique_ptr<VmAArch64> vm_;
  GunyahFake* fake_ = nullptr;
};

TEST_F(GunyahVcpuTest, CreateAddsAVcpuFunctionAndMapsItsRunPage) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<VcpuAArch64> vcpu,
                       vm_->CreateVcpuAArch64(3));
  EXPECT_EQ(vcpu->id(), 3u);
  std::vector<GunyahFake::Call> calls = fake_->Calls();
  ASSERT_THAT(fake_->CallNames(),
              ElementsAre("GH_VM_ADD_FUNCTION", "GH_VCPU_MMAP_SIZE", "mmap"));
  auto desc = ArgAs<abi::FnDesc>(calls[0].arg);
  EXPECT_EQ(desc.type, abi::kFnVcpu);
  EXPECT_EQ(desc.arg_size, sizeof(abi::FnVcpuArg));
  EXPECT_EQ(ArgAs<abi::FnVcpuArg>(calls[0].fn_arg).id, 3u);
  const int vcpu_fd = calls[0].result;
  EXPECT_EQ(calls[1].fd, vcpu_fd);
  EXPECT_EQ(calls[1].request, 0x4706u);
  EXPECT_EQ(calls[2].fd, vcpu_fd);
  EXPECT_EQ(calls[2].int_arg, static_cast<uintptr_t>(calls[1].result));
  EXPECT_EQ(fake_->LatestVm()->vcpus, std::vector<uint32_t>{3});
  // One id per VM, as the kernel's resource ticket allows.
  EXPECT_THAT(vm_->CreateVcpu(3),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("GH_VM_ADD_FUNCTION (GH_FN_VCPU, vCPU 3): "
                                 "File exists")));
  fake_->ClearCalls();
  EXPECT_THAT(vm_->CreateVcpu(GunyahHypervisor::kMaxVcpus),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(fake_->Calls(), IsEmpty());
}

TEST_F(GunyahVcpuTest, FirstRunStartsTheVmOnce) {
  ASSERT_OK_AND_ASSIGN(auto vcpu0, NewVcpu(0));
  ASSERT_OK_AND_ASSIGN(auto vcpu1, NewVcpu(1));
  fake_->ClearCalls();
  fake_->QueueMmio(0, kMmio, true, {'h', 'i'});
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu0->Run());
  EXPECT_THAT(fake_->CallNames(), ElementsAre("GH_VM_START", "GH_VCPU_RUN"));
  EXPECT_EQ(LastCall(*fake_, "GH_VM_START").request, 0x4703u);
  EXPECT_EQ(LastCall(*fake_, "GH_VCPU_RUN").request, 0x4705u);
  ASSERT_EQ(exit.kind, VcpuExitKind::kMmio);
  EXPECT_EQ(exit.raw_reason, abi::kVcpuExitMmio);
  EXPECT_EQ(exit.mmio.address, kMmio);
  EXPECT_EQ(exit.mmio.size, 2);
  EXPECT_TRUE(exit.mmio.is_write);
  std::vector<uint8_t> written;
  ASSERT_OK(vcpu0->HandleMmio([&](IoRequest& io) {
    EXPECT_EQ(io.address, kMmio);
    written.assign(io.data.begin(), io.data.end());
  }));
  EXPECT_THAT(written, ElementsAre('h', 'i'));
  EXPECT_THAT(vcpu0->HandleMmio([](IoRequest&) {}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_TRUE(LatestVmRunning(*fake_));
  EXPECT_EQ(fake_->LatestVm()->status, GunyahFake::VmState::Status::kRunning);
  fake_->ClearCalls();
  fake_->QueueMmio(1, kMmio, true, {1});
  ASSERT_OK_AND_ASSIGN(VcpuExit other, vcpu1->Run());
  EXPECT_EQ(other.kind, VcpuExitKind::kMmio);
  EXPECT_THAT(fake_->CallNames(), ElementsAre("GH_VCPU_RUN"));
}

TEST_F(GunyahVcpuTest, MmioReadsAreCompletedOnTheNextRun) {
  ASSERT_OK_AND_ASSIGN(auto vcpu, NewVcpu(0));
  fake_->QueueMmio(0, kMmio + 4, false, std::vector<uint8_t>(4));
  fake_->QueueMmio(0, kMmio, true, {0});
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu->Run());
  ASSERT_EQ(exit.kind, VcpuExitKind::kMmio);
  EXPECT_FALSE(exit.mmio.is_write);
  EXPECT_EQ(exit.mmio.size, 4);
  ASSERT_OK(vcpu->HandleMmio([](IoRequest& io) {
    ASSERT_EQ(io.data.size(), 4u);
    EXPECT_THAT(io.data, ::testing::Each(0));
    io.data[0] = 0x78;
    io.data[3] = 0x12;
  }));
  EXPECT_THAT(fake_->CompletedRead(0), IsEmpty());
  ASSERT_OK(vcpu->Run().status());
  EXPECT_THAT(fake_->CompletedRead(0), ElementsAre(0x78, 0, 0, 0x12));
}

TEST_F(GunyahVcpuTest, StatusExitsAreSystemEventsAndTheVmStaysDown) {
  ASSERT_OK_AND_ASSIGN(auto vcpu, NewVcpu(0));
  ASSERT_OK_AND_ASSIGN(auto second, NewVcpu(1));
  ASSERT_TRUE(fake_->QueueSystemEvent(0, SystemEventKind::kReset));
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu->Run());
  ASSERT_EQ(exit.kind, VcpuExitKind::kSystemEvent);
  EXPECT_EQ(exit.raw_reason, abi::kVcpuExitStatus);
  EXPECT_EQ(exit.system_event.kind, SystemEventKind::kReset);
  EXPECT_EQ(exit.code, abi::kVmStatusExited);
  EXPECT_EQ(exit.data, abi::kExitTypePsciSystemReset);
  // Every vCPU of an exited VM returns the same status exit, again and again.
  ASSERT_OK_AND_ASSIGN(VcpuExit again, vcpu->Run());
  EXPECT_EQ(again.system_event.kind, SystemEventKind::kReset);
  ASSERT_OK_AND_ASSIGN(VcpuExit other, second->Run());
  EXPECT_EQ(other.kind, VcpuExitKind::kSystemEvent);
  EXPECT_EQ(other.system_event.kind, SystemEventKind::kReset);
  EXPECT_FALSE(fake_->QueueSystemEvent(0, SystemEventKind::kShutdown));
  EXPECT_THAT(vcpu->HandleMmio([](IoRequest&) {}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(GunyahVcpuTest, ShutdownAndCrashDecode) {
  for (SystemEventKind kind : {SystemEventKind::kShutdown, SystemEventKind::kCrash}) {
    SCOPED_TRACE(static_cast<int>(kind));
    ASSERT_OK_AND_ASSIGN(auto vm, NewBootableVm(*gunyah_.hypervisor));
    ASSERT_OK_AND_ASSIGN(auto vcpu, vm->CreateVcpuAArch64(0));
    ASSERT_OK(vcpu->Init({VcpuFeature::kPsci0_2}));
    ASSERT_TRUE(fake_->QueueSystemEvent(0, kind));
    ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu->Run());
    EXPECT_EQ(exit.kind, VcpuExitKind::kSystemEvent);
    EXPECT_EQ(exit.system_event.kind, kind);
  }
  EXPECT_FALSE(fake_->QueueSystemEvent(0, SystemEventKind::kWakeup));
  EXPECT_FALSE(fake_->QueueHalt(0));
  EXPECT_FALSE(fake_->QueueIo(0, 0x3f8, true, {1}));
}

TEST_F(GunyahVcpuTest, RunNeedsInitAndADevicetree) {
  ASSERT_OK_AND_ASSIGN(auto vcpu, vm_->CreateVcpuAArch64(0));
  EXPECT_THAT(vcpu->Run(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                    HasSubstr("Init")));
  ASSERT_OK_AND_ASSIGN(auto bare_vm, NewArmVm(*gunyah_.hypervisor));
  ASSERT_OK_AND_ASSIGN(auto bare, bare_vm->CreateVcpuAArch64(0));
  ASSERT_OK(bare->Init({VcpuFeature::kPsci0_2}));
  fake_->ClearCalls();
  EXPECT_THAT(bare->Run(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                    HasSubstr("InitArch")));
  EXPECT_THAT(fake_->Calls(), IsEmpty());
}

// (InitArch's checks keep a devicetree outside guest memory, the start
// failure the kernel makes final, from reaching GH_VM_START.)
TEST_F(GunyahVcpuTest, AStartTheKernelRefusesIsReportedAndRetried) {
  ASSERT_OK_AND_ASSIGN(auto vm, NewBootableVm(*gunyah_.hypervisor));
  fake_->FailIoctl(gunyah_abi::kVmStart, EINTR);
  ASSERT_OK_AND_ASSIGN(auto vcpu, vm->CreateVcpuAArch64(0));
  ASSERT_OK(vcpu->Init({VcpuFeature::kPsci0_2}));
  EXPECT_THAT(vcpu->Run(),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr(absl::StrFormat(
                           "GH_VM_START (devicetree at %#x, %#x bytes)",
                           kRamBase, kDtbSize))));
  EXPECT_FALSE(LatestVmRunning(*fake_));
  // Not started, so the next run starts it.
  fake_->QueueMmio(0, kMmio, true, {1});
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kMmio);
  EXPECT_TRUE(LatestVmRunning(*fake_));
}

TEST_F(GunyahVcpuTest, ImmediateExitBeforeTheStartDoesNotStartTheVm) {
  ASSERT_OK_AND_ASSIGN(auto vcpu, NewVcpu(0));
  fake_->ClearCalls();
  vcpu->SetImmediateExit(true);
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kInterrupted);
  EXPECT_THAT(fake_->Calls(), IsEmpty());
  EXPECT_FALSE(LatestVmRunning(*fake_));
  // The flag was consumed: the next run enters the guest.
  fake_->QueueMmio(0, kMmio, true, {1});
  ASSERT_OK_AND_ASSIGN(VcpuExit next, vcpu->Run());
  EXPECT_EQ(next.kind, VcpuExitKind::kMmio);
  // Once running, an immediate exit is the kernel's EINTR.
  ASSERT_OK(vcpu->Kick());
  fake_->ClearCalls();
  ASSERT_OK_AND_ASSIGN(VcpuExit kicked, vcpu->Run());
  EXPECT_EQ(kicked.kind, VcpuExitKind::kInterrupted);
  GunyahFake::Call run = LastCall(*fake_, "GH_VCPU_RUN");
  EXPECT_EQ(run.result, -1);
  EXPECT_EQ(run.error, EINTR);
}

TEST_F(GunyahVcpuTest, KickFromAnotherThreadEndsAWaitingRun) {
  ASSERT_OK_AND_ASSIGN(auto vcpu, NewVcpu(0));
  ASSERT_OK_AND_ASSIGN(VcpuExit exit,
                       RunKickedAfter(*vcpu, absl::Milliseconds(30)));
  EXPECT_EQ(exit.kind, VcpuExitKind::kInterrupted);
}

TEST_F(GunyahVcpuTest, KernelRunErrorNamesTheIoctl) {
  ASSERT_OK_AND_ASSIGN(auto vcpu, NewVcpu(0));
  fake_->FailIoctl(abi::kVcpuRun, EFAULT);
  EXPECT_THAT(vcpu->Run(), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("GH_VCPU_RUN (vCPU 0): Bad address")));
}

TEST_F(GunyahVcpuTest, OnlyBootRegistersBeforeTheStartAreReachable) {
  ASSERT_OK_AND_ASSIGN(auto vcpu, vm_->CreateVcpuAArch64(0));
  EXPECT_THAT(vcpu->SetOneReg(AArch64Reg::Pc(), 1),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK(vcpu->Init({VcpuFeature::kPsci0_2}));
  ASSERT_OK(vcpu->SetOneReg(AArch64Reg::Pc(), kRamBase + 0x1000));
  ASSERT_OK(vcpu->SetOneReg(AArch64Reg::X(0), kRamBase));
  GunyahFake::Call call = LastCall(*fake_, "GH_VM_SET_BOOT_CONTEXT");
  EXPECT_EQ(call.request, 0x4010470au);
  auto context = ArgAs<abi::VmBootContext>(call.arg);
  EXPECT_EQ(context.reg, 0u);  // REG_SET_X, index 0
  EXPECT_EQ(context.value, kRamBase);
  EXPECT_EQ(context.reserved, 0u);
  EXPECT_EQ(fake_->LatestVm()->boot_context,
            (std::map<uint32_t, uint64_t>{{0x000, kRamBase},
                                          {0x100, kRamBase + 0x1000}}));
  EXPECT_THAT(vcpu->SetOneReg(AArch64Reg::SpEl1(), 0),
              StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(vcpu->GetOneReg(AArch64Reg::Pc()),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("pc")));
  ASSERT_OK_AND_ASSIGN(auto secondary, NewVcpu(1));
  EXPECT_THAT(secondary->SetOneReg(AArch64Reg::Pc(), 0),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("boot vCPU")));
  fake_->QueueMmio(0, kMmio, true, {1});
  ASSERT_OK(vcpu->Run().status());
  EXPECT_THAT(vcpu->SetOneReg(AArch64Reg::Pc(), 0),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("started")));
}

TEST_F(GunyahVcpuTest, WhatGunyahKeepsFromTheHostIsUnimplemented) {
  ASSERT_OK_AND_ASSIGN(auto vcpu, vm_->CreateVcpuAArch64(0));
  EXPECT_TRUE(vcpu->SupportsFeature(VcpuFeature::kPsci0_2));
  EXPECT_FALSE(vcpu->SupportsFeature(VcpuFeature::kSve));
  EXPECT_THAT(vcpu->Init({VcpuFeature::kPsci0_2, VcpuFeature::kPmuV3}),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("pmu")));
  ASSERT_OK(vcpu->Init({VcpuFeature::kPsci0_2}));
  EXPECT_THAT(vcpu->GetPsciVersion(), IsOkAndHolds(::testing::Field(
                                          &PsciVersion::minor, 2)));
  EXPECT_THAT(vcpu->GetVectorReg(0), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(vcpu->SetVectorReg(0, 1), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(vcpu->GetSystemRegs(), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(vcpu->GetMpidr(), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(vcpu->InitPmu(23), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_FALSE(vcpu->HasPvtime());
  EXPECT_THAT(vcpu->InitPvtime(kRamBase), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(vcpu->HandleIo([](IoRequest&) {}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("port")));
}

}  // namespace
}  // namespace hv::testing
