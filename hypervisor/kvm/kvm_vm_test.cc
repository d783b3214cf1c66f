// The KVM VM (KvmVmCore, KvmVmX86_64) against the real /dev/kvm: the
// bad-input table (each case leaves the VM unchanged), slot reuse and
// exhaustion, fd mappings, capabilities.
#include "hypervisor/kvm/kvm_vm.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/kvm/kvm_fault_injection.h"
#include "hypervisor/kvm/kvm_hypervisor.h"
#include "hypervisor/kvm/kvm_test_env.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "testing/status_matchers.h"

namespace hv {

// Lets EXPECT_EQ compare MemoryRegions() snapshots.
bool operator==(const MemoryRegionInfo& a, const MemoryRegionInfo& b) {
  return a.slot == b.slot && a.guest_address == b.guest_address &&
         a.size == b.size && a.options.read_only == b.options.read_only &&
         a.options.log_dirty_pages == b.options.log_dirty_pages &&
         a.options.cache == b.options.cache;
}

namespace {

using ::hv::testing::IsOk;
using ::hv::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr uint64_t kPage = 0x1000;

class KvmVmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HV_REQUIRE_KVM();
    ASSERT_OK_AND_ASSIGN(kvm_, KvmHypervisor::Create("/dev/kvm"));
    ASSERT_OK_AND_ASSIGN(vm_, kvm_->CreateVm());
  }

  // Adds a shared region of `size` bytes at `gpa`.
  absl::StatusOr<MemSlot> Add(GuestAddress gpa, uint64_t size,
                              MemoryRegionOptions options = {}) {
    auto region = MemoryRegion::CreateShared("test", size);
    if (!region.ok()) return region.status();
    return vm_->AddMemoryRegion(gpa, std::move(region).value(), options);
  }

  // Adding `size` bytes at `gpa` with `options` fails as `refusal` says,
  // and the VM's regions are what they were.
  void ExpectAddRefused(
      GuestAddress gpa, uint64_t size,
      const ::testing::Matcher<absl::StatusOr<MemSlot>>& refusal,
      MemoryRegionOptions options = {}) {
    const auto before = vm_->MemoryRegions();
    EXPECT_THAT(Add(gpa, size, options), refusal);
    EXPECT_EQ(vm_->MemoryRegions(), before);
  }

  std::unique_ptr<KvmHypervisor> kvm_;
  std::unique_ptr<Vm> vm_;
};

TEST_F(KvmVmTest, RejectsOverlapNamingBothRanges) {
  ASSERT_OK(Add(0x10000, 0x10000));
  ExpectAddRefused(0x18000, 0x10000,
                   StatusIs(absl::StatusCode::kAlreadyExists,
                            AllOf(HasSubstr("[0x18000, 0x28000)"),
                                  HasSubstr("[0x10000, 0x20000)"))));
}

TEST_F(KvmVmTest, RejectsUnalignedAddress) {
  ASSERT_OK(Add(0, kPage));
  ExpectAddRefused(0x10800, kPage,
                   StatusIs(absl::StatusCode::kInvalidArgument,
                            HasSubstr("multiples of 0x1000")));
}

// A MemoryRegion's size is always a non-zero multiple of the page size (the
// region refuses anything else), so neither an unaligned nor an empty
// region can reach AddMemoryRegion; the VM sees only a null region.
TEST_F(KvmVmTest, UnalignedSizeNeverReachesTheVm) {
  ASSERT_OK(Add(0, kPage));
  ExpectAddRefused(0x10000, 0x1800,
                   StatusIs(absl::StatusCode::kInvalidArgument,
                            HasSubstr("multiple of the page size")));
}

TEST_F(KvmVmTest, RejectsEmptyAndNullRegions) {
  ASSERT_OK(Add(0, kPage));
  const auto before = vm_->MemoryRegions();
  EXPECT_THAT(Add(0x10000, 0), StatusIs(absl::StatusCode::kInvalidArgument,
                                        HasSubstr("size 0")));
  EXPECT_THAT(vm_->AddMemoryRegion(0x10000, nullptr, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("null")));
  EXPECT_EQ(vm_->MemoryRegions(), before);
}

