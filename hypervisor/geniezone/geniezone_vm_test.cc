// GeniezoneVm against the fake /dev/gzvm: memory slots, fd mappings,
// ioeventfds, irqfds, irq lines, the GIC and vCPU creation -- the exact
// ioctls and structs on success, the driver's errors, and bad input that
// never reaches the driver.
#include "hypervisor/geniezone/geniezone_vm.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/geniezone/geniezone_abi.h"
#include "hypervisor/geniezone/geniezone_test_util.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/memfd.h"
#include "testing/fakes/geniezone_fake.h"
#include "testing/backend_expectations.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr GuestAddress kRam = 0x80000000;
constexpr uint64_t kSize = 64 * 1024;

GicConfig Gic() {
  GicConfig config;
  config.version = GicConfig::Version::kV3;
  config.distributor_base = 0x08000000;
  config.redistributor_or_cpu_base = 0x080a0000;
  config.num_irqs = 96;
  return config;
}

TEST(GeniezoneVm, AddMemoryRegionHandsTheDriverTheHostMapping) {
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create());
  std::unique_ptr<MemoryRegion> ram = NewTestRegion(kSize);
  const uintptr_t host = reinterpret_cast<uintptr_t>(ram->data());
  env.fake->ClearCalls();
  ASSERT_OK_AND_ASSIGN(MemSlot slot, env.vm->AddMemoryRegion(kRam, std::move(ram), {}));
  EXPECT_EQ(slot, 0u);
  EXPECT_THAT(IoctlNames(*env.fake), ElementsAre("GZVM_SET_USER_MEMORY_REGION"));
  auto request = LastIoctl(*env.fake, "GZVM_SET_USER_MEMORY_REGION")
                     .As<geniezone_abi::UserspaceMemoryRegion>();
  EXPECT_EQ(request.slot, 0u);
  EXPECT_EQ(request.flags, geniezone_abi::kUserMemRegionGuestMem);
  EXPECT_EQ(request.guest_phys_addr, kRam);
  EXPECT_EQ(request.memory_size, kSize);
  EXPECT_EQ(request.userspace_addr, host);
  EXPECT_THAT(env.fake->Slots(), SizeIs(1));
  ASSERT_THAT(env.vm->MemoryRegions(), SizeIs(1));
  EXPECT_EQ(env.vm->MemoryRegions()[0].guest_address, kRam);
}

TEST(GeniezoneVm, TenSlotsThenResourceExhaustedWithoutAnIoctl) {
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create());
  EXPECT_EQ(env.vm->MaxMemorySlots(), 10u);
  for (uint32_t i = 0; i < 10; ++i) {
    ASSERT_OK_AND_ASSIGN(MemSlot slot,
                         env.vm->AddMemoryRegion(kRam + i * kSize, NewTestRegion(kSize), {}));
    EXPECT_EQ(slot, i);
  }
  env.fake->ClearCalls();
  EXPECT_THAT(env.vm->AddMemoryRegion(kRam + 10 * kSize, NewTestRegion(kSize), {}),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(IoctlNames(*env.fake), IsEmpty());
  EXPECT_THAT(env.vm->MemoryRegions(), SizeIs(10));
}

TEST(GeniezoneVm, DriverErrorNamesTheIoctlAndLeavesNoSlot) {
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create());
  env.fake->FailCall(env.fake->call_count(), ENOMEM);
  EXPECT_THAT(env.vm->AddMemoryRegion(kRam, NewTestRegion(kSize), {}),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("GZVM_SET_USER_MEMORY_REGION (slot 0, "
                                 "[0x80000000, 0x80010000)): Cannot allocate")));
  EXPECT_THAT(env.vm->MemoryRegions(), IsEmpty());
  EXPECT_THAT(env.fake->Slots(), IsEmpty());
  // Slot 0 is still the one the next region gets.
  ASSERT_OK_AND_ASSIGN(MemSlot slot, env.vm->AddMemoryRegion(kRam, NewTestRegion(kSize), {}));
  EXPECT_EQ(slot, 0u);
}

