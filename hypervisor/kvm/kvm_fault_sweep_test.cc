// Fault-injection sweep over the KVM backend: a scenario (create the
// hypervisor and a VM, add a RAM region and an arena, create the in-kernel
// irqchip and two vCPUs, set a GSI routing table, signal an MSI, register
// and unregister a resample irqfd, map a file into the arena and take it
// out again, switch dirty logging of the RAM on (manual protection first,
// where KVM has it), read and clear its log and switch it off, remove a region, tear everything down) is run once cleanly to count its N system calls, then
// once per call with that call failing (SweepFaults). Each failure must come
// back as a Status that names the failed call, leave the slot table as it
// was before the failing step, leak no file descriptor and crash nothing.
#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/kvm/kvm_fault_injection.h"
#include "hypervisor/kvm/kvm_fault_run.h"
#include "hypervisor/kvm/kvm_hypervisor.h"
#include "hypervisor/kvm/kvm_test_env.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "testing/fault_sweep.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

constexpr uint64_t kPage = 0x1000;

std::string Describe(const std::vector<MemoryRegionInfo>& regions) {
  std::string out;
  for (const MemoryRegionInfo& r : regions) {
    out += "slot " + std::to_string(r.slot) + " @" +
           std::to_string(r.guest_address) + "+" + std::to_string(r.size) +
           (r.options.log_dirty_pages ? " log" : "") + "; ";
  }
  return out;
}

using Outcome = testing::KvmScenarioOutcome;

// Runs `step` (a Status or StatusOr expression); on failure records it,
// checks the slot table against the snapshot taken before the step, and
// ends the scenario.
#define SWEEP_STEP(name, expr)                                              \
  do {                                                                      \
    const auto before = vm ? vm->MemoryRegions()                            \
                           : std::vector<MemoryRegionInfo>();               \
    auto result = (expr);                                                   \
    if (!::hv::testing::internal::GetStatus(result).ok()) {                 \
      outcome.status = ::hv::testing::internal::GetStatus(result);          \
      outcome.step = name;                                                  \
      if (vm && Describe(vm->MemoryRegions()) != Describe(before)) {        \
        outcome.table_changed = Describe(before) + " -> " +                 \
                                Describe(vm->MemoryRegions());              \
      }                                                                     \
      return outcome;                                                       \
    }                                                                       \
    SWEEP_KEEP(result);                                                     \
  } while (false)

#define SWEEP_KEEP(result) last = std::move(result)