TEST_F(KvmVmTest, RejectsRegionPastGuestAddressLimit) {
  const uint64_t limit = vm_->GuestAddressLimit();
  ExpectAddRefused(limit - kPage, 2 * kPage,
                   StatusIs(absl::StatusCode::kOutOfRange,
                            HasSubstr("guest address limit")));
  ExpectAddRefused(limit, kPage, StatusIs(absl::StatusCode::kOutOfRange));
  // The last page below the limit is fine.
  EXPECT_OK(Add(limit - kPage, kPage));
}

TEST_F(KvmVmTest, RemoveUnknownSlotIsNotFound) {
  ASSERT_OK(Add(0, kPage));
  const auto before = vm_->MemoryRegions();
  EXPECT_THAT(vm_->RemoveMemoryRegion(7),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("slot 7")));
  EXPECT_EQ(vm_->MemoryRegions(), before);
}

TEST_F(KvmVmTest, DoubleRemoveIsNotFound) {
  ASSERT_OK_AND_ASSIGN(MemSlot slot, Add(0, kPage));
  ASSERT_OK(Add(0x10000, kPage));
  ASSERT_OK_AND_ASSIGN(auto region, vm_->RemoveMemoryRegion(slot));
  EXPECT_EQ(region->size(), kPage);
  const auto before = vm_->MemoryRegions();
  EXPECT_THAT(vm_->RemoveMemoryRegion(slot),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(vm_->MemoryRegions(), before);
}

TEST_F(KvmVmTest, FreedSlotsAreReusedLowestFirst) {
  for (int i = 0; i < 4; ++i) {
    ASSERT_THAT(Add(i * 0x10000, kPage), testing::IsOkAndHolds(i));
  }
  ASSERT_OK(vm_->RemoveMemoryRegion(2));
  ASSERT_OK(vm_->RemoveMemoryRegion(1));
  EXPECT_THAT(Add(0x100000, kPage), testing::IsOkAndHolds(1));
  EXPECT_THAT(Add(0x110000, kPage), testing::IsOkAndHolds(2));
  EXPECT_THAT(Add(0x120000, kPage), testing::IsOkAndHolds(4));
}

// Fills every slot the kernel reports (32764 on the build machines).
TEST_F(KvmVmTest, ExhaustsEverySlotTheKernelReports) {
  const uint32_t max_slots = vm_->MaxMemorySlots();
  const auto start = std::chrono::steady_clock::now();
  for (uint32_t i = 0; i < max_slots; ++i) {
    ASSERT_OK_AND_ASSIGN(auto arena, MemoryRegion::CreateArena(kPage));
    ASSERT_THAT(vm_->AddMemoryRegion(uint64_t{i} * 2 * kPage, std::move(arena),
                                     {}),
                testing::IsOkAndHolds(i));
  }
  const auto before = vm_->MemoryRegions();
  ASSERT_OK_AND_ASSIGN(auto arena, MemoryRegion::CreateArena(kPage));
  EXPECT_THAT(vm_->AddMemoryRegion(0x100000000, std::move(arena), {}),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("slots are in use")));
  EXPECT_EQ(vm_->MemoryRegions(), before);
  const auto seconds = std::chrono::duration<double>(
      std::chrono::steady_clock::now() - start).count();
  std::printf("filled %u slots in %.2f s\n", max_slots, seconds);
}

TEST(KvmVmLimits, HonoursASmallSlotCountFromTheKernel) {
  HV_REQUIRE_KVM();
  testing::FaultInjectingKvmSys sys;
  sys.OverrideExtension(KVM_CAP_NR_MEMSLOTS, 3);
  ASSERT_OK_AND_ASSIGN(auto kvm, KvmHypervisor::Create("/dev/kvm", &sys));
  ASSERT_OK_AND_ASSIGN(auto vm, kvm->CreateVm());
  EXPECT_EQ(vm->MaxMemorySlots(), 3u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(auto region, MemoryRegion::CreateShared("r", kPage));
    ASSERT_OK(vm->AddMemoryRegion(i * kPage, std::move(region), {}));
  }
  ASSERT_OK_AND_ASSIGN(auto region, MemoryRegion::CreateShared("r", kPage));
  EXPECT_THAT(vm->AddMemoryRegion(0x10000, std::move(region), {}),
              StatusIs(absl::StatusCode::kResourceExhausted));
}

