// The Example block of each header in testing/fakes, pasted as it stands
// there under a line naming the header (tools/examples_check.sh) and run, so
// an example that no longer matches the API stops the build. The HAXM and
// WHPX fakes are x86_64 only.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/geniezone/geniezone_abi.h"
#include "hypervisor/geniezone/geniezone_hypervisor.h"
#include "hypervisor/gunyah/gunyah_hypervisor.h"
#include "hypervisor/gunyah/gunyah_vm.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/vcpu_exit.h"
#include "testing/fakes/call_log.h"
#include "testing/fakes/eventfd_check.h"
#include "testing/fakes/fake_vm.h"
#include "testing/fakes/fault_plan.h"
#include "testing/fakes/geniezone_fake.h"
#include "testing/fakes/guest_memory.h"
#include "testing/fakes/gunyah_fake.h"
#include "testing/fakes/user_memory.h"
#include "testing/status_matchers.h"

#if defined(__x86_64__)
#include "hypervisor/haxm/haxm_hypervisor.h"
#include "hypervisor/whpx/whpx_hypervisor.h"
#include "testing/fakes/haxm_fake.h"
#include "testing/fakes/whpx_fake.h"
#endif

namespace hv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;

// testing/fakes/eventfd_check.h
// A driver's ioeventfd handler: the descriptor must be an eventfd.
int AddIoeventfd(int fd) {
  struct {
    int fd;
  } args = {fd};
  if (int error = hv::testing::CheckEventfd(args.fd)) return -error;
  return 0;
}

TEST(FakesExamples, EventfdCheck) {
  EXPECT_EQ(AddIoeventfd(-1), -EBADF);
  const int event = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ASSERT_GE(event, 0);
  EXPECT_EQ(AddIoeventfd(event), 0);
  const int dup = ::dup(event);  // what the driver keeps
  hv::testing::SignalEventfd(dup);               // the guest wrote
  uint64_t rings = hv::testing::DrainEventfd(dup);  // 1
  EXPECT_EQ(rings, 1u);
  ::close(dup);
  ::close(event);
}

// testing/fakes/call_log.h
TEST(FakesExamples, CallLog) {
  struct Call {
    std::string name;
    int result = 0;
  };
  hv::testing::CallLog<Call> log;
  log.plan().FailCall(1, EIO);
  std::optional<int> error = log.Count("open");  // call 0: std::nullopt
  log.Add(Call{"open"});
  log.UpdateLast([](Call& call) { call.result = 3; });
  EXPECT_EQ(error, std::nullopt);
  error = log.Count("mmap");  // call 1: EIO
  EXPECT_EQ(error, EIO);
  EXPECT_THAT(log.Names(), ElementsAre("open"));
  EXPECT_EQ(log.Calls()[0].result, 3);
  EXPECT_EQ(log.count(), 2u);
}

// testing/fakes/fake_vm.h
TEST(FakesExamples, FakeVm) {
  FakeVm::Options options;
  options.capabilities.insert(hv::VmCap::kMemNoncoherentDma);
  ASSERT_OK_AND_ASSIGN(auto vm, FakeVm::Create(options));
  vm->FailNext(FakeVm::Method::kAddFdMapping,
               absl::InternalError("injected"));
  // ... exercise code that takes an hv::Vm* ...
  const uint64_t page = HostPageSize();
  ASSERT_OK_AND_ASSIGN(auto arena, MemoryRegion::CreateArena(4 * page));
  ASSERT_OK_AND_ASSIGN(MemSlot slot, vm->AddMemoryRegion(0, std::move(arena), {}));
  ASSERT_OK_AND_ASSIGN(UniqueFd blob, CreateMemfd("blob", page));
  EXPECT_THAT(vm->AddFdMapping(slot, 0, page, blob.get(), 0,
                               Protection::ReadWrite()),
              StatusIs(absl::StatusCode::kInternal, "injected"));
  EXPECT_THAT(vm->Calls(), ElementsAre(Field(&FakeVm::Call::method,
                                             FakeVm::Method::kAddMemoryRegion),
                                       Field(&FakeVm::Call::method,
                                             FakeVm::Method::kAddFdMapping)));
}

// testing/fakes/fault_plan.h
TEST(FakesExamples, FaultPlan) {
  hv::testing::FaultPlan plan;
  plan.FailCall(1, EIO);
  plan.Count("open");                       // call 0: std::nullopt
  std::optional<int> e = plan.Count("mmap");  // call 1: EIO
  // plan.last_fault() == "mmap", plan.faults_injected() == 1
  EXPECT_EQ(e, EIO);
  EXPECT_EQ(plan.last_fault(), "mmap");
  EXPECT_EQ(plan.faults_injected(), 1u);
}