TEST(GeniezoneVm, BadRegionsNeverReachTheDriver) {
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create());
  ASSERT_OK(env.vm->AddMemoryRegion(kRam, NewTestRegion(kSize), {}).status());
  env.fake->ClearCalls();
  EXPECT_THAT(env.vm->AddMemoryRegion(kRam, nullptr, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("null")));
  EXPECT_THAT(env.vm->AddMemoryRegion(kRam + 1, NewTestRegion(kSize), {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(env.vm->AddMemoryRegion(kRam + kSize / 2, NewTestRegion(kSize), {}),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       AllOf(HasSubstr("0x80000000"), HasSubstr("0x80008000"))));
  EXPECT_THAT(env.vm->AddMemoryRegion((uint64_t{1} << 40) - 4096, NewTestRegion(kSize), {}),
              StatusIs(absl::StatusCode::kOutOfRange));
  MemoryRegionOptions read_only;
  read_only.read_only = true;
  EXPECT_THAT(env.vm->AddMemoryRegion(kRam + kSize, NewTestRegion(kSize), read_only),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("read-only")));
  MemoryRegionOptions logged;
  logged.log_dirty_pages = true;
  EXPECT_THAT(env.vm->AddMemoryRegion(kRam + kSize, NewTestRegion(kSize), logged),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("dirty")));
  MemoryRegionOptions noncoherent;
  noncoherent.cache = MemCacheType::kCacheNonCoherent;
  EXPECT_THAT(env.vm->AddMemoryRegion(kRam + kSize, NewTestRegion(kSize), noncoherent),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("non-coherent")));
  EXPECT_THAT(IoctlNames(*env.fake), IsEmpty());
  EXPECT_THAT(env.vm->MemoryRegions(), SizeIs(1));
  EXPECT_TRUE(HasCapabilities(
      *env.vm, {VmCap::kIrqfd, VmCap::kIrqfdResample, VmCap::kIoEventfd},
      {VmCap::kReadOnlyMemoryRegion, VmCap::kDirtyLog,
       VmCap::kMemNoncoherentDma, VmCap::kPvClock}));
}

TEST(GeniezoneVm, RegionsCannotBeRemovedAndStayMapped) {
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create());
  ASSERT_OK_AND_ASSIGN(MemSlot slot, env.vm->AddMemoryRegion(kRam, NewTestRegion(kSize), {}));
  env.fake->ClearCalls();
  EXPECT_THAT(env.vm->RemoveMemoryRegion(7),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("7")));
  EXPECT_THAT(env.vm->RemoveMemoryRegion(slot),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("cannot delete a memory slot")));
  EXPECT_THAT(IoctlNames(*env.fake), IsEmpty());
  EXPECT_THAT(env.vm->MemoryRegions(), SizeIs(1));
  EXPECT_OK(env.fake->GuestRead(kRam, 4).status());
}

TEST(GeniezoneVm, DirtyLogIsUnimplementedForAKnownSlot) {
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create());
  ASSERT_OK_AND_ASSIGN(MemSlot slot, env.vm->AddMemoryRegion(kRam, NewTestRegion(kSize), {}));
  EXPECT_THAT(env.vm->GetDirtyLog(slot + 1),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(env.vm->GetDirtyLog(slot),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("dirty")));
}