class KvmFdMappingTest : public KvmVmTest {
 protected:
  void SetUp() override {
    KvmVmTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_OK_AND_ASSIGN(auto arena, MemoryRegion::CreateArena(16 * kPage));
    arena_ = arena.get();
    ASSERT_OK_AND_ASSIGN(slot_, vm_->AddMemoryRegion(0x100000, std::move(arena), {}));
    ASSERT_OK_AND_ASSIGN(blob_, CreateMemfd("blob", 4 * kPage));
    ASSERT_EQ(::pwrite(blob_.get(), "hv", 2, 0), 2);
  }

  // The arena is still all zeros and the slot table as it was.
  void ExpectUnchanged(const std::vector<MemoryRegionInfo>& before) {
    EXPECT_EQ(vm_->MemoryRegions(), before);
    for (uint64_t i = 0; i < arena_->size(); ++i) {
      ASSERT_EQ(arena_->data()[i], 0) << "arena byte " << i;
    }
  }

  MemoryRegion* arena_ = nullptr;
  MemSlot slot_ = 0;
  UniqueFd blob_;
};

TEST_F(KvmFdMappingTest, MapsAndUnmapsWithoutASlot) {
  const auto before = vm_->MemoryRegions();
  ASSERT_OK(vm_->AddFdMapping(slot_, 4 * kPage, 4 * kPage, blob_.get(), 0,
                              Protection::ReadWrite()));
  EXPECT_EQ(std::memcmp(arena_->data() + 4 * kPage, "hv", 2), 0);
  EXPECT_EQ(vm_->MemoryRegions(), before);
  ASSERT_OK(vm_->RemoveMapping(slot_, 4 * kPage, 4 * kPage));
  ExpectUnchanged(before);
}

TEST_F(KvmFdMappingTest, RejectsRangePastTheRegion) {
  const auto before = vm_->MemoryRegions();
  EXPECT_THAT(vm_->AddFdMapping(slot_, 14 * kPage, 4 * kPage, blob_.get(), 0,
                                Protection::Read()),
              StatusIs(absl::StatusCode::kOutOfRange,
                       HasSubstr("outside slot")));
  ExpectUnchanged(before);
}