// testing/fakes/guest_memory.h
TEST(FakesExamples, GuestMemory) {
  std::vector<uint8_t> ram(0x1000);  // what the guest sees at 0x1000
  hv::testing::GuestMemory memory(
      "MyFake", "RAM range",
      [&](uint64_t gpa) -> std::optional<hv::testing::GuestRange> {
        if (gpa < 0x1000 || gpa >= 0x2000) return std::nullopt;
        return hv::testing::GuestRange{
            0x1000, ram.size(), reinterpret_cast<uintptr_t>(ram.data())};
      });
  absl::Status stored = memory.Write(0x1000, {1, 2, 3, 4});  // all or none
  absl::StatusOr<std::vector<uint8_t>> bytes = memory.Read(0x1000, 4);
  EXPECT_OK(stored);
  EXPECT_THAT(bytes, IsOkAndHolds(ElementsAre(1, 2, 3, 4)));
  EXPECT_THAT(memory.Read(0x1ffe, 4), StatusIs(absl::StatusCode::kNotFound));
}

// testing/fakes/geniezone_fake.h
TEST(FakesExamples, GeniezoneFake) {
  auto fake = hv::testing::GeniezoneFake::Create();
  ASSERT_OK_AND_ASSIGN(auto gz, hv::GeniezoneHypervisor::Create(
                                    "/dev/gzvm", fake.get()));
  ASSERT_OK_AND_ASSIGN(auto vm, gz->CreateVm());
  ASSERT_OK_AND_ASSIGN(auto vcpu, vm->CreateVcpu(0));
  fake->QueueMmio(0, 0x9000000, /*is_write=*/true, {'h'});
  ASSERT_OK_AND_ASSIGN(hv::VcpuExit exit, vcpu->Run());  // kMmio
  EXPECT_EQ(exit.kind, hv::VcpuExitKind::kMmio);
}

// testing/fakes/gunyah_fake.h
TEST(FakesExamples, GunyahFake) {
  auto fake = std::make_shared<hv::testing::GunyahFake>();
  ASSERT_OK_AND_ASSIGN(auto gunyah, hv::GunyahHypervisor::Create("/dev/gunyah", fake.get()));
  ASSERT_OK_AND_ASSIGN(auto vm, gunyah->CreateVm());
  // ... vm->AddMemoryRegion(...); vm->AsAArch64()->InitArch(...);
  ASSERT_OK_AND_ASSIGN(auto ram, MemoryRegion::CreateShared("ram", 1 << 20));
  ASSERT_OK(vm->AddMemoryRegion(0x80000000, std::move(ram), {}).status());
  ASSERT_OK(vm->AsAArch64()->InitArch(0x80001000, 0x80000000, 0x1000));
  ASSERT_OK_AND_ASSIGN(auto vcpu, vm->AsAArch64()->CreateVcpuAArch64(0));
  ASSERT_OK(vcpu->Init({hv::VcpuFeature::kPsci0_2}));
  fake->QueueMmio(0, 0x9000000, /*is_write=*/true, {'h'});
  ASSERT_OK_AND_ASSIGN(hv::VcpuExit exit, vcpu->Run());
  EXPECT_EQ(fake->Calls().back().name, "GH_VCPU_RUN");
  EXPECT_EQ(exit.kind, hv::VcpuExitKind::kMmio);
}

// testing/fakes/user_memory.h
// A driver's GZVM_IOEVENTFD handler, as far as the example goes.
int Ioeventfd(uintptr_t arg, uint64_t addr, uint64_t size) {
  hv::geniezone_abi::Ioeventfd args;
  if (int error = hv::testing::CopyFromUser(arg, args)) return -error;
  // ...
  if (!hv::testing::UserRangeMapped(addr, size,
                                    hv::testing::UserAccess::kReadWrite))
    return -EFAULT;
  return 0;
}

TEST(FakesExamples, UserMemory) {
  hv::geniezone_abi::Ioeventfd args = {};
  const uintptr_t arg = reinterpret_cast<uintptr_t>(&args);
  EXPECT_EQ(Ioeventfd(0, arg, sizeof(args)), -EFAULT);
  EXPECT_EQ(Ioeventfd(arg, arg, sizeof(args)), 0);
  EXPECT_EQ(Ioeventfd(arg, 0, sizeof(args)), -EFAULT);
}

#if defined(__x86_64__)
// testing/fakes/haxm_fake.h
TEST(FakesExamples, HaxmFake) {
  auto fake = std::make_shared<hv::testing::HaxmFake>();
  ASSERT_OK_AND_ASSIGN(auto haxm, hv::HaxmHypervisor::Create("/dev/HAX", fake.get()));
  fake->QueueIo(0, 0x3f8, /*is_write=*/true, {'h'});
  ASSERT_OK_AND_ASSIGN(auto vm, haxm->CreateVm());
  ASSERT_OK_AND_ASSIGN(auto vcpu, vm->CreateVcpu(0));
  ASSERT_OK_AND_ASSIGN(hv::VcpuExit exit, vcpu->Run());
  EXPECT_EQ(exit.kind, hv::VcpuExitKind::kIo);
}

// testing/fakes/whpx_fake.h
TEST(FakesExamples, WhpxFake) {
  auto fake = hv::testing::WhpxFake::Create();
  ASSERT_OK_AND_ASSIGN(auto whpx, hv::WhpxHypervisor::Create(fake->api()));
  ASSERT_OK_AND_ASSIGN(auto vm, whpx->CreateVm());
  EXPECT_EQ(fake->LivePartitions(), 1);
}
#endif

}  // namespace
}  // namespace hv::testing
