#include "hypervisor/gunyah/gunyah_vm.h"

#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/gunyah/gunyah_abi.h"
#include "hypervisor/gunyah/gunyah_test_util.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/memfd.h"
#include "testing/backend_expectations.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

namespace abi = gunyah_abi;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr uint64_t kRegionSize = 64 * 1024;
constexpr uint64_t kBase = 0x100000;

class GunyahVmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(gunyah_, NewGunyahTestEnv());
    ASSERT_OK_AND_ASSIGN(vm_, NewArmVm(*gunyah_.hypervisor));
    fake_ = gunyah_.fake.get();
    vm_fd_ = LastCall(*fake_, "GH_CREATE_VM").result;
    fake_->ClearCalls();
  }
  void TearDown() override {
    vcpu_.reset();
    vm_.reset();
  }
  // Starts vm_ the way a first vCPU run does (RAM with the devicetree).
  void Start() {
    ASSERT_OK(vm_->AddMemoryRegion(kRamBase,
                                   NewTestRegion(kRamSize), {})
                  .status());
    ASSERT_OK(vm_->InitArch(kRamBase + kDtbSize, kRamBase, kDtbSize));
    ASSERT_OK_AND_ASSIGN(vcpu_, vm_->CreateVcpuAArch64(0));
    ASSERT_OK(vcpu_->Init({VcpuFeature::kPsci0_2}));
    fake_->QueueMmio(0, 0x09000000, true, {1});
    ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu_->Run());
    ASSERT_EQ(exit.kind, VcpuExitKind::kMmio);
    ASSERT_TRUE(LatestVmRunning(*fake_));
    fake_->ClearCalls();
  }

  GunyahTestEnv gunyah_;
  std::unique_ptr<VmAArch64> vm_;
  std::unique_ptr<VcpuAArch64> vcpu_;  // Start()'s
  GunyahFake* fake_ = nullptr;
  int vm_fd_ = -1;  // the fake's VM fd
};

TEST_F(GunyahVmTest, AddMemoryRegionPassesTheLabelFlagsAndAddresses) {
  std::unique_ptr<MemoryRegion> first = NewTestRegion(kRegionSize);
  const uintptr_t first_host = reinterpret_cast<uintptr_t>(first->data());
  ASSERT_OK_AND_ASSIGN(MemSlot a, vm_->AddMemoryRegion(kBase, std::move(first), {}));
  ASSERT_OK_AND_ASSIGN(MemSlot b, vm_->AddMemoryRegion(kBase + kRegionSize,
                                                       NewTestRegion(kRegionSize), {}));
  EXPECT_EQ(a, 0u);
  EXPECT_EQ(b, 1u);
  std::vector<GunyahFake::Call> calls = fake_->Calls();
  ASSERT_THAT(calls, SizeIs(2));
  EXPECT_EQ(calls[0].name, "GH_VM_SET_USER_MEM_REGION");
  EXPECT_EQ(calls[0].request, 0x40204701u);
  auto region = ArgAs<abi::UserspaceMemoryRegion>(calls[0].arg);
  EXPECT_EQ(region.label, 0u);
  EXPECT_EQ(region.flags, abi::kMemAllowRead | abi::kMemAllowWrite |
                              abi::kMemAllowExec);
  EXPECT_EQ(region.guest_phys_addr, kBase);
  EXPECT_EQ(region.memory_size, kRegionSize);
  EXPECT_EQ(region.userspace_addr, first_host);
  EXPECT_EQ(ArgAs<abi::UserspaceMemoryRegion>(calls[1].arg).label, 1u);
  ASSERT_TRUE(fake_->LatestVm().has_value());
  EXPECT_THAT(fake_->LatestVm()->regions, SizeIs(2));
  EXPECT_THAT(vm_->MemoryRegions(), SizeIs(2));
}

