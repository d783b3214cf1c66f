// Fault sweep: a scenario that creates a hypervisor, a VM, a GIC, memory
// regions, vCPUs, an irqfd and an ioeventfd is run once to count its seam
// calls, then once per call with that call failing (SweepFaults). Each failure must be a
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
#include "hypervisor/geniezone/geniezone_hypervisor.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/status_macros.h"
#include "testing/fakes/geniezone_fake.h"
#include "testing/fault_sweep.h"
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

// The eventfds the scenario registers: an irqfd, an ioeventfd, and a
// resample irqfd's trigger and resample events.
struct Events {
  EventFd irq, io, level, resample;
  static absl::StatusOr<Events> Create() {
    ASSIGN_OR_RETURN(EventFd irq, EventFd::Create());
    ASSIGN_OR_RETURN(EventFd io, EventFd::Create());
    ASSIGN_OR_RETURN(EventFd level, EventFd::Create());
    ASSIGN_OR_RETURN(EventFd resample, EventFd::Create());
    return Events{std::move(irq), std::move(io), std::move(level),
                  std::move(resample)};
  }
};

absl::Status Scenario(GeniezoneFake& fake, const Events& events, World& world) {
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
  RETURN_IF_ERROR(world.vm->RegisterIrqfd(events.irq, 4));
  RETURN_IF_ERROR(world.vm->RegisterResampleIrqfd(events.level, 6, events.resample));
  RETURN_IF_ERROR(world.vm->RegisterIoEvent(
      events.io, {IoEventAddress::Space::kMmio, 0x9000000, 4, std::nullopt}));
  return absl::OkStatus();
}

// A run of the sweep that failed: call `n` failed with EIO, the scenario
// returned `status` and left `world` (not yet torn down).
void CheckReported(GeniezoneFake& fake, uint64_t n, const absl::Status& status,
                   const World& world) {
  const std::vector<GeniezoneFake::Call> calls = fake.calls();
  ASSERT_GT(calls.size(), n);
  const GeniezoneFake::Call& failed = calls[n];
  // The failed call, then whatever the backend undid (closes, munmaps).
  for (size_t i = n + 1; i < calls.size(); ++i) {
    EXPECT_TRUE(calls[i].kind == GeniezoneFake::Call::Kind::kClose ||
                calls[i].kind == GeniezoneFake::Call::Kind::kMunmap)
        << calls[i].name;
  }
  EXPECT_EQ(failed.error, EIO);
  std::string name = failed.name;
  if (failed.kind == GeniezoneFake::Call::Kind::kOpen) name = "open /dev/gzvm";
  EXPECT_THAT(status.message(), HasSubstr(name));
  EXPECT_THAT(status.message(), HasSubstr("Input/output error"));
  if (world.vm != nullptr) {
    // The slot table holds exactly what the driver accepted.
    EXPECT_EQ(world.vm->MemoryRegions().size(),
              static_cast<size_t>(world.regions_added));
    EXPECT_EQ(fake.Slots().size(), static_cast<size_t>(world.regions_added));
  }
}

TEST(GeniezoneFaultSweep, EveryFailedCallIsReportedAndLeaksNothing) {
  ASSERT_OK_AND_ASSIGN(const Events events, Events::Create());
  uint64_t total = 0;
  {
    auto fake = GeniezoneFake::Create();
    World world;
    ASSERT_OK(Scenario(*fake, events, world));
    world = World();
    total = fake->call_count();
    EXPECT_EQ(fake->OpenFdCount(), 0u);
    EXPECT_EQ(fake->LiveMappingCount(), 0u);
  }
  ASSERT_EQ(total, 20u);  // 14 in the scenario, 6 in teardown
  int teardown = 0;
  const FaultSweep sweep = SweepFaults([&](uint64_t n) {
    auto fake = GeniezoneFake::Create();
    fake->FailCall(n, EIO);
    World world;
    const absl::Status status = Scenario(*fake, events, world);
    if (!status.ok()) CheckReported(*fake, n, status, world);
    world = World();
    const bool injected = fake->call_count() > n;
    if (injected && status.ok()) {
      ++teardown;  // the failing call comes in teardown: a close or munmap
      const GeniezoneFake::Call failed = fake->calls()[n];
      EXPECT_TRUE(failed.kind == GeniezoneFake::Call::Kind::kClose ||
                  failed.kind == GeniezoneFake::Call::Kind::kMunmap)
          << failed.name;
    }
    EXPECT_EQ(fake->OpenFdCount(), 0u);
    EXPECT_EQ(fake->LiveMappingCount(), 0u);
    return FaultRun{injected, status};
  });
  EXPECT_EQ(sweep.calls, total);
  EXPECT_EQ(sweep.reported, 14u);  // every call of the scenario
  EXPECT_EQ(teardown, 6);          // 2 munmaps, 4 closes
  EXPECT_EQ(sweep.unreported, 6u);
}

}  // namespace
}  // namespace hv::testing