Outcome RunScenario(KvmSys* sys) {
  Outcome outcome;
  std::unique_ptr<Vm> vm;
  std::unique_ptr<KvmHypervisor> kvm;
  std::vector<std::unique_ptr<Vcpu>> vcpus;
  MemSlot ram_slot = 0, arena_slot = 0;
  {
    auto created = KvmHypervisor::Create("/dev/kvm", sys);
    if (!created.ok()) {
      outcome.status = created.status();
      outcome.step = "create hypervisor";
      return outcome;
    }
    kvm = std::move(created).value();
  }
  {
    auto created = kvm->CreateVm();
    if (!created.ok()) {
      outcome.status = created.status();
      outcome.step = "create vm";
      return outcome;
    }
    vm = std::move(created).value();
  }
  auto ram = MemoryRegion::CreateShared("ram", 16 * kPage);
  auto arena = MemoryRegion::CreateArena(16 * kPage);
  auto blob = CreateMemfd("blob", 4 * kPage);
  auto trigger = EventFd::Create();
  auto resample = EventFd::Create();
  if (!ram.ok() || !arena.ok() || !blob.ok() || !trigger.ok() ||
      !resample.ok()) {
    outcome.status = absl::InternalError("test setup (memfd/mmap) failed");
    outcome.step = "setup";
    return outcome;
  }
  {
    absl::StatusOr<MemSlot> last;
    SWEEP_STEP("add ram", vm->AddMemoryRegion(0, std::move(ram).value(), {}));
    ram_slot = *last;
    SWEEP_STEP("add arena",
               vm->AddMemoryRegion(0x100000, std::move(arena).value(), {}));
    arena_slot = *last;
  }
  {
    absl::Status last;
    SWEEP_STEP("create irqchip",
               vm->AsX86_64()->CreateIrqChip(IrqChipKind::kKernel, 0));
  }
  for (uint32_t id = 0; id < 2; ++id) {
    absl::StatusOr<std::unique_ptr<Vcpu>> last;
    SWEEP_STEP("create vcpu", vm->CreateVcpu(id));
    vcpus.push_back(std::move(last).value());
  }
  {
    MsiMessage msi;
    msi.address = 0xfee00000;
    msi.data = 0x40;
    absl::Status last;
    SWEEP_STEP("set gsi routing",
               vm->SetGsiRouting(
                   {IrqRoute::Pin(5, 2, 5), IrqRoute::Msi(30, msi)}));
    SWEEP_STEP("signal msi", vm->SignalMsi(msi).status());
    SWEEP_STEP("register resample irqfd",
               vm->RegisterResampleIrqfd(*trigger, 5, *resample));
    SWEEP_STEP("unregister irqfd", vm->UnregisterIrqfd(*trigger, 5));
  }
  {
    absl::Status last;
    SWEEP_STEP("add fd mapping",
               vm->AddFdMapping(arena_slot, 4 * kPage, 2 * kPage, blob->get(),
                                0, Protection::ReadWrite()));
    SWEEP_STEP("remove mapping",
               vm->RemoveMapping(arena_slot, 4 * kPage, 2 * kPage));
  }
  // Dirty logging switched on for the live RAM region (with manual
  // protection where KVM offers it), read, cleared and switched off.
  {
    absl::Status last;
    const bool manual = vm->CheckCapability(VmCap::kDirtyLogManualProtect);
    if (manual) {
      SWEEP_STEP("enable dirty log manual protect",
                 vm->EnableDirtyLogManualProtect());
    }
    SWEEP_STEP("set dirty logging on", vm->SetDirtyLogging(ram_slot, true));
    SWEEP_STEP("get dirty log", vm->GetDirtyLog(ram_slot).status());
    if (manual) {
      const std::vector<uint64_t> all = {0xffff};
      SWEEP_STEP("clear dirty log", vm->ClearDirtyLog(ram_slot, 0, 16, all));
    }
    SWEEP_STEP("set dirty logging off", vm->SetDirtyLogging(ram_slot, false));
  }
  // The state calls a snapshot makes, each read then written back.
  VcpuX86_64* cpu = vcpus[0]->AsX86_64();
  {
    absl::StatusOr<MpState> last;
    SWEEP_STEP("get mp state", cpu->GetMpState());
    {
      absl::Status last;
      SWEEP_STEP("set mp state", cpu->SetMpState(MpState::kRunnable));
    }
  }
  {
    absl::StatusOr<std::vector<uint8_t>> last;
    SWEEP_STEP("get xsave", cpu->GetXsave());
    const std::vector<uint8_t> image = *last;
    {
      absl::Status last;
      SWEEP_STEP("set xsave", cpu->SetXsave(image));
    }
  }
  {
    absl::StatusOr<VcpuEvents> last;
    SWEEP_STEP("get vcpu events", cpu->GetVcpuEvents());
    const VcpuEvents events = *last;
    {
      absl::Status last;
      SWEEP_STEP("set vcpu events", cpu->SetVcpuEvents(events));
    }
  }
  {
    absl::StatusOr<std::vector<uint32_t>> last;
    SWEEP_STEP("get msr index list", vm->AsX86_64()->GetMsrIndexList());
  }
  if (kvm->CheckCapability(HypervisorCap::kGuestDebug)) {
    Vcpu::GuestDebug step;
    step.enable = true;
    step.single_step = true;
    step.hw_breakpoints = {0x1000};
    absl::Status last;
    SWEEP_STEP("set guest debug", cpu->SetGuestDebug(step));
  }
  if (vm->CheckCapability(VmCap::kUserSpaceMsrs)) {
    absl::Status last;
    SWEEP_STEP("set user-space msrs",
               vm->AsX86_64()->SetUserSpaceMsrs({MsrRange{0x1a0, 1, true, true}}));
  }
  if (kvm->CheckCapability(HypervisorCap::kIrqChipState)) {
    {
      absl::StatusOr<PicState> last;
      SWEEP_STEP("get pic state",
                 vm->AsX86_64()->GetPicState(VmX86_64::Pic::kPrimary));
      const PicState pic = *last;
      {
        absl::Status last;
        SWEEP_STEP("set pic state",
                   vm->AsX86_64()->SetPicState(VmX86_64::Pic::kPrimary, pic));
      }
    }
    {
      absl::StatusOr<PitState> last;
      SWEEP_STEP("get pit state", vm->AsX86_64()->GetPitState());
      const PitState pit = *last;
      {
        absl::Status last;
        SWEEP_STEP("set pit state", vm->AsX86_64()->SetPitState(pit));
      }
    }
  }
  {
    absl::StatusOr<std::unique_ptr<MemoryRegion>> last;
    SWEEP_STEP("remove ram", vm->RemoveMemoryRegion(ram_slot));
  }
  // Teardown (munmap/close of vCPUs, VM, device) happens as locals die.
  return outcome;
}

TEST(KvmFaultSweep, EveryFailedCallIsReportedAndLeavesNothingBehind) {
  HV_REQUIRE_KVM();
  const int fds_at_start = testing::CountOpenFds();
  uint64_t total_calls = 0;
  {
    testing::FaultInjectingKvmSys clean;
    Outcome outcome = RunScenario(&clean);
    ASSERT_OK(outcome.status) << outcome.step;
    total_calls = clean.calls();
  }
  ASSERT_EQ(testing::CountOpenFds(), fds_at_start);
  ASSERT_GT(total_calls, 0u);

  const testing::FaultSweep sweep = testing::SweepFaults([&](uint64_t n) {
    testing::FaultInjectingKvmSys sys;
    sys.FailCall(n, EIO);
    const Outcome outcome = RunScenario(&sys);
    return testing::CheckKvmFaultRun(sys, outcome, fds_at_start);
  });
  std::printf(
      "fault sweep: %llu calls per clean run, %llu faults injected, %llu "
      "reported as errors, %llu in teardown (close/munmap), %llu fd leaks\n",
      static_cast<unsigned long long>(total_calls),
      static_cast<unsigned long long>(sweep.calls),
      static_cast<unsigned long long>(sweep.reported),
      static_cast<unsigned long long>(sweep.unreported),
      static_cast<unsigned long long>(sweep.leaked));
  EXPECT_EQ(sweep.calls, total_calls);
  EXPECT_EQ(sweep.leaked, 0u);
}

}  // namespace
}  // namespace hv