TEST_F(GunyahVmTest, GuestSeesTheRegionsMemory) {
  std::unique_ptr<MemoryRegion> region = NewTestRegion(kRegionSize);
  std::memcpy(region->data() + 8, "gh", 2);
  uint8_t* host = region->data();
  ASSERT_OK(vm_->AddMemoryRegion(kBase, std::move(region), {}).status());
  EXPECT_THAT(fake_->GuestRead(kBase + 8, 2), IsOkAndHolds(ElementsAre('g', 'h')));
  const uint8_t byte[] = {0x5a};
  ASSERT_OK(fake_->GuestWrite(kBase + 16, byte));
  EXPECT_EQ(host[16], 0x5a);
}

TEST_F(GunyahVmTest, OverlapIsRefusedBeforeTheKernelAndChangesNothing) {
  ASSERT_OK(vm_->AddMemoryRegion(kBase, NewTestRegion(kRegionSize), {}).status());
  fake_->ClearCalls();
  EXPECT_THAT(vm_->AddMemoryRegion(kBase + kRegionSize / 2, NewTestRegion(kRegionSize), {}),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       AllOf(HasSubstr("0x100000"), HasSubstr("0x108000"))));
  EXPECT_THAT(fake_->Calls(), IsEmpty());
  EXPECT_THAT(vm_->MemoryRegions(), SizeIs(1));
  EXPECT_THAT(fake_->LatestVm()->regions, SizeIs(1));
}

TEST_F(GunyahVmTest, KernelErrorNamesTheIoctlAndLeavesTheSlotFree) {
  fake_->FailIoctl(abi::kVmSetUserMemRegion, ENOMEM);
  EXPECT_THAT(
      vm_->AddMemoryRegion(kBase, NewTestRegion(kRegionSize), {}),
      StatusIs(absl::StatusCode::kResourceExhausted,
               AllOf(HasSubstr("GH_VM_SET_USER_MEM_REGION (label 0, [0x100000, "
                               "0x110000), flags 0x7)"),
                     HasSubstr("Cannot allocate memory"))));
  EXPECT_THAT(vm_->MemoryRegions(), IsEmpty());
  EXPECT_THAT(fake_->LatestVm()->regions, IsEmpty());
  EXPECT_THAT(vm_->AddMemoryRegion(kBase, NewTestRegion(kRegionSize), {}), IsOkAndHolds(0u));
}

