// Fault-injection sweep over the KVM backend's aarch64 paths: a scenario
// (hypervisor, VM, RAM, a vGICv3 and its ITS, two vCPUs initialised, the
// GIC finalised, the GIC's and the ITS's state read and written back,
// an irqfd and an SPI line, register reads and writes, the register list,
// an fd mapped into an arena and removed, dirty logging of the RAM switched
// on (manual protection first), read, cleared and off, a region removed,
// teardown) runs
// once cleanly to count its N system calls, then once per call with that
// call failing with EIO (SweepFaults). Each failure must come back as a
// Status naming the failed call, leave the slot table as it was before the
// step, and leak no file descriptor (kvm_fault_run.h checks).
#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/aarch64/vcpu_aarch64.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/kvm/kvm_fault_injection.h"
#include "hypervisor/kvm/kvm_fault_run.h"
#include "hypervisor/kvm/kvm_hypervisor.h"
#include "hypervisor/kvm/kvm_test_env.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/mmap_region.h"
#include "testing/aarch64/guest_layout.h"
#include "testing/fault_sweep.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

std::string Describe(const std::vector<MemoryRegionInfo>& regions) {
  std::string out;
  for (const MemoryRegionInfo& r : regions) {
    out += absl::StrCat("slot ", r.slot, " @", r.guest_address, "+", r.size,
                        r.options.log_dirty_pages ? " log" : "", "; ");
  }
  return out;
}

using Outcome = KvmScenarioOutcome;

class Scenario {
 public:
  explicit Scenario(KvmSys* sys) : sys_(sys) {}

  Outcome Run() {
    auto kvm = KvmHypervisor::Create("/dev/kvm", sys_);
    if (!Check("create hypervisor", kvm.status())) return outcome_;
    kvm_ = std::move(kvm).value();
    auto vm = kvm_->CreateVm();
    if (!Check("create vm", vm.status())) return outcome_;
    vm_ = std::move(vm).value();
    VmAArch64* arm = vm_->AsAArch64();
    const uint64_t page = HostPageSize();
    auto ram = MemoryRegion::CreateShared("ram", 16 * page);
    auto arena = MemoryRegion::CreateArena(16 * page);
    auto blob = CreateMemfd("blob", 2 * page);
    auto event = EventFd::Create();
    if (!ram.ok() || !arena.ok() || !blob.ok() || !event.ok()) {
      Check("setup", absl::InternalError("memfd/mmap/eventfd setup failed"));
      return outcome_;
    }
    auto ram_slot = vm_->AddMemoryRegion(HV_A64_RAM_BASE, std::move(ram).value(), {});
    if (!Check("add ram", ram_slot.status())) return outcome_;
    auto arena_slot =
        vm_->AddMemoryRegion(HV_A64_EXTRA_BASE, std::move(arena).value(), {});
    if (!Check("add arena", arena_slot.status())) return outcome_;
    GicConfig gic;
    gic.distributor_base = HV_A64_GICD_BASE;
    gic.redistributor_or_cpu_base = HV_A64_GICR_BASE;
    if (!Check("create gic", arm->CreateGic(gic))) return outcome_;
    if (!Check("create gic its", arm->CreateGicIts(HV_A64_GITS_BASE))) {
      return outcome_;
    }
    for (uint32_t id = 0; id < 2; ++id) {
      auto vcpu = arm->CreateVcpuAArch64(id);
      if (!Check("create vcpu", vcpu.status())) return outcome_;
      vcpus_.push_back(std::move(vcpu).value());
      if (!Check("init vcpu", vcpus_.back()->Init({VcpuFeature::kPsci0_2}))) {
        return outcome_;
      }
    }
    if (!Check("finalize gic", arm->FinalizeGic())) return outcome_;
    if (!Check("register irqfd", vm_->RegisterIrqfd(*event, 3))) return outcome_;
    if (!Check("set irq line", vm_->SetIrqLine(4, false))) return outcome_;
    VcpuAArch64& cpu = *vcpus_[1];
    if (!Check("set pc", cpu.SetOneReg(AArch64Reg::Pc(), HV_A64_CODE))) {
      return outcome_;
    }
    if (!Check("get mpidr", cpu.GetMpidr().status())) return outcome_;
    if (!Check("get vector reg", cpu.GetVectorReg(2).status())) return outcome_;
    if (!Check("get system regs", cpu.GetSystemRegs().status())) return outcome_;
    Vcpu::GuestDebug step;
    step.enable = true;
    step.single_step = true;
    if (!Check("set guest debug", cpu.SetGuestDebug(step))) return outcome_;
    // The GIC state read and written back, for both vCPUs.
    std::vector<VcpuAArch64*> both = {vcpus_[0].get(), vcpus_[1].get()};
    auto gic_state = arm->GetGicState(both);
    if (!Check("get gic state", gic_state.status())) return outcome_;
    if (!Check("set gic state", arm->SetGicState(*gic_state, both))) {
      return outcome_;
    }
    // The ITS's registers and tables, saved and restored.
    auto its_state = arm->GetGicItsState();
    if (!Check("get gic its state", its_state.status())) return outcome_;
    if (!Check("set gic its state", arm->SetGicItsState(*its_state))) {
      return outcome_;
    }
    if (!Check("add fd mapping",
               vm_->AddFdMapping(*arena_slot, 2 * page, 2 * page, blob->get(), 0,
                                 Protection::Read()))) {
      return outcome_;
    }
    if (!Check("remove mapping", vm_->RemoveMapping(*arena_slot, 2 * page, 2 * page))) {
      return outcome_;
    }
    if (!Check("unregister irqfd", vm_->UnregisterIrqfd(*event, 3))) return outcome_;
    // Dirty logging of the live RAM region (manual protection first, where
    // KVM has it): on, read, cleared, off.
    const bool manual = vm_->CheckCapability(VmCap::kDirtyLogManualProtect);
    if (manual && !Check("enable dirty log manual protect",
                         vm_->EnableDirtyLogManualProtect())) {
      return outcome_;
    }
    if (!Check("set dirty logging on", vm_->SetDirtyLogging(*ram_slot, true))) {
      return outcome_;
    }
    if (!Check("get dirty log", vm_->GetDirtyLog(*ram_slot).status())) {
      return outcome_;
    }
    const std::vector<uint64_t> all = {0xffff};
    if (manual && !Check("clear dirty log",
                         vm_->ClearDirtyLog(*ram_slot, 0, 16, all))) {
      return outcome_;
    }
    if (!Check("set dirty logging off",
               vm_->SetDirtyLogging(*ram_slot, false))) {
      return outcome_;
    }
    if (!Check("remove ram", vm_->RemoveMemoryRegion(*ram_slot).status())) {
      return outcome_;
    }
    return outcome_;
  }