TEST(GeniezoneVm, GuestSeesRegionMemoryAndFdMappings) {
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create());
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemoryRegion> arena,
                       MemoryRegion::CreateArena(4 * page));
  ASSERT_OK_AND_ASSIGN(MemSlot slot, env.vm->AddMemoryRegion(kRam, std::move(arena), {}));
  ASSERT_OK_AND_ASSIGN(UniqueFd blob, CreateMemfd("gzvm-blob", page));
  ASSERT_EQ(pwrite(blob.get(), "blob", 4, 0), 4);
  const size_t mappings = env.fake->LiveMappingCount();
  env.fake->ClearCalls();
  ASSERT_OK(env.vm->AddFdMapping(slot, page, page, blob.get(), 0,
                                 Protection::ReadWrite()));
  // No Geniezone call: the host mapping changes in place.
  EXPECT_THAT(env.fake->CallNames(), ElementsAre("mmap"));
  EXPECT_EQ(env.fake->LiveMappingCount(), mappings);
  EXPECT_THAT(env.fake->GuestRead(kRam + page, 4),
              IsOkAndHolds(ElementsAre('b', 'l', 'o', 'b')));
  const uint8_t byte[] = {'B'};
  ASSERT_OK(env.fake->GuestWrite(kRam + page, byte));
  char first = 0;
  ASSERT_EQ(pread(blob.get(), &first, 1, 0), 1);
  EXPECT_EQ(first, 'B');
  // The arena's empty pages are read-only zeros for the guest too.
  EXPECT_THAT(env.fake->GuestWrite(kRam, byte),
              StatusIs(absl::StatusCode::kPermissionDenied));
  ASSERT_OK(env.vm->RemoveMapping(slot, page, page));
  EXPECT_THAT(env.fake->GuestRead(kRam + page, 4),
              IsOkAndHolds(ElementsAre(0, 0, 0, 0)));
  EXPECT_THAT(env.vm->AddFdMapping(slot, page, page, -1, 0, Protection::Read()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(env.vm->AddFdMapping(slot, 4 * page, page, blob.get(), 0,
                                   Protection::Read()),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(env.vm->RemoveMapping(slot + 3, 0, page),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(GeniezoneVm, IoEventsAreMmioOnlyAndMatchTheDriversRules) {
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create());
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  IoEventAddress address{IoEventAddress::Space::kMmio, 0x9000000, 4, 0x1234};
  env.fake->ClearCalls();
  ASSERT_OK(env.vm->RegisterIoEvent(event, address));
  auto request =
      LastIoctl(*env.fake, "GZVM_IOEVENTFD").As<geniezone_abi::Ioeventfd>();
  EXPECT_EQ(request.addr, 0x9000000u);
  EXPECT_EQ(request.len, 4u);
  EXPECT_EQ(request.fd, event.fd());
  EXPECT_EQ(request.flags, geniezone_abi::kIoeventfdFlagDatamatch);
  EXPECT_EQ(request.datamatch, 0x1234u);
  EXPECT_EQ(env.fake->IoeventfdCount(), 1u);
  EXPECT_THAT(env.vm->RegisterIoEvent(event, address),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("GZVM_IOEVENTFD (assign mmio 0x9000000 len 4)"
                                 ": File exists")));
  const uint8_t match[] = {0x34, 0x12, 0, 0};
  ASSERT_OK(env.fake->GuestWrite(0x9000000, match));
  EXPECT_THAT(event.Read(), IsOkAndHolds(1u));

  env.fake->ClearCalls();
  IoEventAddress port{IoEventAddress::Space::kPio, 0x3f8, 1, std::nullopt};
  EXPECT_THAT(env.vm->RegisterIoEvent(event, port),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("port I/O")));
  IoEventAddress odd = address;
  odd.length = 3;
  EXPECT_THAT(env.vm->RegisterIoEvent(event, odd),
              StatusIs(absl::StatusCode::kInvalidArgument));
  IoEventAddress any = address;
  any.length = 0;
  EXPECT_THAT(env.vm->RegisterIoEvent(event, any),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(IoctlNames(*env.fake), IsEmpty());

  ASSERT_OK(env.vm->UnregisterIoEvent(event, address));
  EXPECT_EQ(LastIoctl(*env.fake, "GZVM_IOEVENTFD")
                .As<geniezone_abi::Ioeventfd>()
                .flags,
            geniezone_abi::kIoeventfdFlagDatamatch |
                geniezone_abi::kIoeventfdFlagDeassign);
  EXPECT_THAT(env.vm->UnregisterIoEvent(event, address),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("GZVM_IOEVENTFD")));
  EXPECT_EQ(env.fake->IoeventfdCount(), 0u);
}

TEST(GeniezoneVm, ResampleIrqfdIsSignalledWhenTheGuestEndsTheSpi) {
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create());
  ASSERT_OK(env.arm()->CreateGic(Gic()));
  ASSERT_OK_AND_ASSIGN(EventFd level, EventFd::Create());
  ASSERT_OK_AND_ASSIGN(EventFd resample, EventFd::Create());
  // Bad input reaches no ioctl: one eventfd for both, an SPI past the GIC.
  env.fake->ClearCalls();
  EXPECT_THAT(env.vm->RegisterResampleIrqfd(level, 5, level),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("same eventfd")));
  EXPECT_THAT(env.vm->RegisterResampleIrqfd(level, 4000, resample),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("register resample irqfd")));
  EXPECT_THAT(IoctlNames(*env.fake), IsEmpty());

  ASSERT_OK(env.vm->RegisterResampleIrqfd(level, 5, resample));
  auto request = LastIoctl(*env.fake, "GZVM_IRQFD").As<geniezone_abi::Irqfd>();
  EXPECT_EQ(request.fd, static_cast<uint32_t>(level.fd()));
  EXPECT_EQ(request.gsi, 5u);
  EXPECT_EQ(request.flags, geniezone_abi::kIrqfdFlagResample);
  EXPECT_EQ(request.resamplefd, static_cast<uint32_t>(resample.fd()));
  ASSERT_OK(level.Write(1));
  EXPECT_EQ(env.fake->InterruptsDelivered(5), 1u);
  // The guest's EOI of another SPI signals nothing; of this one, the
  // resamplefd, once.
  EXPECT_EQ(env.fake->GuestEoi(6), 0);
  EXPECT_EQ(env.fake->GuestEoi(5), 1);
  EXPECT_THAT(resample.Read(), IsOkAndHolds(1u));
  ASSERT_OK(env.vm->UnregisterIrqfd(level, 5));
  EXPECT_EQ(env.fake->IrqfdCount(), 0u);
  EXPECT_EQ(env.fake->GuestEoi(5), 0);
}

