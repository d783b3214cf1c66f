// HaxmVm against the fake driver: VM creation, the exact SET_RAM2 /
// ALLOC_RAM requests for regions, read-only memory, removal, fd mappings,
// driver errors, bad input, and the operations HAXM does not have.
#include "hypervisor/haxm/haxm_vm.h"

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#ifndef HV_HAXM_TEST_NO_FD_REMAP
#include <unistd.h>  // pwrite
#endif

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/haxm/haxm_hypervisor.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/haxm/haxm_test_util.h"
#include "testing/fakes/haxm_fake.h"
#include "testing/backend_expectations.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr uint64_t kSize = 0x10000;
constexpr uint64_t kBase = 0x100000;

std::vector<haxm_abi::hax_set_ram_info2> SetRamCalls(HaxmFake& fake) {
  std::vector<haxm_abi::hax_set_ram_info2> result;
  for (const HaxmCall& call : fake.Calls()) {
    if (call.name != "HAX_VM_IOCTL_SET_RAM2") continue;
    haxm_abi::hax_set_ram_info2 info;
    EXPECT_EQ(call.input.size(), sizeof(info));
    std::memcpy(&info, call.input.data(), sizeof(info));
    result.push_back(info);
  }
  return result;
}

TEST(HaxmVm, CreateOpensTheVmDeviceAndNotifiesTheUserVersion) {
  HaxmFake fake;
  ASSERT_OK_AND_ASSIGN(auto haxm, HaxmHypervisor::Create("/dev/HAX", &fake));
  fake.ClearCalls();
  ASSERT_OK_AND_ASSIGN(auto vm, haxm->CreateVm());
  EXPECT_THAT(fake.CallNames(),
              ElementsAre("HAX_IOCTL_CREATE_VM", "open /dev/hax_vm/vm00",
                          "HAX_VM_IOCTL_NOTIFY_QEMU_VERSION"));
  ASSERT_TRUE(fake.QemuVersion().has_value());
  EXPECT_EQ(fake.QemuVersion()->cur_version, 2u);
  EXPECT_EQ(fake.QemuVersion()->least_version, 2u);
  ASSERT_OK_AND_ASSIGN(auto second, haxm->CreateVm());
  EXPECT_EQ(static_cast<HaxmVm*>(second.get())->vm_id(), 1u);
  EXPECT_EQ(fake.LiveVms(), 2u);
  vm.reset();
  second.reset();
  EXPECT_EQ(fake.LiveVms(), 0u) << "closing the VM device destroys the VM";
}

TEST(HaxmVm, ARegionIsOneStandaloneSetRam2) {
  HaxmTestEnv env = NewHaxmVm();
  ASSERT_NE(env.vm, nullptr);
  EXPECT_TRUE(env.haxm_vm->standalone_ram());
  std::unique_ptr<MemoryRegion> region = NewTestRegion(kSize);
  const uint64_t host = reinterpret_cast<uintptr_t>(region->data());
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       env.vm->AddMemoryRegion(kBase, std::move(region), {}));
  EXPECT_EQ(slot, 0u);
  EXPECT_THAT(env.fake->CallNames(), ElementsAre("HAX_VM_IOCTL_SET_RAM2"));
  std::vector<haxm_abi::hax_set_ram_info2> calls = SetRamCalls(*env.fake);
  ASSERT_THAT(calls, SizeIs(1));
  EXPECT_EQ(calls[0].pa_start, kBase);
  EXPECT_EQ(calls[0].size, kSize);
  EXPECT_EQ(calls[0].va, host);
  EXPECT_EQ(calls[0].flags, haxm_abi::kRamInfoStandalone);
  EXPECT_EQ(calls[0].reserved1, 0u);
  EXPECT_EQ(calls[0].reserved2, 0u);
  EXPECT_EQ(env.fake->RamBlocks(), 1u);
  ASSERT_THAT(env.fake->Mappings(), SizeIs(1));
  EXPECT_FALSE(env.fake->Mappings()[0].rom);
}

