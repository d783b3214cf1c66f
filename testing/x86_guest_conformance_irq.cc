// X86GuestConformance: an irqfd raises an interrupt that wakes a halted
// guest through the in-kernel irqchip.

#include <cstdint>
#include <optional>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/eventfd.h"
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

}  // namespace
}  // namespace hv::testing
