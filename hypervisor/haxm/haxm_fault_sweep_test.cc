// Fault sweep: a scenario that opens HAXM, creates a VM, adds regions (one
// read-only), creates a vCPU, maps a file into an arena, removes a region
// and runs the vCPU is run once to count its driver calls; then once per
// call with that call failing (SweepFaults). Each run must end in a Status
// naming the failed call (or succeed, when the failure was a close, which
// releases the handle anyway), leave the slot table as it was before the
// failing step, and, once everything is destroyed, leak no handle, tunnel or
// vCPU -- except what HAXM itself cannot undo (a VM or vCPU whose device
// failed to open stays in the driver; neither port implements a destroy
// ioctl).
#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/haxm/haxm_hypervisor.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/haxm/haxm_test_util.h"
#include "testing/fakes/haxm_fake.h"
#include "testing/fault_sweep.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {


constexpr uint64_t kSize = 0x10000;
constexpr uint64_t kBase = 0x100000;

// Checks that a failed step left the regions as they were.
absl::Status Unchanged(const Vm& vm, const std::vector<MemoryRegionInfo>& before,
                       absl::Status status) {
  const std::vector<MemoryRegionInfo> after = vm.MemoryRegions();
  bool same = after.size() == before.size();
  for (size_t i = 0; same && i < after.size(); ++i) {
    same = after[i].slot == before[i].slot &&
           after[i].guest_address == before[i].guest_address &&
           after[i].size == before[i].size;
  }
  if (!same) {
    return absl::InternalError(absl::StrCat(
        "the slot table changed after a failed step: ", status.message()));
  }
  return status;
}

absl::Status Scenario(HaxmFake& fake) {
  ASSIGN_OR_RETURN(std::unique_ptr<HaxmHypervisor> haxm,
                   HaxmHypervisor::Create(
                       HaxmHypervisor::DefaultDevicePath(fake), &fake));
  ASSIGN_OR_RETURN(std::unique_ptr<Vm> vm, haxm->CreateVm());
  ASSIGN_OR_RETURN(auto ram, MemoryRegion::CreateShared("ram", kSize));
  ASSIGN_OR_RETURN(auto rom, MemoryRegion::CreateShared("rom", kSize));
  ASSIGN_OR_RETURN(auto arena, MemoryRegion::CreateArena(kSize));
  ASSIGN_OR_RETURN(UniqueFd blob, CreateMemfd("blob", 0x1000));

  std::vector<MemoryRegionInfo> before = vm->MemoryRegions();
  absl::StatusOr<MemSlot> ram_slot = vm->AddMemoryRegion(kBase, std::move(ram), {});
  if (!ram_slot.ok()) return Unchanged(*vm, before, ram_slot.status());

  MemoryRegionOptions read_only;
  read_only.read_only = true;
  before = vm->MemoryRegions();
  absl::StatusOr<MemSlot> rom_slot =
      vm->AddMemoryRegion(kBase + kSize, std::move(rom), read_only);
  if (!rom_slot.ok()) return Unchanged(*vm, before, rom_slot.status());

  before = vm->MemoryRegions();
  absl::StatusOr<MemSlot> arena_slot =
      vm->AddMemoryRegion(kBase + 4 * kSize, std::move(arena), {});
  if (!arena_slot.ok()) return Unchanged(*vm, before, arena_slot.status());

  ASSIGN_OR_RETURN(std::unique_ptr<Vcpu> vcpu, vm->CreateVcpu(0));

#ifndef HV_HAXM_TEST_NO_FD_REMAP  // MemoryRegion::MapFd is Linux-only
  before = vm->MemoryRegions();
  absl::Status mapped = vm->AddFdMapping(*arena_slot, 0x1000, 0x1000,
                                         blob.get(), 0, Protection::Read());
  if (!mapped.ok()) return Unchanged(*vm, before, mapped);
#endif

  before = vm->MemoryRegions();
  absl::StatusOr<std::unique_ptr<MemoryRegion>> removed =
      vm->RemoveMemoryRegion(*ram_slot);
  if (!removed.ok()) return Unchanged(*vm, before, removed.status());

  fake.QueueHalt(0);
  ASSIGN_OR_RETURN(VcpuExit exit, vcpu->Run());
  if (exit.kind != VcpuExitKind::kHlt) {
    return absl::InternalError("the scenario's vCPU did not halt");
  }
  return absl::OkStatus();
}

