// X86GuestConformance: an irqfd raises an interrupt that wakes a halted
// guest through the in-kernel irqchip; MSIs (routed through a GSI, or
// signalled directly) reach the guest's local APIC at their vector; a
// resample irqfd re-arms a level-triggered IOAPIC line on EOI.

#include <atomic>
#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/vcpu_exit.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "testing/x86_guest_conformance.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;

TEST_P(X86GuestConformance, IrqfdInterruptsHaltedGuest) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, NewVmWithKernelIrqChip());
  if (vm == nullptr) return;  // no irqchip to create, as checked
  ASSERT_OK_AND_ASSIGN(EventFd irq, EventFd::Create());
  // IRQ 5 of the master PIC; GSIs 0-15 reach the PIC pins of the same number.
  constexpr uint32_t kIrq = 5;
  HV_UNIMPLEMENTED_WITHOUT(*vm, VmCap::kIrqfd, vm->RegisterIrqfd(irq, kIrq));
  ASSERT_OK(vm->RegisterIrqfd(irq, kIrq));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<GuestFixture> guest,
                       GuestFixture::Create(*vm));
  ASSERT_OK(guest->Load(guest::PicInterrupt(), GuestMode::kLong,
                        [](Regs& regs) { regs.rdi = kIrq; }));

  // Once the guest is ready, another thread raises the interrupt a little
  // later, while the vCPU sleeps in hlt inside the hypervisor.
  std::optional<std::thread> raiser;
  absl::Status raised;
  GuestRunOptions options;
  options.timeout = absl::Seconds(10);
  options.on_write = [&](bool mmio, const IoRequest& request) {
    if (mmio || request.address != HV_GUEST_SIGNAL_PORT || raiser) return;
    raiser.emplace([&] {
      absl::SleepFor(absl::Milliseconds(50));
      raised = irq.Write(1);
    });
  };
  absl::StatusOr<GuestRunResult> run = guest->Run(options);
  if (raiser) raiser->join();
  ASSERT_TRUE(raiser.has_value()) << "the guest never signalled ready";
  EXPECT_OK(raised);
  ASSERT_OK(run);
  // The handler reported its vector, then the program saw IF set again.
  EXPECT_THAT(run->reports,
              ElementsAre(HV_GUEST_PIC_VECTOR_BASE + kIrq, 0x200u));
  // Exits: the ready signal, one per report, and done; the hlt stayed in
  // the kernel (a kHlt exit would have failed the run).
  EXPECT_EQ(run->exit_count, 1 + static_cast<int>(run->reports.size()) + 1);
  ASSERT_THAT(run->accesses, SizeIs(1));
  EXPECT_EQ(run->accesses[0].address, HV_GUEST_SIGNAL_PORT);
  ASSERT_OK(vm->UnregisterIrqfd(irq, kIrq));
  guest.reset();
}

// An x86 fixed-delivery MSI to local APIC 0 at `vector` (Intel SDM Vol. 3,
// Section 11.11.1-2: address 0xfee00000 | destination << 12; data = vector,
// edge, fixed).
MsiMessage MsiToApic0(uint8_t vector) {
  MsiMessage msi;
  msi.address = 0xfee00000;
  msi.data = vector;
  return msi;
}

TEST_P(X86GuestConformance, MsiRoutedThroughAGsiReachesTheLapic) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, NewVmWithKernelIrqChip());
  if (vm == nullptr) return;
  constexpr uint32_t kGsi = 40;
  constexpr uint8_t kVector = 0x61;
  std::vector<IrqRoute> routes = LegacyRoutes();
  routes.push_back(IrqRoute::Msi(kGsi, MsiToApic0(kVector)));
  HV_UNIMPLEMENTED_WITHOUT(*vm, VmCap::kGsiRouting, vm->SetGsiRouting(routes));
  ASSERT_OK(vm->SetGsiRouting(routes));
  // A refused table leaves this one in effect: the MSI below still arrives.
  std::vector<IrqRoute> bad = routes;
  bad.push_back(IrqRoute::Pin(kGsi, 2, 5));
  EXPECT_THAT(vm->SetGsiRouting(bad),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(EventFd irq, EventFd::Create());
  ASSERT_OK(vm->RegisterIrqfd(irq, kGsi));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<GuestFixture> guest,
                       GuestFixture::Create(*vm));
  ASSERT_OK(guest->Load(guest::LapicInterrupt(), GuestMode::kLong,
                        [](Regs& regs) { regs.rdi = kVector; }));
  absl::Status raised = absl::UnknownError("the guest never signalled ready");
  GuestRunOptions options;
  options.timeout = absl::Seconds(10);
  options.on_write = [&](bool mmio, const IoRequest& request) {
    if (!mmio && request.address == HV_GUEST_SIGNAL_PORT) raised = irq.Write(1);
  };
  ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest->Run(options));
  EXPECT_OK(raised);
  // The handler saw the route's vector, then the program saw IF set again.
  EXPECT_THAT(run.reports, ElementsAre(kVector, 0x200u));
  ASSERT_OK(vm->UnregisterIrqfd(irq, kGsi));
}