TEST_F(KvmFdMappingTest, RejectsBadFd) {
  const auto before = vm_->MemoryRegions();
  EXPECT_THAT(vm_->AddFdMapping(slot_, 0, kPage, -1, 0, Protection::Read()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not a file descriptor")));
  // A number that is not an open descriptor: the kernel says EBADF.
  int closed = ::dup(blob_.get());
  ASSERT_GE(closed, 0);
  ::close(closed);
  EXPECT_THAT(vm_->AddFdMapping(slot_, 0, kPage, closed, 0, Protection::Read()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("Bad file descriptor")));
  ExpectUnchanged(before);
}

TEST_F(KvmFdMappingTest, RejectsUnalignedRanges) {
  const auto before = vm_->MemoryRegions();
  EXPECT_THAT(vm_->AddFdMapping(slot_, 0x800, kPage, blob_.get(), 0,
                                Protection::Read()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("page aligned")));
  EXPECT_THAT(vm_->AddFdMapping(slot_, 0, 0x800, blob_.get(), 0,
                                Protection::Read()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(vm_->AddFdMapping(slot_, 0, kPage, blob_.get(), 0x800,
                                Protection::Read()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("fd offset")));
  EXPECT_THAT(vm_->RemoveMapping(slot_, 0x800, kPage),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ExpectUnchanged(before);
}

TEST_F(KvmFdMappingTest, RejectsUnknownSlot) {
  const auto before = vm_->MemoryRegions();
  EXPECT_THAT(vm_->AddFdMapping(slot_ + 5, 0, kPage, blob_.get(), 0,
                                Protection::Read()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("slot")));
  EXPECT_THAT(vm_->RemoveMapping(slot_ + 5, 0, kPage),
              StatusIs(absl::StatusCode::kNotFound));
  ExpectUnchanged(before);
}

TEST_F(KvmVmTest, NonCoherentFailsWhereUnsupported) {
  ASSERT_FALSE(vm_->CheckCapability(VmCap::kMemNoncoherentDma));
  MemoryRegionOptions options;
  options.cache = MemCacheType::kCacheNonCoherent;
  ExpectAddRefused(0, kPage,
                   StatusIs(absl::StatusCode::kUnimplemented,
                            HasSubstr("cannot honour non-coherent DMA")),
                   options);
}

// Upstream reuses capability 236 (KVM_CAP_PRE_FAULT_MEMORY): a kernel that
// reports it but rejects the slot flag must not be taken for ChromeOS's
// non-coherent DMA support.
TEST(KvmVmNonCoherent, CapabilityNumberAloneIsNotTrusted) {
  HV_REQUIRE_KVM();
  testing::FaultInjectingKvmSys sys;
  sys.OverrideExtension(236, 1);
  ASSERT_OK_AND_ASSIGN(auto kvm, KvmHypervisor::Create("/dev/kvm", &sys));
  ASSERT_OK_AND_ASSIGN(auto vm, kvm->CreateVm());
  EXPECT_FALSE(vm->CheckCapability(VmCap::kMemNoncoherentDma));
  ASSERT_OK_AND_ASSIGN(auto region, MemoryRegion::CreateShared("r", kPage));
  MemoryRegionOptions options;
  options.cache = MemCacheType::kCacheNonCoherent;
  EXPECT_THAT(vm->AddMemoryRegion(0, std::move(region), options),
              StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_TRUE(vm->MemoryRegions().empty());
}

TEST_F(KvmVmTest, CapabilitiesMatchTheKernel) {
  const int kvm_fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  ASSERT_GE(kvm_fd, 0);
  auto cap = [&](int number) {
    return ::ioctl(kvm_fd, KVM_CHECK_EXTENSION, number);
  };
  EXPECT_EQ(vm_->MaxMemorySlots(),
            static_cast<uint32_t>(cap(KVM_CAP_NR_MEMSLOTS)));
  EXPECT_EQ(vm_->CheckCapability(VmCap::kReadOnlyMemoryRegion),
            cap(KVM_CAP_READONLY_MEM) > 0);
  EXPECT_EQ(vm_->CheckCapability(VmCap::kIrqfd), cap(KVM_CAP_IRQFD) > 0);
  EXPECT_EQ(vm_->CheckCapability(VmCap::kIoEventfd),
            cap(KVM_CAP_IOEVENTFD) > 0);
  EXPECT_EQ(vm_->CheckCapability(VmCap::kPvClock),
            cap(KVM_CAP_ADJUST_CLOCK) > 0);
  EXPECT_EQ(kvm_->MaxVcpus(), static_cast<uint32_t>(cap(KVM_CAP_MAX_VCPUS)));
  EXPECT_EQ(kvm_->CheckCapability(HypervisorCap::kImmediateExit),
            cap(KVM_CAP_IMMEDIATE_EXIT) > 0);
  // kXcrs also needs the guest to see the XCR0 set (kvm_capability_probes_test.cc).
  if (cap(KVM_CAP_XCRS) == 0) {
    EXPECT_FALSE(kvm_->CheckCapability(HypervisorCap::kXcrs));
  }
  EXPECT_EQ(kvm_->CheckCapability(HypervisorCap::kSplitIrqChip),
            cap(KVM_CAP_SPLIT_IRQCHIP) > 0);
  // hv's KVM backend never uses the run page's register sync.
  EXPECT_FALSE(kvm_->CheckCapability(HypervisorCap::kSyncRegs));
  // kTscControl also needs the offset to read back (kvm_capability_probes_test.cc).
  if (cap(KVM_CAP_VCPU_ATTRIBUTES) == 0) {
    EXPECT_FALSE(kvm_->CheckCapability(HypervisorCap::kTscControl));
  }
  ::close(kvm_fd);
  // The limit is 1 << MAXPHYADDR: a power of two of at least 32 bits.
  const uint64_t limit = vm_->GuestAddressLimit();
  EXPECT_EQ(limit & (limit - 1), 0u);
  EXPECT_GE(limit, uint64_t{1} << 32);
}

TEST_F(KvmVmTest, ReadOnlyAndDirtyLogRegions) {
  MemoryRegionOptions read_only;
  read_only.read_only = true;
  if (vm_->CheckCapability(VmCap::kReadOnlyMemoryRegion)) {
    EXPECT_OK(Add(0, kPage, read_only));
  }
  MemoryRegionOptions logged;
  logged.log_dirty_pages = true;
  ASSERT_OK_AND_ASSIGN(MemSlot slot, Add(0x100000, 128 * kPage, logged));
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> bitmap, vm_->GetDirtyLog(slot));
  EXPECT_EQ(bitmap.size(), 2u);
  ASSERT_OK_AND_ASSIGN(MemSlot plain, Add(0x200000, kPage));
  EXPECT_THAT(vm_->GetDirtyLog(plain),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("log_dirty_pages")));
}

TEST_F(KvmVmTest, DirtyLogCapabilitiesFollowTheKernel) {
  EXPECT_TRUE(vm_->CheckCapability(VmCap::kDirtyLogSwitch));
  const int kvm_fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  ASSERT_GE(kvm_fd, 0);
  const int manual =
      ::ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);
  ::close(kvm_fd);
  std::printf("KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: %d\n", manual);
  EXPECT_EQ(vm_->CheckCapability(VmCap::kDirtyLogManualProtect),
            manual > 0 && (manual & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE) != 0);
}

TEST_F(KvmVmTest, DirtyLoggingSwitchesOnAReadOnlyRegionToo) {
  if (!vm_->CheckCapability(VmCap::kReadOnlyMemoryRegion)) {
    GTEST_SKIP() << "no KVM_CAP_READONLY_MEM";
  }
  MemoryRegionOptions read_only;
  read_only.read_only = true;
  ASSERT_OK_AND_ASSIGN(MemSlot slot, Add(0x100000, 4 * kPage, read_only));
  // KVM takes KVM_MEM_LOG_DIRTY_PAGES beside KVM_MEM_READONLY, as
  // AddMemoryRegion does; the guest cannot dirty the pages.
  ASSERT_OK(vm_->SetDirtyLogging(slot, true));
  ASSERT_EQ(vm_->MemoryRegions().size(), 1u);
  EXPECT_TRUE(vm_->MemoryRegions()[0].options.read_only);
  EXPECT_TRUE(vm_->MemoryRegions()[0].options.log_dirty_pages);
  EXPECT_THAT(vm_->GetDirtyLog(slot),
              ::hv::testing::IsOkAndHolds(::testing::ElementsAre(0u)));
  ASSERT_OK(vm_->SetDirtyLogging(slot, false));
  EXPECT_FALSE(vm_->MemoryRegions()[0].options.log_dirty_pages);
}

TEST(KvmDirtyLog, KernelFailuresLeaveTheLoggingAsItWas) {
  HV_REQUIRE_KVM();
  testing::FaultInjectingKvmSys sys;
  ASSERT_OK_AND_ASSIGN(auto kvm, KvmHypervisor::Create("/dev/kvm", &sys));
  ASSERT_OK_AND_ASSIGN(auto vm, kvm->CreateVm());
  ASSERT_OK_AND_ASSIGN(auto ram, MemoryRegion::CreateShared("ram", 64 * kPage));
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       vm->AddMemoryRegion(0x100000, std::move(ram), {}));
  const auto before = vm->MemoryRegions();

  sys.FailIoctl(KVM_SET_USER_MEMORY_REGION, EIO);
  EXPECT_THAT(vm->SetDirtyLogging(slot, true),
              StatusIs(absl::ErrnoToStatusCode(EIO),
                       AllOf(HasSubstr("KVM_SET_USER_MEMORY_REGION"),
                             HasSubstr("flags 0x1"))));
  EXPECT_EQ(vm->MemoryRegions(), before);
  EXPECT_THAT(vm->GetDirtyLog(slot),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  if (vm->CheckCapability(VmCap::kDirtyLogManualProtect)) {
    sys.FailIoctl(KVM_ENABLE_CAP, EIO);
    EXPECT_THAT(vm->EnableDirtyLogManualProtect(),
                StatusIs(absl::ErrnoToStatusCode(EIO),
                         HasSubstr("KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2")));
    ASSERT_OK(vm->SetDirtyLogging(slot, true));
    // Still off: ClearDirtyLog is refused before KVM is asked.
    const std::vector<uint64_t> all = {~uint64_t{0}};
    EXPECT_THAT(vm->ClearDirtyLog(slot, 0, 64, all),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("manual protection is off")));
    ASSERT_OK(vm->SetDirtyLogging(slot, false));
    ASSERT_OK(vm->EnableDirtyLogManualProtect());
    ASSERT_OK(vm->SetDirtyLogging(slot, true));
    sys.FailIoctl(KVM_CLEAR_DIRTY_LOG, EIO);
    EXPECT_THAT(vm->ClearDirtyLog(slot, 0, 64, all),
                StatusIs(absl::ErrnoToStatusCode(EIO),
                         HasSubstr("KVM_CLEAR_DIRTY_LOG (slot")));
    EXPECT_OK(vm->ClearDirtyLog(slot, 0, 64, all));
  }
  // Switching off fails: logging stays on, and the log readable.
  ASSERT_OK(vm->SetDirtyLogging(slot, true));
  sys.FailIoctl(KVM_SET_USER_MEMORY_REGION, EIO);
  EXPECT_FALSE(vm->SetDirtyLogging(slot, false).ok());
  EXPECT_TRUE(vm->MemoryRegions()[0].options.log_dirty_pages);
  EXPECT_OK(vm->GetDirtyLog(slot).status());
}

TEST(KvmDirtyLog, ManualProtectFollowsTheKernelsAnswer) {
  HV_REQUIRE_KVM();
  testing::FaultInjectingKvmSys sys;
  sys.OverrideExtension(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, 0);
  ASSERT_OK_AND_ASSIGN(auto kvm, KvmHypervisor::Create("/dev/kvm", &sys));
  ASSERT_OK_AND_ASSIGN(auto vm, kvm->CreateVm());
  EXPECT_FALSE(vm->CheckCapability(VmCap::kDirtyLogManualProtect));
  EXPECT_THAT(vm->EnableDirtyLogManualProtect(),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("KVM has no manual dirty-log protection")));
  const std::vector<uint64_t> all = {~uint64_t{0}};
  EXPECT_THAT(vm->ClearDirtyLog(0, 0, 64, all),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("clear dirty log")));
}

