// The API conformance suite (testing/api_conformance.h) on the Gunyah
// backend over the ABI-faithful fake of /dev/gunyah, which also plays the
// guest (there is no /dev/gunyah on the build machines).
//
// A Gunyah VM cannot run without a devicetree in guest memory: the suite
// gives it one through the generic boot step, VmAArch64::InitArch, as it
// does on every aarch64 backend (ApiConformance::NewRunnableVcpu).
//
// The suite checks VmCap::kRemoveMemoryRegion and VmCap::kFdMapping, which
// Gunyah lacks (regions are freed only with the VM; pages are pinned when a
// region is added), so those tests assert the UNIMPLEMENTED answers.
// GunyahInsteadOfSuite pins down the messages and that the guest's view
// stays as it was, and checks, in Gunyah's terms, that an MMIO read is
// completed on the next run and that a doorbell rings only once the VM runs.
#include <cstring>
#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/gunyah/gunyah_hypervisor.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/status_macros.h"
#include "testing/api_conformance.h"
#include "testing/backend_under_test.h"
#include "testing/fakes/gunyah_fake.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr GuestAddress kDtbBase = 0x40000000;
constexpr uint64_t kDtbRegionSize = 64 * 1024;


absl::StatusOr<BackendInstance> NewFakeGunyahBackend() {
  auto fake = std::make_shared<GunyahFake>();
  return ScriptedBackend(GunyahHypervisor::Create("/dev/gunyah", fake.get()),
                         fake);
}

// RAM for the devicetree, and InitArch pointing at it.
absl::Status InitBoot(Vm& vm) {
  VmAArch64* arm = vm.AsAArch64();
  if (arm == nullptr) return absl::InternalError("not an aarch64 VM");
  ASSIGN_OR_RETURN(auto dtb,
                   MemoryRegion::CreateShared("devicetree", kDtbRegionSize));
  RETURN_IF_ERROR(arm->AddMemoryRegion(kDtbBase, std::move(dtb), {}).status());
  return arm->InitArch(kDtbBase + 0x1000, kDtbBase, 0x1000);
}

BackendUnderTest FakeGunyahBackend() {
  BackendUnderTest backend;
  backend.name = "gunyah";
  backend.create = NewFakeGunyahBackend;
  return backend;
}

INSTANTIATE_TEST_SUITE_P(Gunyah, ApiConformance,
                         ::testing::Values(FakeGunyahBackend()),
                         BackendName);

// What Gunyah answers where the suite only checks the status code.
class GunyahInsteadOfSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(BackendInstance instance, NewFakeGunyahBackend());
    hypervisor_ = std::move(instance.hypervisor);
    fake_ = std::static_pointer_cast<GunyahFake>(instance.script);
    ASSERT_OK_AND_ASSIGN(vm_, hypervisor_->CreateVm());
  }
  void TearDown() override {
    vm_.reset();
    hypervisor_.reset();
  }
  std::unique_ptr<MemoryRegion> NewRegion() {
    auto region = MemoryRegion::CreateShared("gunyah-instead", 64 * 1024);
    EXPECT_OK(region.status());
    return region.ok() ? *std::move(region) : nullptr;
  }
  absl::StatusOr<std::unique_ptr<Vcpu>> NewRunnableVcpu(uint32_t id) {
    RETURN_IF_ERROR(InitBoot(*vm_));
    auto vcpu = vm_->CreateVcpu(id);
    if (!vcpu.ok()) return vcpu.status();
    RETURN_IF_ERROR((*vcpu)->AsAArch64()->Init({VcpuFeature::kPsci0_2}));
    return vcpu;
  }

  std::shared_ptr<GunyahFake> fake_;
  std::unique_ptr<Hypervisor> hypervisor_;
  std::unique_ptr<Vm> vm_;
};