// Whether call `i` is the SET_RAM2 that maps a region again right after the
// SET_RAM2 that unmapped it (an fd mapping's re-map).
bool IsRemap(const std::vector<HaxmCall>& calls, size_t i) {
  auto set_ram = [&](size_t at, haxm_abi::hax_set_ram_info2* info) {
    if (calls[at].name != "HAX_VM_IOCTL_SET_RAM2" ||
        calls[at].input.size() != sizeof(*info)) {
      return false;
    }
    std::memcpy(info, calls[at].input.data(), sizeof(*info));
    return true;
  };
  haxm_abi::hax_set_ram_info2 previous, current;
  return i > 0 && set_ram(i - 1, &previous) && set_ram(i, &current) &&
         previous.flags == haxm_abi::kRamInfoInvalid &&
         current.flags != haxm_abi::kRamInfoInvalid &&
         previous.pa_start == current.pa_start;
}

// What a Status reporting the failure of `call` must mention.
std::string Mention(const std::string& call) {
  if (call == "map tunnel") return "map the tunnel";
  return call;  // "open <path>" or the ioctl's name
}

// The runs whose failure the backend absorbs, by kind.
struct Absorbed {
  int closes = 0;   // a close (releases the handle anyway) or a tunnel unmap
  int retried = 0;  // the retried re-map of an fd mapping's page swap
};

// The checks of a run in which call `n` (`calls[n]`, from the clean run)
// failed and the scenario returned `status`.
void CheckFailedCall(const std::vector<HaxmCall>& calls, size_t n,
                     const absl::Status& status, Absorbed& absorbed) {
  const std::string& call = calls[n].name;
  SCOPED_TRACE(call);
  if (call == "close" || call == "unmap tunnel") {
    // A failed close still releases the handle; an unmap cannot fail.
    EXPECT_OK(status);
    ++absorbed.closes;
  } else if (IsRemap(calls, n)) {
    // The map after an fd mapping's page swap is retried once, so one
    // failure there is absorbed (haxm_vm_test checks the mapping).
    EXPECT_OK(status);
    ++absorbed.retried;
  } else {
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.code(), absl::StatusCode::kInternal) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), Mention(call))) << status;
  }
}

// What must be left once a run is destroyed: nothing, except the VM (and
// vCPU) whose device `failed_call` failed to open.
void CheckNothingLeft(HaxmFake& fake, const haxm_abi::Platform& platform,
                      const std::string& failed_call) {
  EXPECT_EQ(fake.OpenHandles(), 0u);
  EXPECT_EQ(fake.MappedTunnels(), 0u);
  EXPECT_THAT(fake.Violations(), ::testing::IsEmpty());
  const bool vm_open_failed =
      failed_call == "open " + haxm_abi::VmDevicePath(platform, 0);
  const bool vcpu_open_failed =
      failed_call == "open " + haxm_abi::VcpuDevicePath(platform, 0, 0);
  EXPECT_EQ(fake.LiveVms(), vm_open_failed || vcpu_open_failed ? 1u : 0u);
  EXPECT_EQ(fake.LiveVcpus(), vcpu_open_failed ? 1u : 0u);
}

TEST(HaxmFaultSweep, EveryFailedCallIsReportedAndLeavesNothingBehind) {
  for (const haxm_abi::Platform* platform : HaxmPlatforms()) {
    SCOPED_TRACE(platform->name);
    const HaxmFakeOptions options = HaxmOptionsFor(platform);
    std::vector<HaxmCall> calls;
    {
      HaxmFake fake(options);
      ASSERT_OK(Scenario(fake));
      calls = fake.Calls();
      EXPECT_EQ(fake.OpenHandles(), 0u);
      EXPECT_EQ(fake.LiveVms(), 0u);
    }
    Absorbed absorbed;
    const FaultSweep sweep = SweepFaults([&](uint64_t n) {
      HaxmFake fake(options);
      fake.FailCall(n, platform->errors.invalid_parameter);
      const absl::Status status = Scenario(fake);
      const bool injected = fake.call_count() > n;
      if (injected) {
        CheckFailedCall(calls, n, status, absorbed);
      } else {
        EXPECT_OK(status);
      }
      CheckNothingLeft(fake, *platform, injected ? calls[n].name : "");
      return FaultRun{injected, status};
    });
    // Every call of the scenario was failed once.
    EXPECT_EQ(sweep.calls, calls.size());
    EXPECT_EQ(sweep.unreported,
              static_cast<uint64_t>(absorbed.closes + absorbed.retried));
#ifndef HV_HAXM_TEST_NO_FD_REMAP
    EXPECT_EQ(absorbed.retried, 1);
#endif
    EXPECT_GT(sweep.reported, 10u);
    std::cout << platform->name << ": " << sweep.calls << " calls, "
              << sweep.reported << " failures reported as a Status, "
              << absorbed.closes << " closes/unmaps, " << absorbed.retried
              << " retried re-map\n";
  }
}

}  // namespace
}  // namespace hv::testing