TEST(HaxmVm, ReadOnlyIsRomAndGuestWritesAreRefused) {
  HaxmTestEnv env = NewHaxmVm();
  ASSERT_NE(env.vm, nullptr);
  EXPECT_TRUE(env.vm->CheckCapability(VmCap::kReadOnlyMemoryRegion));
  std::unique_ptr<MemoryRegion> rom = NewTestRegion(kSize);
  rom->data()[0] = 0x5a;
  MemoryRegionOptions options;
  options.read_only = true;
  ASSERT_OK(env.vm->AddMemoryRegion(kBase, std::move(rom), options).status());
  EXPECT_EQ(SetRamCalls(*env.fake)[0].flags,
            haxm_abi::kRamInfoStandalone | haxm_abi::kRamInfoRom);
  const uint8_t byte[] = {1};
  EXPECT_THAT(env.fake->GuestWrite(kBase, byte),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(env.fake->GuestRead(kBase, 1), IsOkAndHolds(ElementsAre(0x5a)));
}

TEST(HaxmVm, RemoveUnmapsWithInvalidAndVaZero) {
  HaxmTestEnv env = NewHaxmVm();
  ASSERT_NE(env.vm, nullptr);
  std::unique_ptr<MemoryRegion> region = NewTestRegion(kSize);
  uint8_t* host = region->data();
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       env.vm->AddMemoryRegion(kBase, std::move(region), {}));
  env.fake->ClearCalls();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemoryRegion> back,
                       env.vm->RemoveMemoryRegion(slot));
  EXPECT_EQ(back->data(), host);
  std::vector<haxm_abi::hax_set_ram_info2> calls = SetRamCalls(*env.fake);
  ASSERT_THAT(calls, SizeIs(1));
  EXPECT_EQ(calls[0].pa_start, kBase);
  EXPECT_EQ(calls[0].size, kSize);
  EXPECT_EQ(calls[0].va, 0u);
  EXPECT_EQ(calls[0].flags, haxm_abi::kRamInfoInvalid);
  EXPECT_THAT(env.fake->Mappings(), SizeIs(0));
  EXPECT_EQ(env.fake->RamBlocks(), 0u) << "the stand-alone block went away";
  // The same memory can be mapped again, anywhere.
  EXPECT_OK(env.vm->AddMemoryRegion(kBase * 4, std::move(back), {}).status());
}

TEST(HaxmVm, WithoutImplicitRamblocksRegionsAreAllocRamThenSetRam2) {
  HaxmFakeOptions options;
  options.winfo &= ~haxm_abi::kCapImplicitRamblock;
  HaxmTestEnv env = NewHaxmVm(options);
  ASSERT_NE(env.vm, nullptr);
  EXPECT_FALSE(env.haxm_vm->standalone_ram());
  std::unique_ptr<MemoryRegion> region = NewTestRegion(kSize);
  const uint64_t host = reinterpret_cast<uintptr_t>(region->data());
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       env.vm->AddMemoryRegion(kBase, std::move(region), {}));
  const std::vector<HaxmCall> calls = env.fake->Calls();
  ASSERT_THAT(calls, SizeIs(2));
  EXPECT_EQ(calls[0].name, "HAX_VM_IOCTL_ALLOC_RAM");
  haxm_abi::hax_alloc_ram_info alloc;
  ASSERT_EQ(calls[0].input.size(), sizeof(alloc));
  std::memcpy(&alloc, calls[0].input.data(), sizeof(alloc));
  EXPECT_EQ(alloc.size, kSize);
  EXPECT_EQ(alloc.va, host);
  EXPECT_EQ(calls[1].name, "HAX_VM_IOCTL_SET_RAM2");
  EXPECT_EQ(SetRamCalls(*env.fake)[0].flags, 0u);

  // HAXM keeps the block: the memory cannot come back in this mode.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemoryRegion> back,
                       env.vm->RemoveMemoryRegion(slot));
  EXPECT_EQ(env.fake->RamBlocks(), 1u);
  env.fake->ClearCalls();
  // (Made first, so it cannot land on the pages of `back` once they go.)
  std::unique_ptr<MemoryRegion> fresh_region = NewTestRegion(kSize);
  EXPECT_THAT(env.vm->AddMemoryRegion(kBase, std::move(back), {}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot drop RAM blocks")));
  EXPECT_THAT(env.fake->Calls(), SizeIs(0));
  EXPECT_THAT(env.vm->MemoryRegions(), SizeIs(0));
  // Fd mappings cannot work when HAXM pins the pages for good.
  ASSERT_OK_AND_ASSIGN(
      MemSlot fresh, env.vm->AddMemoryRegion(kBase, std::move(fresh_region), {}));
  ASSERT_OK_AND_ASSIGN(UniqueFd blob, CreateMemfd("blob", 0x1000));
  EXPECT_THAT(env.vm->AddFdMapping(fresh, 0, 0x1000, blob.get(), 0,
                                   Protection::Read()),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("HAX_CAP_IMPLICIT_RAMBLOCK")));
}