TEST_F(KvmVmTest, IoEventsAndIrqfds) {
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  IoEventAddress pio;
  pio.address = 0x20;
  pio.length = 1;
  ASSERT_OK(vm_->RegisterIoEvent(event, pio));
  EXPECT_OK(vm_->UnregisterIoEvent(event, pio));
  EXPECT_THAT(vm_->UnregisterIoEvent(event, pio),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("KVM_IOEVENTFD")));
  IoEventAddress mmio;
  mmio.space = IoEventAddress::Space::kMmio;
  mmio.address = 0xd0000000;
  mmio.length = 4;
  mmio.datamatch = 7;
  EXPECT_OK(vm_->RegisterIoEvent(event, mmio));
  pio.length = 3;
  EXPECT_THAT(vm_->RegisterIoEvent(event, pio),
              StatusIs(absl::StatusCode::kInvalidArgument));

  VmX86_64* vm86 = vm_->AsX86_64();
  ASSERT_NE(vm86, nullptr);
  ASSERT_OK(vm86->CreateIrqChip(IrqChipKind::kKernel));
  EXPECT_THAT(vm86->CreateIrqChip(IrqChipKind::kKernel),
              StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_OK(vm_->RegisterIrqfd(event, 5));
  EXPECT_OK(vm_->UnregisterIrqfd(event, 5));
  EXPECT_OK(vm_->SetIrqLine(4, true));
  EXPECT_OK(vm_->SetIrqLine(4, false));
}

