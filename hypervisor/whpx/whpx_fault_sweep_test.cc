// Fault sweep: a scenario that creates a hypervisor, a VM with a split
// irqchip (WHPX's local APIC emulation), memory regions (one dirty-logged;
// the first sets the partition up), a vCPU, reads and loads its XSAVE image
// and its local APIC state, signals an MSI, queries and removes, run once
// to count its WHPX calls, then once per call with that call failing (SweepFaults). A failure
// inside the scenario must surface as a Status naming the call and the
// HRESULT, leave the VM's regions as they were before the failing step, and
// leak nothing once everything is destroyed. A failure of a teardown call
// (delete, destroy, the destructor's unmap) is what WHPX refused: exactly
// that one object is left behind, and nothing else. The optional
// TSC-frequency capability query may fail with no effect.
#include <functional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/whpx/whpx_hypervisor.h"
#include "hypervisor/whpx/whpx_status.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "testing/fakes/whpx_fake.h"
#include "testing/fault_sweep.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::testing::HasSubstr;
using namespace whpx_abi;  // NOLINT

struct Outcome {
  absl::Status status;
  // Regions before the step that failed, and after it failed.
  std::vector<MemoryRegionInfo> before, after;
  // A SetXsave that failed changed the vCPU's XSAVE state anyway.
  bool xsave_changed = false;
  // A SetLapic that failed changed the vCPU's local APIC state anyway.
  bool lapic_changed = false;
};

bool SameRegions(const std::vector<MemoryRegionInfo>& a,
                 const std::vector<MemoryRegionInfo>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].slot != b[i].slot || a[i].guest_address != b[i].guest_address ||
        a[i].size != b[i].size) {
      return false;
    }
  }
  return true;
}

Outcome RunScenario(const WhpxApi* api) {
  Outcome outcome;
  auto hypervisor = WhpxHypervisor::Create(api, 2);
  if (!hypervisor.ok()) return {hypervisor.status()};
  auto vm_or = (*hypervisor)->CreateVm();
  if (!vm_or.ok()) return {vm_or.status()};
  std::unique_ptr<Vm> vm = std::move(vm_or).value();
  std::unique_ptr<Vcpu> vcpu;
  MemSlot ram = 0, logged = 0;
  std::vector<uint8_t> xsave;
  LapicState lapic;
  const std::vector<std::function<absl::Status()>> steps = {
      [&]() -> absl::Status {
        return vm->AsX86_64()->CreateIrqChip(IrqChipKind::kSplit);
      },
      [&]() -> absl::Status {
        auto region = MemoryRegion::CreateShared("ram", 0x4000);
        if (!region.ok()) return region.status();
        auto slot = vm->AddMemoryRegion(0, std::move(region).value(), {});
        if (slot.ok()) ram = *slot;
        return slot.status();
      },
      [&]() -> absl::Status {
        auto region = MemoryRegion::CreateShared("logged", 0x2000);
        if (!region.ok()) return region.status();
        MemoryRegionOptions options;
        options.log_dirty_pages = true;
        auto slot =
            vm->AddMemoryRegion(0x100000, std::move(region).value(), options);
        if (slot.ok()) logged = *slot;
        return slot.status();
      },
      [&]() -> absl::Status {
        auto created = vm->CreateVcpu(0);
        if (created.ok()) vcpu = std::move(created).value();
        return created.status();
      },
      [&]() -> absl::Status {
        Regs regs;
        regs.rip = 0x1000;
        return vcpu->AsX86_64()->SetRegs(regs);
      },
      [&]() -> absl::Status {
        auto image = vcpu->AsX86_64()->GetXsave();
        if (image.ok()) xsave = *image;
        return image.status();
      },
      [&]() -> absl::Status {
        std::vector<uint8_t> changed = xsave;
        changed[160] ^= 0x5a;  // XMM0's first byte
        absl::Status status = vcpu->AsX86_64()->SetXsave(changed);
        if (!status.ok()) {
          auto now = vcpu->AsX86_64()->GetXsave();
          outcome.xsave_changed = !now.ok() || *now != xsave;
        }
        return status;
      },
      [&]() -> absl::Status {
        auto state = vcpu->AsX86_64()->GetLapic();
        if (state.ok()) lapic = *state;
        return state.status();
      },
      [&]() -> absl::Status {
        LapicState changed = lapic;
        changed.regs[0x80] = 0x20;  // TPR
        absl::Status status = vcpu->AsX86_64()->SetLapic(changed);
        if (!status.ok()) {
          auto now = vcpu->AsX86_64()->GetLapic();
          outcome.lapic_changed = !now.ok() || now->regs != lapic.regs;
        }
        return status;
      },
      [&]() -> absl::Status {
        MsiMessage msi;
        msi.address = 0xfee00000;
        msi.data = 0x40;
        return vm->SignalMsi(msi).status();
      },
      [&]() -> absl::Status { return vm->GetDirtyLog(logged).status(); },
      [&]() -> absl::Status { return vm->RemoveMemoryRegion(ram).status(); },
  };
  for (const auto& step : steps) {
    outcome.before = vm->MemoryRegions();
    outcome.status = step();
    if (!outcome.status.ok()) {
      outcome.after = vm->MemoryRegions();
      break;
    }
  }
  vcpu.reset();
  vm.reset();
  return outcome;
}