TEST(GeniezoneVm, IrqfdsAndLinesCarrySpiNumbers) {
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create());
  ASSERT_OK(env.arm()->CreateGic(Gic()));
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  env.fake->ClearCalls();
  ASSERT_OK(env.vm->RegisterIrqfd(event, 5));
  auto request = LastIoctl(*env.fake, "GZVM_IRQFD").As<geniezone_abi::Irqfd>();
  EXPECT_EQ(request.fd, static_cast<uint32_t>(event.fd()));
  EXPECT_EQ(request.gsi, 5u);
  EXPECT_EQ(request.flags, 0u);
  ASSERT_OK(event.Write(1));
  EXPECT_EQ(env.fake->InterruptsDelivered(5), 1u);
  // One eventfd drives one irq.
  EXPECT_THAT(env.vm->RegisterIrqfd(event, 6),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("GZVM_IRQFD (assign gsi 6): Device or "
                                 "resource busy")));
  ASSERT_OK(env.vm->UnregisterIrqfd(event, 5));
  EXPECT_EQ(LastIoctl(*env.fake, "GZVM_IRQFD").As<geniezone_abi::Irqfd>().flags,
            geniezone_abi::kIrqfdFlagDeassign);
  EXPECT_EQ(env.fake->IrqfdCount(), 0u);

  ASSERT_OK(env.vm->SetIrqLine(7, true));
  auto line =
      LastIoctl(*env.fake, "GZVM_IRQ_LINE").As<geniezone_abi::IrqLevel>();
  EXPECT_EQ(line.irq, 0x01000007u);  // type SPI, vCPU 0, number 7
  EXPECT_EQ(line.level, 1u);
  EXPECT_EQ(env.fake->InterruptsDelivered(7), 1u);
  ASSERT_OK(env.vm->SetIrqLine(7, false));
  EXPECT_EQ(env.fake->IrqLineLevel(7), 0u);

  // SPIs past the GIC's 96 interrupts (64 SPIs) never reach the driver.
  env.fake->ClearCalls();
  EXPECT_THAT(env.vm->SetIrqLine(64, true),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("SPI 64")));
  EXPECT_THAT(env.vm->RegisterIrqfd(event, 64),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(IoctlNames(*env.fake), IsEmpty());
}

TEST(GeniezoneVm, IrqLineErrorNamesTheIoctl) {
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create());
  env.fake->FailCall(env.fake->call_count(), EINVAL);
  EXPECT_THAT(env.vm->SetIrqLine(3, true),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("GZVM_IRQ_LINE (spi 3, level 1): Invalid")));
}