// SlotsAreLowestFreeAndReused / RemovedRegionIsGoneForTheGuest.
TEST_F(GunyahInsteadOfSuite, RegionsAreNeverRemovedAndStayVisible) {
  ASSERT_OK_AND_ASSIGN(MemSlot a, vm_->AddMemoryRegion(0x100000, NewRegion(), {}));
  ASSERT_OK_AND_ASSIGN(MemSlot b, vm_->AddMemoryRegion(0x110000, NewRegion(), {}));
  EXPECT_LT(a, b);
  EXPECT_THAT(vm_->RemoveMemoryRegion(b),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("no delete")));
  EXPECT_THAT(vm_->MemoryRegions(), SizeIs(2));
  EXPECT_OK(fake_->GuestRead(0x110000, 1).status());
  ASSERT_OK_AND_ASSIGN(MemSlot c, vm_->AddMemoryRegion(0x120000, NewRegion(), {}));
  EXPECT_GT(c, b);
}

// FdMappingIsSeenAndRemoved.
TEST_F(GunyahInsteadOfSuite, FdMappingsAreRefusedAndTheArenaStaysEmpty) {
  const uint64_t page = HostPageSize();
  ASSERT_OK_AND_ASSIGN(auto arena, MemoryRegion::CreateArena(64 * 1024));
  ASSERT_OK_AND_ASSIGN(MemSlot slot, vm_->AddMemoryRegion(0x100000, std::move(arena), {}));
  ASSERT_OK_AND_ASSIGN(UniqueFd blob, CreateMemfd("blob", page));
  EXPECT_THAT(vm_->AddFdMapping(slot, page, page, blob.get(), 0,
                                Protection::Read()),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("pins")));
  EXPECT_THAT(fake_->GuestRead(0x100000 + page, 2),
              IsOkAndHolds(ElementsAre(0, 0)));
}

// Each read is completed on the next run, ended by an MMIO write.
TEST_F(GunyahInsteadOfSuite, MmioReadsAreCompletedWithTheHandlersData) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, NewRunnableVcpu(0));
  for (int size : {1, 2, 4, 8}) {
    SCOPED_TRACE(size);
    fake_->QueueMmio(0, 0xd0000000, false, std::vector<uint8_t>(size));
    fake_->QueueMmio(0, 0xd0001000, true, {0});
    ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu->Run());
    ASSERT_EQ(exit.kind, VcpuExitKind::kMmio);
    EXPECT_FALSE(exit.mmio.is_write);
    EXPECT_EQ(exit.mmio.size, size);
    std::vector<uint8_t> answer;
    ASSERT_OK(vcpu->HandleMmio([&](IoRequest& io) {
      EXPECT_THAT(io.data, ::testing::Each(0));
      for (int i = 0; i < size; ++i) io.data[i] = static_cast<uint8_t>(0xa0 + i);
      answer.assign(io.data.begin(), io.data.end());
    }));
    ASSERT_OK_AND_ASSIGN(VcpuExit next, vcpu->Run());
    EXPECT_TRUE(next.mmio.is_write);
    ASSERT_OK(vcpu->HandleMmio([](IoRequest&) {}));
    EXPECT_THAT(fake_->CompletedRead(0), ElementsAreArray(answer));
  }
}

// A doorbell rings once the VM runs (before, the kernel drops the ring).
TEST_F(GunyahInsteadOfSuite, IrqfdsRingOnceTheVmRuns) {
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  ASSERT_TRUE(vm_->CheckCapability(VmCap::kIrqfd));
  ASSERT_OK(vm_->RegisterIrqfd(event, 5));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, NewRunnableVcpu(0));
  fake_->QueueMmio(0, 0xd0000000, true, {0});
  ASSERT_OK(vcpu->Run().status());  // starts the VM
  ASSERT_OK(event.Write(1));
  EXPECT_EQ(fake_->InterruptsDelivered(5), 1u);
  ASSERT_OK(vm_->UnregisterIrqfd(event, 5));
  EXPECT_THAT(vm_->UnregisterIrqfd(event, 5),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace hv::testing