TEST(HaxmVm, DriverErrorsNameTheIoctlAndLeaveNoSlot) {
  for (const haxm_abi::Platform* platform : HaxmPlatforms()) {
    SCOPED_TRACE(platform->name);
    HaxmTestEnv env = NewHaxmVm(HaxmOptionsFor(platform));
    ASSERT_NE(env.vm, nullptr);
    env.fake->FailNextIoctl("HAX_VM_IOCTL_SET_RAM2",
                            platform->errors.invalid_parameter);
    EXPECT_THAT(env.vm->AddMemoryRegion(kBase, NewTestRegion(kSize), {}),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("HAX_VM_IOCTL_SET_RAM2 ([0x100000, "
                                         "0x110000) map flags 0x40)"),
                               HasSubstr(platform == &haxm_abi::PosixPlatform()
                                             ? "Invalid argument"
                                             : "ERROR_INVALID_PARAMETER"))));
    EXPECT_THAT(env.vm->MemoryRegions(), SizeIs(0));
    EXPECT_THAT(env.fake->Mappings(), SizeIs(0));
    // The slot number was not used up.
    EXPECT_THAT(env.vm->AddMemoryRegion(kBase, NewTestRegion(kSize), {}), IsOkAndHolds(0u));
  }
}

TEST(HaxmVm, TheFakeChecksSetRam2AsTheDriverDoes) {
  // Raw requests, through the seam as any caller would issue them.
  HaxmFake fake;
  const haxm_abi::IoctlCodes& codes = fake.platform().codes;
  HaxmHandle hax = kInvalidHaxmHandle;
  ASSERT_EQ(fake.Open("/dev/HAX", &hax), 0);
  uint32_t vm_id = 99;
  ASSERT_EQ(fake.Ioctl(hax, codes.create_vm, &vm_id, 0, sizeof(vm_id)), 0);
  EXPECT_EQ(vm_id, 0u);
  HaxmHandle vm = kInvalidHaxmHandle;
  ASSERT_EQ(fake.Open("/dev/hax_vm/vm00", &vm), 0);
  HaxmHandle again = kInvalidHaxmHandle;
  EXPECT_EQ(fake.Open("/dev/hax_vm/vm00", &again), EBUSY);
  std::unique_ptr<MemoryRegion> region = NewTestRegion(kSize);
  haxm_abi::hax_set_ram_info2 info = {};
  info.pa_start = kBase;
  info.size = kSize;
  info.va = reinterpret_cast<uintptr_t>(region->data());
  info.flags = haxm_abi::kRamInfoStandalone;
  auto set_ram = [&](uint32_t size) {
    return fake.Ioctl(vm, codes.vm_set_ram2, &info, size, 0);
  };
  ASSERT_EQ(set_ram(sizeof(info)), 0);
  info.pa_start = kBase * 8;  // the same host pages again: blocks overlap
  EXPECT_EQ(set_ram(sizeof(info)), EINVAL);
  info.flags = 0;  // not stand-alone: the pages are in a block, so fine
  EXPECT_EQ(set_ram(sizeof(info)), 0);
  info.flags = haxm_abi::kRamInfoInvalid;  // INVALID needs va 0
  EXPECT_EQ(set_ram(sizeof(info)), EINVAL);
  info.va = 0;
  info.reserved1 = 1;
  EXPECT_EQ(set_ram(sizeof(info)), EINVAL);
  info.reserved1 = 0;
  info.flags = haxm_abi::kRamInfoInvalid | haxm_abi::kRamInfoRom;
  EXPECT_EQ(set_ram(sizeof(info)), EINVAL);
  info.flags = haxm_abi::kRamInfoInvalid;
  EXPECT_EQ(set_ram(sizeof(info) - 1), EFAULT)
      << "a buffer smaller than the size the number encodes";
  EXPECT_EQ(fake.Ioctl(vm, 0xc0280099, &info, sizeof(info), 0), ENOSYS);
  EXPECT_THAT(fake.Mappings(), SizeIs(2));
  EXPECT_EQ(fake.RamBlocks(), 1u);
  ASSERT_EQ(set_ram(sizeof(info)), 0);  // unmaps the second mapping
  EXPECT_THAT(fake.Mappings(), SizeIs(1));
  EXPECT_EQ(fake.RamBlocks(), 1u) << "the first mapping still uses it";
  info.pa_start = kBase + kSize / 2;  // half of the first: it splits
  info.size = kSize / 2;
  ASSERT_EQ(set_ram(sizeof(info)), 0);
  ASSERT_THAT(fake.Mappings(), SizeIs(1));
  EXPECT_EQ(fake.Mappings()[0].size, kSize / 2);
  EXPECT_EQ(fake.RamBlocks(), 1u);
  info.pa_start = kBase;
  ASSERT_EQ(set_ram(sizeof(info)), 0);
  EXPECT_EQ(fake.RamBlocks(), 0u) << "the last mapping took the block along";
  EXPECT_EQ(fake.Close(vm), 0);
  EXPECT_EQ(fake.LiveVms(), 0u);
  EXPECT_EQ(fake.Close(hax), 0);
  EXPECT_EQ(fake.Close(hax), EBADF);
}