TEST_F(KvmVmTest, IrqChipMustPrecedeVcpus) {
  ASSERT_OK(vm_->CreateVcpu(0));
  EXPECT_THAT(vm_->AsX86_64()->CreateIrqChip(IrqChipKind::kKernel),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(KvmVmTest, SplitIrqChip) {
  if (!kvm_->CheckCapability(HypervisorCap::kSplitIrqChip)) {
    GTEST_SKIP() << "no KVM_CAP_SPLIT_IRQCHIP";
  }
  EXPECT_OK(vm_->AsX86_64()->CreateIrqChip(IrqChipKind::kSplit, 24));
}

TEST_F(KvmVmTest, X86VmState) {
  VmX86_64* vm86 = vm_->AsX86_64();
  EXPECT_OK(vm86->SetTssAddress(0xfffbd000));
  EXPECT_OK(vm86->SetIdentityMapAddress(0xfffbc000));
  ASSERT_OK_AND_ASSIGN(std::vector<CpuidEntry> cpuid, vm86->GetSupportedCpuid());
  ASSERT_FALSE(cpuid.empty());
  EXPECT_EQ(cpuid[0].function, 0u);
  if (vm_->CheckCapability(VmCap::kPvClock)) {
    ASSERT_OK_AND_ASSIGN(ClockState clock, vm86->GetClock());
    clock.clock_ns += 1000000000;
    ASSERT_OK(vm86->SetClock(clock));
    ASSERT_OK_AND_ASSIGN(ClockState after, vm86->GetClock());
    EXPECT_GE(after.clock_ns, clock.clock_ns);
  }
}

// With the real time a clock was read at, setting it adds the real time
// since: a clock "read" 2 s ago comes back at least 2 s ahead of its value.
// KVM reports the real time only where the host's clock source is the TSC.
TEST_F(KvmVmTest, ClockSetWithItsRealTimeAddsTheTimeSince) {
  VmX86_64* vm86 = vm_->AsX86_64();
  if (!vm_->CheckCapability(VmCap::kPvClock)) GTEST_SKIP() << "no kvmclock";
  ASSERT_OK_AND_ASSIGN(ClockState clock, vm86->GetClock());
  if (!clock.realtime_ns.has_value()) {
    // Still settable as a plain value.
    ASSERT_OK(vm86->SetClock(clock));
    GTEST_SKIP() << "this KVM does not report the real time with the clock "
                    "(KVM_CLOCK_REALTIME needs a TSC clock source)";
  }
  EXPECT_TRUE(clock.host_tsc.has_value());
  constexpr uint64_t kTwoSeconds = 2000000000;
  ClockState earlier = clock;
  *earlier.realtime_ns -= kTwoSeconds;
  ASSERT_OK(vm86->SetClock(earlier));
  ASSERT_OK_AND_ASSIGN(ClockState after, vm86->GetClock());
  EXPECT_GE(after.clock_ns, clock.clock_ns + kTwoSeconds);
  // Without it the value is taken as is (and the clock runs on from there).
  ClockState plain = clock;
  plain.realtime_ns.reset();
  ASSERT_OK(vm86->SetClock(plain));
  ASSERT_OK_AND_ASSIGN(ClockState again, vm86->GetClock());
  EXPECT_LT(again.clock_ns, clock.clock_ns + kTwoSeconds);
}

}  // namespace
}  // namespace hv