TEST(GeniezoneVm, InitArchHandsTheDriverTheDevicetree) {
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create());
  ASSERT_OK(env.vm->AddMemoryRegion(kRam, NewTestRegion(kSize), {}).status());
  env.fake->ClearCalls();
  // A devicetree outside guest memory never reaches the driver.
  EXPECT_THAT(env.arm()->InitArch(kRam, kRam + kSize, 0x1000),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(IoctlNames(*env.fake), IsEmpty());
  ASSERT_OK(env.arm()->InitArch(kRam + 0x1000, kRam + 0x8000, 0x800));
  EXPECT_THAT(IoctlNames(*env.fake), ElementsAre("GZVM_SET_DTB_CONFIG"));
  auto config = LastIoctl(*env.fake, "GZVM_SET_DTB_CONFIG")
                    .As<geniezone_abi::DtbConfig>();
  EXPECT_EQ(config.dtb_addr, kRam + 0x8000);
  EXPECT_EQ(config.dtb_size, 0x800u);
  ASSERT_TRUE(env.fake->DtbConfig().has_value());
  EXPECT_EQ(env.fake->DtbConfig()->dtb_addr, kRam + 0x8000);
  // The driver's error is reported, naming the ioctl and the range; the
  // hypervisor keeps the place it had.
  env.fake->FailCall(env.fake->call_count(), EFAULT);
  EXPECT_THAT(env.arm()->InitArch(kRam, kRam, 0x1000),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("GZVM_SET_DTB_CONFIG (devicetree "
                                 "[0x80000000, +0x1000))")));
  EXPECT_EQ(env.fake->DtbConfig()->dtb_addr, kRam + 0x8000);
}