TEST(HaxmVm, BadInputIsRefusedBeforeTheDriver) {
  HaxmTestEnv env = NewHaxmVm();
  ASSERT_NE(env.vm, nullptr);
  EXPECT_THAT(env.vm->AddMemoryRegion(kBase, nullptr, {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(env.vm->AddMemoryRegion(kBase + 1, NewTestRegion(kSize), {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(env.vm->AddMemoryRegion(HaxmVm::kGuestAddressLimit - 0x1000,
                                      NewTestRegion(kSize), {}),
              StatusIs(absl::StatusCode::kOutOfRange));
  MemoryRegionOptions dirty;
  dirty.log_dirty_pages = true;
  EXPECT_THAT(env.vm->AddMemoryRegion(kBase, NewTestRegion(kSize), dirty),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("dirty page logging")));
  MemoryRegionOptions noncoherent;
  noncoherent.cache = MemCacheType::kCacheNonCoherent;
  EXPECT_THAT(env.vm->AddMemoryRegion(kBase, NewTestRegion(kSize), noncoherent),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("non-coherent")));
  ASSERT_OK(env.vm->AddMemoryRegion(kBase, NewTestRegion(kSize), {}).status());
  EXPECT_THAT(env.vm->AddMemoryRegion(kBase + kSize / 2, NewTestRegion(kSize), {}),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(env.vm->RemoveMemoryRegion(7),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("7")));
  EXPECT_THAT(env.fake->CallNames(), ElementsAre("HAX_VM_IOCTL_SET_RAM2"));
  EXPECT_THAT(env.vm->MemoryRegions(), SizeIs(1));
}

// Replacing pages of a mapping in place (MemoryRegion::MapFd) exists on
// Linux only (hypervisor/os/mmap_region.h), so these run there.
#ifndef HV_HAXM_TEST_NO_FD_REMAP
TEST(HaxmVm, FdMappingsRemapTheRegionSoHaxmDropsItsPins) {
  HaxmTestEnv env = NewHaxmVm();
  ASSERT_NE(env.vm, nullptr);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemoryRegion> arena,
                       MemoryRegion::CreateArena(kSize));
  const uint64_t host = reinterpret_cast<uintptr_t>(arena->data());
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       env.vm->AddMemoryRegion(kBase, std::move(arena), {}));
  ASSERT_OK_AND_ASSIGN(UniqueFd blob, CreateMemfd("blob", 0x1000));
  ASSERT_EQ(pwrite(blob.get(), "blob", 4, 0), 4);
  env.fake->ClearCalls();
  ASSERT_OK(env.vm->AddFdMapping(slot, 0x2000, 0x1000, blob.get(), 0,
                                 Protection::Read()));
  std::vector<haxm_abi::hax_set_ram_info2> calls = SetRamCalls(*env.fake);
  ASSERT_THAT(calls, SizeIs(2));
  EXPECT_EQ(calls[0].flags, haxm_abi::kRamInfoInvalid);
  EXPECT_EQ(calls[1].flags, haxm_abi::kRamInfoStandalone);
  EXPECT_EQ(calls[1].va, host);
  EXPECT_THAT(env.fake->GuestRead(kBase + 0x2000, 4),
              IsOkAndHolds(ElementsAre('b', 'l', 'o', 'b')));
  ASSERT_OK(env.vm->RemoveMapping(slot, 0x2000, 0x1000));
  EXPECT_THAT(env.fake->GuestRead(kBase + 0x2000, 4),
              IsOkAndHolds(ElementsAre(0, 0, 0, 0)));
  // Bad requests touch neither HAXM nor the region.
  env.fake->ClearCalls();
  EXPECT_THAT(env.vm->AddFdMapping(slot, 0x1000, 0x1000, -1, 0,
                                   Protection::Read()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(env.vm->AddFdMapping(slot, 0x800, 0x1000, blob.get(), 0,
                                   Protection::Read()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(env.vm->AddFdMapping(slot, kSize, 0x1000, blob.get(), 0,
                                   Protection::Read()),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(env.vm->RemoveMapping(slot + 1, 0, 0x1000),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(env.fake->Calls(), SizeIs(0));
}

TEST(HaxmVm, AFailedRemapIsReportedAndTheSlotNamed) {
  HaxmTestEnv env = NewHaxmVm();
  ASSERT_NE(env.vm, nullptr);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemoryRegion> arena,
                       MemoryRegion::CreateArena(kSize));
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       env.vm->AddMemoryRegion(kBase, std::move(arena), {}));
  ASSERT_OK_AND_ASSIGN(UniqueFd blob, CreateMemfd("blob", 0x1000));
  // The unmap fails: nothing changed.
  env.fake->FailNextIoctl("HAX_VM_IOCTL_SET_RAM2", ENOMEM);
  EXPECT_THAT(env.vm->AddFdMapping(slot, 0, 0x1000, blob.get(), 0,
                                   Protection::Read()),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("unmap")));
  EXPECT_THAT(env.fake->Mappings(), SizeIs(1));
  // The map after the swap fails once: retried, the region stays mapped.
  const size_t next = env.fake->call_count();
  env.fake->FailCall(next + 1, ENOMEM);
  EXPECT_OK(env.vm->AddFdMapping(slot, 0, 0x1000, blob.get(), 0,
                                 Protection::Read()));
  EXPECT_THAT(env.fake->Mappings(), SizeIs(1));
  // It fails twice: the slot is reported as no longer mapped.
  const size_t again = env.fake->call_count();
  env.fake->FailCall(again + 1, ENOMEM);
  env.fake->FailCall(again + 2, ENOMEM);
  EXPECT_THAT(env.vm->RemoveMapping(slot, 0, 0x1000),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("slot 0 is no longer mapped in HAXM")));
  EXPECT_THAT(env.fake->Mappings(), SizeIs(0));
  EXPECT_THAT(env.vm->MemoryRegions(), SizeIs(1));
  EXPECT_OK(env.vm->RemoveMemoryRegion(slot).status());
}
#endif  // HV_HAXM_TEST_NO_FD_REMAP

TEST(HaxmVm, WhatHaxmLacksIsUnimplementedNamingTheOperation) {
  HaxmTestEnv env = NewHaxmVm();
  ASSERT_NE(env.vm, nullptr);
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  EXPECT_THAT(env.vm->RegisterIoEvent(event, {}),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("register ioeventfd")));
  EXPECT_THAT(env.vm->UnregisterIoEvent(event, {}),
              StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(env.vm->RegisterIrqfd(event, 4),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("register irqfd")));
  EXPECT_THAT(env.vm->SetIrqLine(4, true),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("set irq line")));
  VmX86_64* x86 = env.vm->AsX86_64();
  ASSERT_NE(x86, nullptr);
  EXPECT_THAT(x86->CreateIrqChip(IrqChipKind::kKernel),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("create irqchip")));
  EXPECT_THAT(x86->GetClock(), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(x86->GetSupportedCpuid(),
              StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_OK(x86->SetTssAddress(0xfffbd000));
  ASSERT_OK_AND_ASSIGN(MemSlot slot, env.vm->AddMemoryRegion(kBase, NewTestRegion(kSize), {}));
  EXPECT_THAT(env.vm->GetDirtyLog(slot + 3),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(env.vm->GetDirtyLog(slot),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("get dirty log")));
  EXPECT_FALSE(env.vm->CheckCapability(VmCap::kDirtyLog));
  EXPECT_FALSE(env.vm->CheckCapability(VmCap::kIrqfd));
  EXPECT_FALSE(env.vm->CheckCapability(VmCap::kIoEventfd));
}

}  // namespace
}  // namespace hv::testing
