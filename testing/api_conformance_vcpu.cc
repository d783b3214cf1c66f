// ApiConformance: vCPUs, exits, kicks, ioeventfds and irqfds.

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "hypervisor/os/eventfd.h"
#include "testing/api_conformance.h"
#include "testing/backend_expectations.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

constexpr uint64_t kMmioAddress = 0xd0000000;

TEST_P(ApiConformance, VcpuIdsAreUnique) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, vm_->CreateVcpu(0));
  EXPECT_EQ(vcpu->id(), 0u);
  EXPECT_THAT(vm_->CreateVcpu(0), StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> second, vm_->CreateVcpu(1));
  EXPECT_EQ(second->id(), 1u);
  // Far past any hypervisor's id limit (KVM's is KVM_CAP_MAX_VCPU_ID, which
  // may exceed MaxVcpus()).
  EXPECT_THAT(vm_->CreateVcpu(0xffffffffu),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(ApiConformance, ImmediateExitInterruptsRun) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, NewRunnableVcpu(0));
  vcpu->SetImmediateExit(true);
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kInterrupted) << VcpuExitKindName(exit.kind);
}

TEST_P(ApiConformance, KickBeforeRunInterruptsTheNextRun) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, NewRunnableVcpu(0));
  ASSERT_OK(vcpu->Kick());
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kInterrupted) << VcpuExitKindName(exit.kind);
}

TEST_P(ApiConformance, HandlersNeedTheMatchingExit) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, NewRunnableVcpu(0));
  auto ignore = [](IoRequest&) {};
  EXPECT_THAT(vcpu->HandleMmio(ignore),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(vcpu->HandleIo(ignore),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_P(ApiConformance, KickFromAnotherThreadEndsABlockedRun) {
  HV_REQUIRE_SCRIPT();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, NewRunnableVcpu(0));
  ASSERT_OK_AND_ASSIGN(VcpuExit exit,
                       RunKickedAfter(*vcpu, absl::Milliseconds(50)));
  EXPECT_EQ(exit.kind, VcpuExitKind::kInterrupted);
}

TEST_P(ApiConformance, MmioWriteIsDecoded) {
  HV_REQUIRE_SCRIPT();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, NewRunnableVcpu(0));
  script_->QueueMmio(0, kMmioAddress + 8, true, {0x78, 0x56, 0x34, 0x12});
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu->Run());
  ASSERT_EQ(exit.kind, VcpuExitKind::kMmio) << VcpuExitKindName(exit.kind);
  EXPECT_EQ(exit.mmio.address, kMmioAddress + 8);
  EXPECT_EQ(exit.mmio.size, 4);
  EXPECT_TRUE(exit.mmio.is_write);
  std::vector<uint8_t> seen;
  int calls = 0;
  ASSERT_OK(vcpu->HandleMmio([&](IoRequest& io) {
    ++calls;
    EXPECT_EQ(io.address, kMmioAddress + 8);
    EXPECT_TRUE(io.is_write);
    seen.assign(io.data.begin(), io.data.end());
  }));
  EXPECT_EQ(calls, 1);
  EXPECT_THAT(seen, ElementsAre(0x78, 0x56, 0x34, 0x12));
}

TEST_P(ApiConformance, MmioReadIsCompletedWithTheHandlersData) {
  HV_REQUIRE_SCRIPT();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, NewRunnableVcpu(0));
  for (int size : {1, 2, 4, 8}) {
    SCOPED_TRACE(size);
    script_->QueueMmio(0, kMmioAddress, false, std::vector<uint8_t>(size));
    // The next access: the guest goes on running after the read.
    script_->QueueMmio(0, kMmioAddress + 0x10, true, {0xee});
    ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu->Run());
    ASSERT_EQ(exit.kind, VcpuExitKind::kMmio) << VcpuExitKindName(exit.kind);
    EXPECT_FALSE(exit.mmio.is_write);
    EXPECT_EQ(exit.mmio.size, size);
    std::vector<uint8_t> answer;
    ASSERT_OK(vcpu->HandleMmio([&](IoRequest& io) {
      EXPECT_FALSE(io.is_write);
      ASSERT_EQ(io.data.size(), static_cast<size_t>(size));
      EXPECT_THAT(io.data, ::testing::Each(0)) << "a read starts zeroed";
      for (int i = 0; i < size; ++i) io.data[i] = static_cast<uint8_t>(0xa0 + i);
      answer.assign(io.data.begin(), io.data.end());
    }));
    // The completion reaches the guest when the vCPU enters it again.
    ASSERT_OK_AND_ASSIGN(VcpuExit next, vcpu->Run());
    ASSERT_EQ(next.kind, VcpuExitKind::kMmio);
    EXPECT_TRUE(next.mmio.is_write);
    EXPECT_THAT(script_->CompletedRead(0), ElementsAreArray(answer));
    ASSERT_OK(vcpu->HandleMmio([](IoRequest&) {}));
  }
}