TEST(GeniezoneVm, CreateGicMakesDistributorAndRedistributor) {
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create());
  EXPECT_TRUE(env.arm()->SupportsGic(GicConfig::Version::kV3));
  EXPECT_FALSE(env.arm()->SupportsGic(GicConfig::Version::kV2));
  EXPECT_THAT(env.arm()->FinalizeGic(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  env.fake->ClearCalls();
  ASSERT_OK(env.arm()->CreateGic(Gic()));
  std::vector<GeniezoneFake::Call> calls = env.fake->calls();
  ASSERT_THAT(calls, SizeIs(2));
  auto dist = calls[0].As<geniezone_abi::CreateDevice>();
  auto redist = calls[1].As<geniezone_abi::CreateDevice>();
  EXPECT_EQ(calls[0].name, "GZVM_CREATE_DEVICE");
  EXPECT_EQ(dist.dev_type, geniezone_abi::kDevTypeArmVgicV3Dist);
  EXPECT_EQ(dist.dev_addr, 0x08000000u);
  EXPECT_EQ(dist.dev_reg_size, 0x10000u);
  EXPECT_EQ(dist.flags | dist.attr_addr | dist.attr_size | dist.id, 0u);
  EXPECT_EQ(redist.dev_type, geniezone_abi::kDevTypeArmVgicV3Redist);
  EXPECT_EQ(redist.dev_addr, 0x080a0000u);
  EXPECT_EQ(redist.dev_reg_size, 0x20000u);
  EXPECT_THAT(env.fake->Devices(), SizeIs(2));
  EXPECT_OK(env.arm()->FinalizeGic());
  EXPECT_THAT(env.arm()->CreateGic(Gic()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

// A memory slot over a GIC frame would hide the device from the guest:
// refused whichever comes first, naming both ranges, with nothing changed.
TEST(GeniezoneVm, GicFramesAndMemoryRegionsStayApart) {
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create());
  // A region over the last page of the redistributor's 128 KiB.
  ASSERT_OK(env.vm->AddMemoryRegion(0x080bf000, NewTestRegion(0x1000), {}).status());
  env.fake->ClearCalls();
  EXPECT_THAT(env.arm()->CreateGic(Gic()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("create GIC: the GICv3 redistributor [0x80a0000, "
                                 "0x80c0000) would overlap memory region "
                                 "[0x80bf000, 0x80c0000)")));
  EXPECT_THAT(env.fake->calls(), IsEmpty()) << "nothing reached the driver";
  EXPECT_THAT(env.fake->Devices(), IsEmpty());

  // With the GIC elsewhere, a region over its distributor is refused.
  GicConfig moved = Gic();
  moved.distributor_base = 0x09000000;
  moved.redistributor_or_cpu_base = 0x090a0000;
  ASSERT_OK(env.arm()->CreateGic(moved));
  const size_t regions = env.vm->MemoryRegions().size();
  env.fake->ClearCalls();
  EXPECT_THAT(env.vm->AddMemoryRegion(0x08ff0000, NewTestRegion(0x20000), {}),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("add memory region [0x8ff0000, 0x9010000): "
                                 "overlaps the GICv3 distributor [0x9000000, "
                                 "0x9010000)")));
  EXPECT_THAT(env.fake->calls(), IsEmpty());
  EXPECT_EQ(env.vm->MemoryRegions().size(), regions);
  // Next to the frames is fine.
  EXPECT_OK(env.vm->AddMemoryRegion(0x090c0000, NewTestRegion(0x1000), {}).status());
}

TEST(GeniezoneVm, BadGicConfigurationsNeverReachTheDriver) {
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create());
  env.fake->ClearCalls();
  GicConfig v2 = Gic();
  v2.version = GicConfig::Version::kV2;
  EXPECT_THAT(env.arm()->CreateGic(v2),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("GICv3")));
  GicConfig odd = Gic();
  odd.num_irqs = 100;
  EXPECT_THAT(env.arm()->CreateGic(odd),
              StatusIs(absl::StatusCode::kInvalidArgument));
  GicConfig unaligned = Gic();
  unaligned.distributor_base += 0x1000;
  EXPECT_THAT(env.arm()->CreateGic(unaligned),
              StatusIs(absl::StatusCode::kInvalidArgument));
  GicConfig high = Gic();
  high.distributor_base = uint64_t{1} << 40;
  EXPECT_THAT(env.arm()->CreateGic(high),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(IoctlNames(*env.fake), IsEmpty());
  ASSERT_OK(env.vm->CreateVcpu(0).status());
  EXPECT_THAT(env.arm()->CreateGic(Gic()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("vCPU")));
  EXPECT_THAT(env.arm()->SetCounterOffset(5),
              StatusIs(absl::StatusCode::kUnimplemented));
}

TEST(GeniezoneVm, RedistributorFailureIsReportedAndNotRetried) {
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create());
  env.fake->FailCall(env.fake->call_count() + 1, ENOMEM);
  EXPECT_THAT(env.arm()->CreateGic(Gic()),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("GZVM_CREATE_DEVICE (GICv3 redistributor at "
                                 "0x80a0000; the distributor stays created)")));
  EXPECT_THAT(env.fake->Devices(), SizeIs(1));
  EXPECT_THAT(env.arm()->CreateGic(Gic()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot remove a device")));
  EXPECT_THAT(env.arm()->FinalizeGic(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // The distributor the driver kept still has its frame: no memory region
  // over it; the redistributor's range was never created and is free.
  EXPECT_THAT(env.vm->AddMemoryRegion(0x08000000, NewTestRegion(0x1000), {}),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("overlaps the GICv3 distributor [0x8000000, "
                                 "0x8010000)")));
  EXPECT_OK(env.vm->AddMemoryRegion(0x080a0000, NewTestRegion(0x1000), {}).status());
}

TEST(GeniezoneVm, VcpuIdsAreCheckedBeforeTheDriver) {
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create());
  env.fake->ClearCalls();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, env.vm->CreateVcpu(7));
  EXPECT_EQ(vcpu->id(), 7u);
  EXPECT_EQ(LastIoctl(*env.fake, "GZVM_CREATE_VCPU").arg, 7u);
  env.fake->ClearCalls();
  EXPECT_THAT(env.vm->CreateVcpu(8),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("0..7")));
  EXPECT_THAT(env.vm->CreateVcpu(7),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(IoctlNames(*env.fake), IsEmpty());
  // The driver keeps an id until the VM goes, even when its vCPU is closed.
  vcpu.reset();
  EXPECT_THAT(env.vm->CreateVcpu(7),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

}  // namespace
}  // namespace hv::testing
