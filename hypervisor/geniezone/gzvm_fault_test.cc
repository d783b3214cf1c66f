// Fault sweep: a scenario that creates a hypervisor, a VM, a GIC, memory
// regions, vCPUs, an irqfd and an ioeventfd is run once to count its seam
// calls, then once per call with that call failing. Each failure must be a
// Status naming the failed call (or, for the closes and munmaps of
// teardown, nothing at all), the VM's slot table must match the driver's,
// and after teardown no descriptor or mapping may be left.
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/geniezone/gzvm_hypervisor.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/status_macros.h"
#include "testing/fakes/gzvm_fake.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::HasSubstr;

struct World {
  std::unique_ptr<GeniezoneHypervisor> hypervisor;
  std::unique_ptr<Vm> vm;
  std::vector<std::unique_ptr<Vcpu>> vcpus;
  int regions_added = 0;
};

absl::Status Scenario(FakeGzvm& fake, EventFd& irq_event,
                      EventFd& io_event, World& world) {
  ASSIGN_OR_RETURN(world.hypervisor, GeniezoneHypervisor::Create("/dev/gzvm", &fake));
  ASSIGN_OR_RETURN(world.vm, world.hypervisor->CreateVm());
  GicConfig gic;
  gic.distributor_base = 0x08000000;
  gic.redistributor_or_cpu_base = 0x080a0000;
  gic.num_irqs = 96;
  RETURN_IF_ERROR(world.vm->AsAArch64()->CreateGic(gic));
  for (int i = 0; i < 2; ++i) {
    ASSIGN_OR_RETURN(auto region, MemoryRegion::CreateShared("sweep", 0x10000));
    RETURN_IF_ERROR(
        world.vm->AddMemoryRegion(0x80000000 + i * 0x10000, std::move(region), {})
            .status());
    ++world.regions_added;
  }
  for (uint32_t id = 0; id < 2; ++id) {
    ASSIGN_OR_RETURN(auto vcpu, world.vm->CreateVcpu(id));
    world.vcpus.push_back(std::move(vcpu));
  }
  RETURN_IF_ERROR(world.vm->RegisterIrqfd(irq_event, 4));
  RETURN_IF_ERROR(world.vm->RegisterIoEvent(
      io_event, {IoEventAddress::Space::kMmio, 0x9000000, 4, std::nullopt}));
  return absl::OkStatus();
}

TEST(GeniezoneFaultSweep, EveryFailedCallIsReportedAndLeaksNothing) {
  ASSERT_OK_AND_ASSIGN(EventFd irq_event, EventFd::Create());
  ASSERT_OK_AND_ASSIGN(EventFd io_event, EventFd::Create());
  uint64_t total = 0;
  {
    auto fake = FakeGzvm::Create();
    World world;
    ASSERT_OK(Scenario(*fake, irq_event, io_event, world));
    world = World();
    total = fake->call_count();
    EXPECT_EQ(fake->OpenFdCount(), 0u);
    EXPECT_EQ(fake->LiveMappingCount(), 0u);
  }
  ASSERT_EQ(total, 19u);  // 13 in the scenario, 6 in teardown
  int reported = 0;
  int teardown = 0;
  for (uint64_t n = 1; n <= total; ++n) {
    SCOPED_TRACE(absl::StrCat("failing call ", n, " of ", total));
    auto fake = FakeGzvm::Create();
    fake->FailCall(n - 1, EIO);  // call n - 1 is the n-th
    World world;
    const absl::Status status = Scenario(*fake, irq_event, io_event, world);
    const std::vector<FakeGzvm::Call> calls = fake->calls();
    if (!status.ok()) {
      ++reported;
      // The failed call, then whatever the backend undid (closes, munmaps).
      ASSERT_GE(calls.size(), n);
      const FakeGzvm::Call& failed = calls[n - 1];
      for (size_t i = n; i < calls.size(); ++i) {
        EXPECT_TRUE(calls[i].kind == FakeGzvm::Call::Kind::kClose ||
                    calls[i].kind == FakeGzvm::Call::Kind::kMunmap)
            << calls[i].name;
      }
      EXPECT_EQ(failed.error, EIO);
      std::string name = failed.name;
      if (failed.kind == FakeGzvm::Call::Kind::kOpen) name = "open /dev/gzvm";
      EXPECT_THAT(status.message(), HasSubstr(name));
      EXPECT_THAT(status.message(), HasSubstr("Input/output error"));
      if (world.vm != nullptr) {
        // The slot table holds exactly what the driver accepted.
        EXPECT_EQ(world.vm->MemoryRegions().size(),
                  static_cast<size_t>(world.regions_added));
        EXPECT_EQ(fake->Slots().size(), static_cast<size_t>(world.regions_added));
      }
    } else {
      ++teardown;  // the failing call comes in teardown: a close or munmap
    }
    world = World();
    const std::vector<FakeGzvm::Call> all = fake->calls();
    if (status.ok()) {
      ASSERT_GE(all.size(), n);
      const FakeGzvm::Call& failed = all[n - 1];
      EXPECT_TRUE(failed.kind == FakeGzvm::Call::Kind::kClose ||
                  failed.kind == FakeGzvm::Call::Kind::kMunmap)
          << failed.name;
    }
    EXPECT_EQ(fake->OpenFdCount(), 0u);
    EXPECT_EQ(fake->LiveMappingCount(), 0u);
  }
  EXPECT_EQ(reported, 13);  // every call of the scenario
  EXPECT_EQ(teardown, 6);   // 2 munmaps, 4 closes
  EXPECT_EQ(reported + teardown, static_cast<int>(total));
}

}  // namespace
}  // namespace hv::testing