bool IsTeardown(const std::string& name) {
  return name == "WHvDeletePartition" || name == "WHvDeleteVirtualProcessor" ||
         name == "WHvEmulatorDestroyEmulator";
}

// The runs that succeed although a call failed, by kind.
struct Unreported {
  int teardown = 0;  // WHPX refused a delete, destroy or the last unmaps
  int optional = 0;  // the optional TSC-frequency capability query
};

// The checks of a run in which call `n` (`clean[n]`, from the clean run)
// failed; `leaks` is what the fake still holds once everything is destroyed.
void CheckFailedCall(const std::vector<testing::WhpxFake::Call>& clean,
                     size_t n, const Outcome& outcome, int leaks,
                     Unreported& unreported) {
  const testing::WhpxFake::Call& call = clean[n];
  SCOPED_TRACE(call.name + " (" + call.args + ")");
  // The destructor's unmaps come after the scenario's last step.
  const bool destructor_unmap =
      call.name == "WHvUnmapGpaRange" && n + 4 >= clean.size();
  if (IsTeardown(call.name) || destructor_unmap) {
    ++unreported.teardown;
    EXPECT_OK(outcome.status);
    EXPECT_EQ(leaks, 1) << "WHPX refused one teardown call";
    return;
  }
  if (call.name == "WHvGetCapability" &&
      call.args.find("code 0x1004") != std::string::npos) {
    // The TSC frequency is optional (older WHPX builds lack the code).
    ++unreported.optional;
    EXPECT_OK(outcome.status);
    EXPECT_EQ(leaks, 0);
    return;
  }
  EXPECT_THAT(outcome.status,
              testing::StatusIs(absl::StatusCode::kInternal,
                                HasSubstr("E_FAIL (HRESULT 0x80004005)")));
  EXPECT_THAT(std::string(outcome.status.message()), HasSubstr(call.name));
  EXPECT_TRUE(SameRegions(outcome.before, outcome.after))
      << "the failed step changed the VM's regions";
  EXPECT_FALSE(outcome.xsave_changed);
  EXPECT_FALSE(outcome.lapic_changed);
  EXPECT_EQ(leaks, 0);
}

TEST(WhpxFaultSweep, EveryFailedCallIsReportedAndLeavesNothingBehind) {
  std::vector<testing::WhpxFake::Call> clean;
  {
    auto fake = testing::WhpxFake::Create();
    Outcome outcome = RunScenario(fake->api());
    ASSERT_OK(outcome.status);
    clean = fake->calls();
    EXPECT_EQ(fake->LivePartitions(), 0);
    EXPECT_THAT(fake->violations(), ::testing::IsEmpty());
  }
  ASSERT_GT(clean.size(), 15u);
  Unreported unreported;
  const testing::FaultSweep sweep = testing::SweepFaults([&](uint64_t n) {
    auto fake = testing::WhpxFake::Create();
    fake->FailCall(static_cast<int>(n), kEFail);
    Outcome outcome = RunScenario(fake->api());
    const int leaks = fake->LivePartitions() + fake->LiveVps() +
                      fake->LiveEmulators() +
                      static_cast<int>(fake->violations().size());
    const bool injected = fake->calls().size() > n;
    if (injected) {
      CheckFailedCall(clean, n, outcome, leaks, unreported);
    } else {
      EXPECT_OK(outcome.status);
      EXPECT_EQ(leaks, 0);
    }
    return testing::FaultRun{injected, outcome.status};
  });
  EXPECT_EQ(sweep.calls, clean.size());
  EXPECT_EQ(sweep.unreported,
            static_cast<uint64_t>(unreported.teardown + unreported.optional));
  EXPECT_EQ(sweep.reported + sweep.unreported, clean.size());
  std::printf(
      "fault sweep: %zu calls, %llu reported as Status, %d teardown, %d "
      "optional\n",
      clean.size(), static_cast<unsigned long long>(sweep.reported),
      unreported.teardown, unreported.optional);
}

}  // namespace
}  // namespace hv
