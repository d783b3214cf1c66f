// Each seam call of a whole scenario (open the device, create a VM, add a
// region, set the devicetree, create a vCPU, run it, tear it all down) is
// made to fail in turn. Every failure must come back as a Status naming the
// call and the errno, leave the VM as it was (no region, no vCPU function
// half-added), and leak no descriptor or mapping once everything is gone.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/gunyah/gunyah_test_util.h"
#include "hypervisor/gunyah/gunyah_vcpu.h"
#include "testing/fault_sweep.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

absl::Status RunScenario(GunyahFake& fake) {
  ASSIGN_OR_RETURN(auto gunyah, GunyahHypervisor::Create("/dev/gunyah", &fake));
  ASSIGN_OR_RETURN(auto vm, NewArmVm(*gunyah));
  ASSIGN_OR_RETURN(auto ram, MemoryRegion::CreateShared("ram", kRamSize));
  absl::Status added =
      vm->AddMemoryRegion(kRamBase, std::move(ram), {}).status();
  if (!added.ok()) {
    EXPECT_THAT(vm->MemoryRegions(), IsEmpty());
    EXPECT_THAT(fake.LatestVm()->regions, IsEmpty());
    return added;
  }
  RETURN_IF_ERROR(vm->InitArch(kRamBase + kDtbSize, kRamBase, kDtbSize));
  absl::StatusOr<std::unique_ptr<VcpuAArch64>> vcpu =
      vm->CreateVcpuAArch64(0);
  if (!vcpu.ok()) {
    // Nothing half-made: no vCPU function left in the VM, no run page.
    EXPECT_THAT(fake.LatestVm()->vcpus, IsEmpty());
    EXPECT_EQ(fake.mappings(), 0u);
    return vcpu.status();
  }
  RETURN_IF_ERROR((*vcpu)->Init({VcpuFeature::kPsci0_2}));
  fake.QueueMmio(0, 0x09000000, true, {1});
  absl::StatusOr<VcpuExit> exit = (*vcpu)->Run();
  if (!exit.ok()) {
    // A failed start or run can be retried: the fault was the kernel's.
    fake.QueueMmio(0, 0x09000000, true, {2});
    absl::StatusOr<VcpuExit> retry = (*vcpu)->Run();
    EXPECT_OK(retry.status());
    if (retry.ok()) {
      EXPECT_EQ(retry->kind, VcpuExitKind::kMmio);
    }
    return exit.status();
  }
  EXPECT_EQ(exit->kind, VcpuExitKind::kMmio);
  EXPECT_EQ(vm->MemoryRegions().size(), 1u);
  return absl::OkStatus();
}

// One run of the sweep: `failed` was made to fail with EIO and the
// scenario returned `status`.
void CheckFailedCall(const GunyahFake::Call& failed, const absl::Status& status,
                     int& teardown) {
  SCOPED_TRACE(absl::StrCat("call ", failed.name));
  EXPECT_EQ(failed.error, EIO);
  if (failed.name == "close" || failed.name == "munmap") {
    // Teardown: Linux released the resource anyway; nothing to report.
    EXPECT_OK(status);
    ++teardown;
  } else {
    EXPECT_THAT(status, StatusIs(
                            absl::StatusCode::kUnknown,  // EIO
                            ::testing::AllOf(HasSubstr(failed.name),
                                             HasSubstr("Input/output error"))));
  }
}

TEST(GunyahFaultSweep, EveryFailingCallIsReportedAndLeavesNothingBehind) {
  uint64_t total = 0;
  {
    GunyahFake fake;
    ASSERT_OK(RunScenario(fake));
    total = fake.call_count();
    EXPECT_EQ(fake.open_fds(), 0u);
    EXPECT_EQ(fake.mappings(), 0u);
  }
  // open, GH_CREATE_VM, GH_VM_SET_USER_MEM_REGION, GH_VM_SET_DTB_CONFIG,
  // GH_VM_ADD_FUNCTION, GH_VCPU_MMAP_SIZE, mmap, GH_VM_START, GH_VCPU_RUN,
  // munmap and three closes.
  ASSERT_EQ(total, 13u);
  int teardown = 0;
  const FaultSweep sweep = SweepFaults([&](uint64_t i) {
    GunyahFake fake;
    fake.FailCall(i, EIO);
    const absl::Status status = RunScenario(fake);
    EXPECT_EQ(fake.open_fds(), 0u);
    EXPECT_EQ(fake.mappings(), 0u);
    const bool injected = fake.call_count() > i;
    if (injected) CheckFailedCall(fake.Calls()[i], status, teardown);
    return FaultRun{injected, status};
  });
  EXPECT_EQ(sweep.calls, total);
  EXPECT_EQ(sweep.reported, 9u);
  EXPECT_EQ(teardown, 4);
  EXPECT_EQ(sweep.unreported, 4u);
}

TEST(GunyahFaultSweep, AFailedVcpuCreationLeavesTheIdFree) {
  for (const char* step : {"GH_VCPU_MMAP_SIZE", "mmap"}) {
    SCOPED_TRACE(step);
    GunyahFake fake;
    ASSERT_OK_AND_ASSIGN(auto gunyah,
                         GunyahHypervisor::Create("/dev/gunyah", &fake));
    ASSERT_OK_AND_ASSIGN(auto vm, NewArmVm(*gunyah));
    // Calls so far: open, GH_CREATE_VM; then GH_VM_ADD_FUNCTION (2),
    // GH_VCPU_MMAP_SIZE (3), mmap (4).
    fake.FailCall(std::string(step) == "mmap" ? 4 : 3, ENOMEM);
    EXPECT_THAT(vm->CreateVcpu(0),
                StatusIs(absl::StatusCode::kResourceExhausted,
                                        HasSubstr(step)));
    std::vector<std::string> names = fake.CallNames();
    EXPECT_EQ(names.back(), "close");
    EXPECT_EQ(names[names.size() - 2], "GH_VM_REMOVE_FUNCTION");
    EXPECT_THAT(fake.LatestVm()->vcpus, IsEmpty());
    ASSERT_OK_AND_ASSIGN(auto vcpu, vm->CreateVcpu(0));
    EXPECT_EQ(fake.LatestVm()->vcpus, std::vector<uint32_t>{0});
  }
}

}  // namespace
}  // namespace hv::testing