TEST_P(X86GuestConformance, SignalledMsiReachesTheLapic) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, NewVmWithKernelIrqChip());
  if (vm == nullptr) return;
  constexpr uint8_t kVector = 0x72;
  HV_UNIMPLEMENTED_WITHOUT(*vm, VmCap::kSignalMsi,
                           vm->SignalMsi(MsiToApic0(kVector)).status());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<GuestFixture> guest,
                       GuestFixture::Create(*vm));
  ASSERT_OK(guest->Load(guest::LapicInterrupt(), GuestMode::kLong,
                        [](Regs& regs) { regs.rdi = kVector; }));
  absl::StatusOr<bool> delivered =
      absl::UnknownError("the guest never signalled ready");
  GuestRunOptions options;
  options.timeout = absl::Seconds(10);
  options.on_write = [&](bool mmio, const IoRequest& request) {
    if (!mmio && request.address == HV_GUEST_SIGNAL_PORT) {
      delivered = vm->SignalMsi(MsiToApic0(kVector));
    }
  };
  ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest->Run(options));
  // The guest's APIC was enabled by then: delivered, not blocked.
  EXPECT_THAT(delivered, IsOkAndHolds(true));
  EXPECT_THAT(run.reports, ElementsAre(kVector, 0x200u));
}

TEST_P(X86GuestConformance, ResampleIrqfdReassertsOnlyWhilePending) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, NewVmWithKernelIrqChip());
  if (vm == nullptr) return;
  constexpr uint32_t kPin = 10;  // IOAPIC pin = GSI under the default routes
  constexpr uint8_t kVector = 0x53;
  ASSERT_OK_AND_ASSIGN(EventFd trigger, EventFd::Create());
  ASSERT_OK_AND_ASSIGN(EventFd resample, EventFd::Create());
  HV_UNIMPLEMENTED_WITHOUT(*vm, VmCap::kIrqfdResample,
                           vm->RegisterResampleIrqfd(trigger, kPin, resample));
  ASSERT_OK(vm->RegisterResampleIrqfd(trigger, kPin, resample));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<GuestFixture> guest,
                       GuestFixture::Create(*vm));
  ASSERT_OK(guest->Load(guest::IoapicLevel(), GuestMode::kLong, [](Regs& regs) {
    regs.rdi = kPin;
    regs.rsi = kVector;
  }));

  // The device model: two events pending when the guest is ready. It asserts
  // the line for the first; on each resample (the guest's EOI deasserted
  // the line) it takes one event off and asserts again only while one is
  // still pending.
  std::atomic<int> pending{0};
  std::atomic<int> resamples{0};
  std::atomic<bool> stop{false};
  absl::Status device_status;
  std::thread device([&] {
    while (!stop.load()) {
      absl::StatusOr<uint64_t> fired = resample.Wait(absl::Milliseconds(20));
      if (absl::IsDeadlineExceeded(fired.status())) continue;
      if (!fired.ok()) {
        device_status = fired.status();
        return;
      }
      resamples.fetch_add(static_cast<int>(*fired));
      if (pending.fetch_sub(1) - 1 > 0) {
        if (absl::Status s = trigger.Write(1); !s.ok()) {
          device_status = s;
          return;
        }
      }
    }
  });
  absl::Status raised = absl::UnknownError("the guest never signalled ready");
  GuestRunOptions options;
  options.timeout = absl::Seconds(20);
  options.on_write = [&](bool mmio, const IoRequest& request) {
    if (mmio || request.address != HV_GUEST_SIGNAL_PORT) return;
    pending.store(2);
    raised = trigger.Write(1);
  };
  absl::StatusOr<GuestRunResult> run = guest->Run(options);
  stop.store(true);
  device.join();
  EXPECT_OK(device_status);
  EXPECT_OK(raised);
  ASSERT_OK(run);
  // Two interrupts at the pin's vector, and no third while the guest kept
  // interrupts enabled with nothing pending: the count it reports is 2.
  EXPECT_THAT(run->reports, ElementsAre(kVector, kVector, 2u));
  // Each EOI fired the resample event once.
  EXPECT_EQ(resamples.load(), 2);
  EXPECT_EQ(pending.load(), 0);
  ASSERT_OK(vm->UnregisterIrqfd(trigger, kPin));
}

TEST_P(X86GuestConformance, InjectInterruptWaitsForTheInterruptWindow) {
  // vm_ has no irqchip: the VMM injects vectors itself.
  constexpr uint8_t kVector = 0x44;
  ASSERT_OK(guest_->Load(guest::WindowInterrupt(), GuestMode::kLong,
                         [](Regs& regs) { regs.rdi = kVector; }));
  VcpuX86_64& vcpu = guest_->vcpu();
  absl::Status refused = absl::UnknownError("the guest never signalled ready");
  GuestRunOptions options;
  options.timeout = absl::Seconds(10);
  options.until = VcpuExitKind::kIrqWindowOpen;
  options.on_write = [&](bool mmio, const IoRequest& request) {
    if (mmio || request.address != HV_GUEST_SIGNAL_PORT) return;
    // The guest runs with IF clear here: the vector must not be queued.
    refused = vcpu.InjectInterrupt(kVector);
    vcpu.SetInterruptWindowRequested(true);
  };
  ASSERT_OK_AND_ASSIGN(GuestRunResult window, guest_->Run(options));
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition,
                                ::testing::HasSubstr("interrupt window")));
  ASSERT_EQ(window.exit.kind, VcpuExitKind::kIrqWindowOpen)
      << VcpuExitKindName(window.exit.kind);
  EXPECT_TRUE(window.reports.empty()) << "an interrupt arrived before the window";
  ASSERT_TRUE(vcpu.ReadyForInterrupt());
  ASSERT_OK(vcpu.InjectInterrupt(kVector));
  vcpu.SetInterruptWindowRequested(false);
  GuestRunOptions rest;
  rest.timeout = absl::Seconds(10);
  ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest_->Run(rest));
  // The handler ran once, at the injected vector.
  EXPECT_THAT(run.reports, ElementsAre(kVector, 1u));
}

}  // namespace
}  // namespace hv::testing