 private:
  // Records a failed step (and whether the slot table moved across it).
  bool Check(const char* step, const absl::Status& status) {
    const std::string after = vm_ ? Describe(vm_->MemoryRegions()) : "";
    if (status.ok()) {
      table_ = after;
      return true;
    }
    outcome_.status = status;
    outcome_.step = step;
    if (vm_ && after != table_ && !table_.empty()) {
      outcome_.table_changed = table_ + " -> " + after;
    }
    return false;
  }

  KvmSys* const sys_;
  Outcome outcome_;
  std::string table_;
  // Destroyed in reverse: vCPUs, VM, hypervisor.
  std::unique_ptr<KvmHypervisor> kvm_;
  std::unique_ptr<Vm> vm_;
  std::vector<std::unique_ptr<VcpuAArch64>> vcpus_;
};

TEST(KvmAArch64FaultSweep, EveryFailedCallIsReportedAndLeavesNothingBehind) {
  HV_REQUIRE_KVM();
  const int fds_at_start = CountOpenFds();
  uint64_t total_calls = 0;
  {
    FaultInjectingKvmSys clean;
    Outcome outcome = Scenario(&clean).Run();
    ASSERT_OK(outcome.status) << outcome.step;
    total_calls = clean.calls();
  }
  ASSERT_EQ(CountOpenFds(), fds_at_start);
  ASSERT_GT(total_calls, 20u);

  const FaultSweep sweep = SweepFaults([&](uint64_t n) {
    FaultInjectingKvmSys sys;
    sys.FailCall(n, EIO);
    const Outcome outcome = Scenario(&sys).Run();
    return CheckKvmFaultRun(sys, outcome, fds_at_start);
  });
  std::printf(
      "aarch64 fault sweep: %llu calls per clean run; %llu reported as "
      "errors, %llu in teardown (close/munmap), %llu fd leaks\n",
      static_cast<unsigned long long>(total_calls),
      static_cast<unsigned long long>(sweep.reported),
      static_cast<unsigned long long>(sweep.unreported),
      static_cast<unsigned long long>(sweep.leaked));
  EXPECT_EQ(sweep.calls, total_calls);
  EXPECT_EQ(sweep.leaked, 0u);
  EXPECT_EQ(sweep.reported + sweep.unreported, total_calls);
}

}  // namespace
}  // namespace hv::testing