TEST_F(GunyahVmTest, ReadOnlyHostPagesAreGivenWithoutWriteAccess) {
  // An arena's empty state is read-only pages: the guest may read and run
  // them but not write (the kernel could not pin them for writing).
  ASSERT_OK_AND_ASSIGN(auto arena, MemoryRegion::CreateArena(kRegionSize));
  ASSERT_OK(vm_->AddMemoryRegion(kBase, std::move(arena), {}).status());
  auto region = ArgAs<abi::UserspaceMemoryRegion>(
      LastCall(*fake_, "GH_VM_SET_USER_MEM_REGION").arg);
  EXPECT_EQ(region.flags, abi::kMemAllowRead | abi::kMemAllowExec);
  EXPECT_THAT(fake_->GuestRead(kBase, 2), IsOkAndHolds(ElementsAre(0, 0)));
  const uint8_t byte[] = {1};
  EXPECT_THAT(fake_->GuestWrite(kBase, byte),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(GunyahVmTest, TheKernelRefusesToPinReadOnlyPagesForWriting) {
  // What the backend avoids above, asked of the fake directly.
  ASSERT_OK_AND_ASSIGN(auto arena, MemoryRegion::CreateArena(kRegionSize));
  abi::UserspaceMemoryRegion request = {};
  request.flags = abi::kMemAllowAll;
  request.guest_phys_addr = kBase;
  request.memory_size = kRegionSize;
  request.userspace_addr = reinterpret_cast<uintptr_t>(arena->data());
  errno = 0;
  EXPECT_EQ(fake_->IoctlPtr(vm_fd_, abi::kVmSetUserMemRegion, &request), -1);
  EXPECT_EQ(errno, EFAULT);
  request.flags = abi::kMemAllowRead;
  EXPECT_EQ(fake_->IoctlPtr(vm_fd_, abi::kVmSetUserMemRegion, &request), 0);
}

TEST_F(GunyahVmTest, OptionsGunyahCannotHonourAreUnimplemented) {
  MemoryRegionOptions read_only;
  read_only.read_only = true;
  EXPECT_THAT(vm_->AddMemoryRegion(kBase, NewTestRegion(kRegionSize), read_only),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("read-only")));
  MemoryRegionOptions dirty;
  dirty.log_dirty_pages = true;
  EXPECT_THAT(vm_->AddMemoryRegion(kBase, NewTestRegion(kRegionSize), dirty),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("dirty")));
  MemoryRegionOptions noncoherent;
  noncoherent.cache = MemCacheType::kCacheNonCoherent;
  EXPECT_THAT(vm_->AddMemoryRegion(kBase, NewTestRegion(kRegionSize), noncoherent),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("non-coherent")));
  EXPECT_THAT(vm_->AddMemoryRegion(kBase, nullptr, {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(vm_->AddMemoryRegion(kBase + 1, NewTestRegion(kRegionSize), {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(vm_->AddMemoryRegion(GunyahVm::kGuestAddressLimit - 4096,
                                   NewTestRegion(kRegionSize), {}),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(fake_->Calls(), IsEmpty());
  EXPECT_THAT(vm_->MemoryRegions(), IsEmpty());
  EXPECT_TRUE(HasCapabilities(*vm_, {VmCap::kIrqfd, VmCap::kIoEventfd},
                              {VmCap::kReadOnlyMemoryRegion, VmCap::kDirtyLog,
                               VmCap::kMemNoncoherentDma}));
}

TEST_F(GunyahVmTest, RegionsCannotBeRemovedAndStay) {
  ASSERT_OK_AND_ASSIGN(MemSlot slot, vm_->AddMemoryRegion(kBase, NewTestRegion(kRegionSize), {}));
  fake_->ClearCalls();
  EXPECT_THAT(vm_->RemoveMemoryRegion(slot + 7),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("7")));
  EXPECT_THAT(vm_->RemoveMemoryRegion(slot),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("GH_VM_SET_USER_MEM_REGION has no delete")));
  EXPECT_THAT(fake_->Calls(), IsEmpty());
  EXPECT_THAT(vm_->MemoryRegions(), SizeIs(1));
  EXPECT_THAT(fake_->GuestRead(kBase, 1), IsOkAndHolds(SizeIs(1)));
}

TEST_F(GunyahVmTest, FdMappingsAreCheckedThenUnimplemented) {
  const uint64_t page = HostPageSize();
  ASSERT_OK_AND_ASSIGN(MemSlot slot, vm_->AddMemoryRegion(kBase, NewTestRegion(kRegionSize), {}));
  ASSERT_OK_AND_ASSIGN(UniqueFd blob, CreateMemfd("blob", page));
  ExpectFdMappingArgumentsRefused(*vm_, slot, slot + 1, kRegionSize,
                                  blob.get(), page);
  EXPECT_THAT(vm_->AddFdMapping(slot, 0, page, blob.get(), 0, Protection::Read()),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("pins")));
  EXPECT_THAT(vm_->RemoveMapping(slot, 0, page),
              StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(vm_->GetDirtyLog(slot + 1), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(vm_->GetDirtyLog(slot), StatusIs(absl::StatusCode::kUnimplemented));
}

TEST_F(GunyahVmTest, InitArchPassesTheDevicetreeAndIsFixedOnceStarted) {
  ASSERT_OK(vm_->AddMemoryRegion(kBase, NewTestRegion(kRegionSize), {}).status());
  fake_->ClearCalls();
  // Refused by InitArch's checks, before any ioctl.
  EXPECT_THAT(vm_->InitArch(kBase, kBase, 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(vm_->InitArch(kBase, kRamBase, 0x800),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not inside one added memory region")));
  EXPECT_THAT(fake_->Calls(), IsEmpty());
  ASSERT_OK(vm_->InitArch(kBase, kBase + 0x2000, 0x800));
  GunyahFake::Call call = LastCall(*fake_, "GH_VM_SET_DTB_CONFIG");
  EXPECT_EQ(call.request, 0x40104702u);
  auto config = ArgAs<abi::VmDtbConfig>(call.arg);
  EXPECT_EQ(config.guest_phys_addr, kBase + 0x2000);
  EXPECT_EQ(config.size, 0x800u);
  // The kernel keeps it page-rounded.
  ASSERT_TRUE(fake_->LatestVm()->dtb.has_value());
  EXPECT_EQ(fake_->LatestVm()->dtb->size, 0x1000u);
  // A later call replaces it.
  ASSERT_OK(vm_->InitArch(kBase, kBase, 0x1000));
  EXPECT_EQ(fake_->LatestVm()->dtb->guest_phys_addr, kBase);
  // A refused ioctl leaves the configuration as it was.
  fake_->FailIoctl(abi::kVmSetDtbConfig, ENOMEM);
  EXPECT_THAT(vm_->InitArch(kBase, kBase + 0x3000, 0x1000),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("GH_VM_SET_DTB_CONFIG")));
  EXPECT_EQ(fake_->LatestVm()->dtb->guest_phys_addr, kBase);
  Start();
  EXPECT_THAT(vm_->InitArch(kBase, kBase, 0x1000),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(vm_->AddMemoryRegion(kBase + 16 * kRegionSize, NewTestRegion(kRegionSize), {}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("GH_VM_START")));
  EXPECT_THAT(fake_->Calls(), IsEmpty());
  EXPECT_THAT(vm_->MemoryRegions(), SizeIs(2));
}

TEST_F(GunyahVmTest, IoeventfdsAreMmioFunctions) {
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  IoEventAddress address{IoEventAddress::Space::kMmio, 0xd0000000, 4, 0x1234};
  ASSERT_OK(vm_->RegisterIoEvent(event, address));
  GunyahFake::Call call = LastCall(*fake_, "GH_VM_ADD_FUNCTION");
  auto desc = ArgAs<abi::FnDesc>(call.arg);
  EXPECT_EQ(desc.type, abi::kFnIoeventfd);
  EXPECT_EQ(desc.arg_size, sizeof(abi::FnIoeventfdArg));
  auto arg = ArgAs<abi::FnIoeventfdArg>(call.fn_arg);
  EXPECT_EQ(arg.addr, 0xd0000000u);
  EXPECT_EQ(arg.len, 4u);
  EXPECT_EQ(arg.fd, event.fd());
  EXPECT_EQ(arg.flags, abi::kIoeventfdDatamatch);
  EXPECT_EQ(arg.datamatch, 0x1234u);
  EXPECT_EQ(arg.padding, 0u);
  EXPECT_THAT(vm_->RegisterIoEvent(event, address),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("GH_VM_ADD_FUNCTION (ioeventfd mmio 0xd0000000 "
                                 "len 4): File exists")));
  // A matching guest write signals the eventfd in the kernel.
  const uint8_t other[] = {0x35, 0x12, 0, 0};
  const uint8_t match[] = {0x34, 0x12, 0, 0};
  EXPECT_THAT(fake_->GuestWrite(0xd0000000, other),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(fake_->GuestWrite(0xd0000000, match));
  EXPECT_THAT(event.Read(), IsOkAndHolds(1u));
  ASSERT_OK(vm_->UnregisterIoEvent(event, address));
  EXPECT_THAT(fake_->LatestVm()->ioeventfds, IsEmpty());
  EXPECT_THAT(vm_->UnregisterIoEvent(event, address),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("GH_VM_REMOVE_FUNCTION")));
  fake_->ClearCalls();
  IoEventAddress pio{IoEventAddress::Space::kPio, 0x3f8, 1, std::nullopt};
  EXPECT_THAT(vm_->RegisterIoEvent(event, pio),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("port")));
  IoEventAddress bad = address;
  bad.length = 3;
  EXPECT_THAT(vm_->RegisterIoEvent(event, bad),
              StatusIs(absl::StatusCode::kInvalidArgument));
  bad.length = 0;
  EXPECT_THAT(vm_->RegisterIoEvent(event, bad),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(fake_->Calls(), IsEmpty());
}

TEST_F(GunyahVmTest, IrqfdsAreDoorbellsThatRingOnceTheVmRuns) {
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  ASSERT_OK(vm_->RegisterIrqfd(event, 5));
  GunyahFake::Call call = LastCall(*fake_, "GH_VM_ADD_FUNCTION");
  EXPECT_EQ(ArgAs<abi::FnDesc>(call.arg).type, abi::kFnIrqfd);
  auto arg = ArgAs<abi::FnIrqfdArg>(call.fn_arg);
  EXPECT_EQ(arg.fd, static_cast<uint32_t>(event.fd()));
  EXPECT_EQ(arg.label, 5u);
  EXPECT_EQ(arg.flags, 0u);
  EXPECT_EQ(arg.padding, 0u);
  EXPECT_THAT(vm_->RegisterIrqfd(event, 5),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("irqfd label 5")));
  // Before the start the doorbell does not exist yet: the ring is lost.
  ASSERT_OK(event.Write(1));
  EXPECT_EQ(fake_->InterruptsDelivered(5), 0u);
  EXPECT_EQ(fake_->LatestVm()->premature_injections, 1u);
  Start();
  ASSERT_OK(event.Write(1));
  EXPECT_EQ(fake_->InterruptsDelivered(5), 1u);
  ASSERT_OK(vm_->UnregisterIrqfd(event, 5));
  EXPECT_THAT(fake_->LatestVm()->irqfd_labels, IsEmpty());
  EXPECT_THAT(vm_->UnregisterIrqfd(event, 5),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(GunyahVmTest, WhatGunyahOwnsIsUnimplemented) {
  EXPECT_THAT(vm_->SetIrqLine(5, true),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("irqfd")));
  EXPECT_FALSE(vm_->SupportsGic(GicConfig::Version::kV2));
  EXPECT_FALSE(vm_->SupportsGic(GicConfig::Version::kV3));
  EXPECT_THAT(vm_->CreateGic({}), StatusIs(absl::StatusCode::kUnimplemented,
                                           HasSubstr("resource manager")));
  EXPECT_THAT(vm_->FinalizeGic(), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(vm_->SetCounterOffset(100),
              StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(fake_->Calls(), IsEmpty());
}

TEST_F(GunyahVmTest, DestroyingTheVmReleasesEverything) {
  ASSERT_OK(vm_->AddMemoryRegion(kBase, NewTestRegion(kRegionSize), {}).status());
  ASSERT_OK_AND_ASSIGN(auto vcpu, vm_->CreateVcpu(0));
  EXPECT_EQ(fake_->open_fds(), 3u);  // device, VM, vCPU
  EXPECT_EQ(fake_->mappings(), 1u);
  vm_.reset();
  // The vCPU keeps the VM alive, as the kernel's reference does.
  EXPECT_EQ(fake_->open_fds(), 3u);
  vcpu.reset();
  EXPECT_EQ(fake_->open_fds(), 1u);
  EXPECT_EQ(fake_->mappings(), 0u);
  EXPECT_FALSE(fake_->LatestVm().has_value());
}

}  // namespace
}  // namespace hv::testing