TEST_P(ApiConformance, PortIoIsDecodedWhereTheArchitectureHasIt) {
  HV_REQUIRE_SCRIPT();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, NewRunnableVcpu(0));
  if (!script_->QueueIo(0, 0x3f8, true, {'h'})) {
    GTEST_SKIP() << "no port I/O on this architecture";
  }
  ASSERT_TRUE(script_->QueueIo(0, 0x71, false, {0, 0}));
  ASSERT_OK_AND_ASSIGN(VcpuExit out, vcpu->Run());
  ASSERT_EQ(out.kind, VcpuExitKind::kIo) << VcpuExitKindName(out.kind);
  EXPECT_EQ(out.io.port, 0x3f8);
  EXPECT_EQ(out.io.size, 1);
  EXPECT_TRUE(out.io.is_write);
  std::vector<uint8_t> written;
  ASSERT_OK(vcpu->HandleIo([&](IoRequest& io) {
    written.assign(io.data.begin(), io.data.end());
  }));
  EXPECT_THAT(written, ElementsAre('h'));
  ASSERT_OK_AND_ASSIGN(VcpuExit in, vcpu->Run());
  ASSERT_EQ(in.kind, VcpuExitKind::kIo) << VcpuExitKindName(in.kind);
  EXPECT_EQ(in.io.port, 0x71);
  EXPECT_EQ(in.io.size, 2);
  EXPECT_FALSE(in.io.is_write);
  ASSERT_OK(vcpu->HandleIo([](IoRequest& io) {
    io.data[0] = 0x34;
    io.data[1] = 0x12;
  }));
  ASSERT_TRUE(script_->QueueIo(0, 0x80, true, {0}));
  ASSERT_OK_AND_ASSIGN(VcpuExit next, vcpu->Run());
  EXPECT_EQ(next.kind, VcpuExitKind::kIo);
  EXPECT_THAT(script_->CompletedRead(0), ElementsAre(0x34, 0x12));
}

TEST_P(ApiConformance, SystemEventsAreDecoded) {
  HV_REQUIRE_SCRIPT();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, NewRunnableVcpu(0));
  for (SystemEventKind kind : {SystemEventKind::kReset, SystemEventKind::kShutdown}) {
    if (!script_->QueueSystemEvent(0, kind)) {
      GTEST_SKIP() << "the hypervisor reports no system events";
    }
    ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu->Run());
    EXPECT_EQ(exit.kind, VcpuExitKind::kSystemEvent) << VcpuExitKindName(exit.kind);
    EXPECT_EQ(exit.system_event.kind, kind);
  }
}

TEST_P(ApiConformance, HaltIsDecoded) {
  HV_REQUIRE_SCRIPT();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, NewRunnableVcpu(0));
  if (!script_->QueueHalt(0)) GTEST_SKIP() << "the hypervisor never reports a halt";
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kHlt) << VcpuExitKindName(exit.kind);
}

TEST_P(ApiConformance, IoEventsFollowTheCapability) {
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  IoEventAddress address{IoEventAddress::Space::kMmio, kMmioAddress, 4, 0x1234};
  HV_UNIMPLEMENTED_WITHOUT(*vm_, VmCap::kIoEventfd,
                           vm_->RegisterIoEvent(event, address));
  ASSERT_OK(vm_->RegisterIoEvent(event, address));
  EXPECT_THAT(vm_->RegisterIoEvent(event, address),
              StatusIs(absl::StatusCode::kAlreadyExists));
  if (script_ != nullptr) {
    const uint8_t other[] = {0x35, 0x12, 0, 0};
    const uint8_t match[] = {0x34, 0x12, 0, 0};
    // A value that does not match is an ordinary MMIO access (no memory).
    EXPECT_THAT(script_->GuestWrite(kMmioAddress, other),
                StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(event.Read(), StatusIs(absl::StatusCode::kUnavailable));
    ASSERT_OK(script_->GuestWrite(kMmioAddress, match));
    EXPECT_THAT(event.Read(), IsOkAndHolds(1u));
  }
  ASSERT_OK(vm_->UnregisterIoEvent(event, address));
  EXPECT_THAT(vm_->UnregisterIoEvent(event, address),
              StatusIs(absl::StatusCode::kNotFound));
  IoEventAddress bad = address;
  bad.length = 3;
  EXPECT_THAT(vm_->RegisterIoEvent(event, bad),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(ApiConformance, IrqfdsFollowTheCapability) {
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  HV_UNIMPLEMENTED_WITHOUT(*vm_, VmCap::kIrqfd, vm_->RegisterIrqfd(event, 5));
  // The order every hypervisor accepts: irqchip, vCPUs, finalized irqchip,
  // then irqfds.
  ASSERT_OK(EnsureIrqChip());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, NewRunnableVcpu(0));
  ASSERT_OK(FinishIrqChip());
  ASSERT_OK(vm_->RegisterIrqfd(event, 5));
  if (script_ != nullptr) {
    // Interrupts go to a running guest: let vCPU 0 enter it once.
    script_->QueueMmio(0, kMmioAddress, true, {1});
    ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu->Run());
    ASSERT_EQ(exit.kind, VcpuExitKind::kMmio) << VcpuExitKindName(exit.kind);
    ASSERT_OK(vcpu->HandleMmio([](IoRequest&) {}));
    const uint64_t before = script_->InterruptsDelivered(5);
    ASSERT_OK(event.Write(1));
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (script_->InterruptsDelivered(5) == before && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    EXPECT_EQ(script_->InterruptsDelivered(5), before + 1);
  }
  ASSERT_OK(vm_->UnregisterIrqfd(event, 5));
}

}  // namespace
}  // namespace hv::testing
