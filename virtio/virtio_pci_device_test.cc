#include "virtio/fake_virtio_device.h"
#include "virtio/virtio_pci_device.h"

#include <unistd.h>

#include <cstring>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/mmap_region.h"
#include "testing/fakes/fake_vm.h"
#include "testing/status_matchers.h"
#include "virtio/pci_bus.h"
#include "virtio/virtio_pci_cap.h"

namespace hv::virtio {
namespace {

using ::hv::testing::FakeVm;
using ::hv::testing::IsOkAndHolds;
using ::hv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using Method = FakeVm::Method;

constexpr uint64_t kWindow = uint64_t{1} << 32;
constexpr uint64_t kShmLength = 3 << 20;  // BAR: 4 MiB
constexpr uint64_t kBarSize = 4 << 20;

using TestDevice = FakeVirtioDevice;

struct Env {
  std::unique_ptr<FakeVm> vm;
  std::unique_ptr<VmMemoryService> service;
  std::unique_ptr<BarAllocator> bars;
  std::unique_ptr<PciBus> bus;
};

Env MakeEnv() {
  Env env;
  env.vm = *FakeVm::Create();
  env.service = *VmMemoryService::Create(env.vm.get());
  env.bars = *BarAllocator::Create(kWindow, uint64_t{1} << 32);
  env.bus = *PciBus::Create();
  return env;
}

// `device` as a virtio PCI device on `env`'s BAR allocator and memory
// service (not yet on the bus).
absl::StatusOr<std::unique_ptr<VirtioPciDevice>> NewPci(Env& env,
                                                        TestDevice& device) {
  return VirtioPciDevice::Create(&device, env.bars.get(), env.service.get());
}

UniqueFd Blob(uint8_t fill) {
  absl::StatusOr<UniqueFd> fd = CreateMemfd("blob", HostPageSize());
  EXPECT_THAT(fd, ::hv::testing::IsOk());
  std::vector<uint8_t> bytes(HostPageSize(), fill);
  EXPECT_EQ(::pwrite(fd->get(), bytes.data(), bytes.size(), 0),
            static_cast<ssize_t>(bytes.size()));
  return *std::move(fd);
}

// Guest-side configuration accesses through CF8/CFC.
uint32_t ConfigRead(PciBus& bus, uint8_t device, uint8_t offset) {
  uint8_t data[4];
  const uint32_t address = MakePciConfigAddress(0, device, 0, offset);
  std::memcpy(data, &address, 4);
  bus.Write(kPciConfigAddressPort, absl::MakeConstSpan(data));
  bus.Read(kPciConfigDataPort, absl::MakeSpan(data));
  uint32_t value;
  std::memcpy(&value, data, 4);
  return value;
}
void ConfigWrite(PciBus& bus, uint8_t device, uint8_t offset, uint32_t value) {
  uint8_t data[4];
  const uint32_t address = MakePciConfigAddress(0, device, 0, offset);
  std::memcpy(data, &address, 4);
  bus.Write(kPciConfigAddressPort, absl::MakeConstSpan(data));
  std::memcpy(data, &value, 4);
  bus.Write(kPciConfigDataPort, absl::MakeConstSpan(data));
}

TEST(VirtioPciDevice, ConfigSpaceExposesTheSharedMemoryBarAndCapability) {
  Env env = MakeEnv();
  TestDevice device(SharedMemoryInfo{5, kShmLength}, PrepareType(), false);
  ASSERT_OK_AND_ASSIGN(auto pci, NewPci(env, device));
  ASSERT_OK(env.bus->AddDevice(1, 0, pci.get()));
  EXPECT_EQ(ConfigRead(*env.bus, 1, 0x00), 0x10501af4u);  // 0x1040 + 16
  EXPECT_EQ(ConfigRead(*env.bus, 1, 0x08) & 0xff, 1u);    // revision
  EXPECT_EQ(pci->shared_memory_bar_size(), kBarSize);
  EXPECT_EQ(pci->shared_memory_address(), kWindow);
  // BAR 2/3: 64-bit prefetchable memory at the allocated address.
  EXPECT_EQ(ConfigRead(*env.bus, 1, 0x18), 0x0000000cu);
  EXPECT_EQ(ConfigRead(*env.bus, 1, 0x1c), 0x00000001u);

  // Walk the capability list from the capability pointer.
  ASSERT_NE(ConfigRead(*env.bus, 1, 0x04) & (uint32_t{1} << 20), 0u);
  uint8_t at = ConfigRead(*env.bus, 1, 0x34) & 0xfc;
  uint8_t found = 0;
  while (at != 0) {
    const uint32_t header = ConfigRead(*env.bus, 1, at);
    if ((header & 0xff) == kPciCapIdVendorSpecific && header >> 24 == 8) {
      found = at;
      break;
    }
    at = (header >> 8) & 0xfc;
  }
  ASSERT_NE(found, 0);
  EXPECT_EQ((ConfigRead(*env.bus, 1, found) >> 16) & 0xff, 24u);
  const uint32_t bar_id = ConfigRead(*env.bus, 1, found + 4);
  EXPECT_EQ(bar_id & 0xff, 2u);
  EXPECT_EQ((bar_id >> 8) & 0xff, 5u);
  EXPECT_EQ(ConfigRead(*env.bus, 1, found + 8), 0u);           // offset
  EXPECT_EQ(ConfigRead(*env.bus, 1, found + 16), 0u);          // offset_hi
  EXPECT_EQ(ConfigRead(*env.bus, 1, found + 12), kShmLength);  // length
  EXPECT_EQ(ConfigRead(*env.bus, 1, found + 20), 0u);          // length_hi

  // Sizing through CF8/CFC.
  ConfigWrite(*env.bus, 1, 0x18, 0xffffffff);
  ConfigWrite(*env.bus, 1, 0x1c, 0xffffffff);
  EXPECT_EQ(ConfigRead(*env.bus, 1, 0x18), ~uint32_t(kBarSize - 1) | 0xc);
  EXPECT_EQ(ConfigRead(*env.bus, 1, 0x1c), 0xffffffffu);
}

TEST(VirtioPciDevice, DeviceMapsThroughTheBarWithItsPrepareType) {
  Env env = MakeEnv();
  TestDevice device(SharedMemoryInfo{0, kShmLength}, PrepareType(), false);
  ASSERT_OK_AND_ASSIGN(auto pci, NewPci(env, device));
  ASSERT_NE(device.mapper(), nullptr);
  UniqueFd blob = Blob(0x77);
  ASSERT_OK(device.mapper()->AddMapping(
      MappingSource::Fd(blob.get(), 0, HostPageSize()), HostPageSize(),
      Protection::ReadWrite(), MemCacheType::kCacheCoherent));
  std::vector<FakeVm::Call> adds = env.vm->CallsOf(Method::kAddMemoryRegion);
  ASSERT_THAT(adds, SizeIs(1));
  EXPECT_EQ(adds[0].guest_address, kWindow);
  EXPECT_EQ(adds[0].size, kBarSize);
  EXPECT_THAT(env.vm->ReadGuest(kWindow + HostPageSize(), 1),
              IsOkAndHolds(ElementsAre(0x77)));
}

TEST(VirtioPciDevice, ViommuForcesDynamicPerMapping) {
  Env env = MakeEnv();
  TestDevice device(SharedMemoryInfo{0, kShmLength}, PrepareType(), true);
  ASSERT_OK_AND_ASSIGN(auto pci, NewPci(env, device));
  EXPECT_EQ(pci->prepare_type(), PrepareType::DynamicPerMapping());
  UniqueFd blob = Blob(0x12);
  ASSERT_OK(device.mapper()->AddMapping(
      MappingSource::Fd(blob.get(), 0, HostPageSize()), 0, Protection::Read(),
      MemCacheType::kCacheCoherent));
  std::vector<FakeVm::Call> adds = env.vm->CallsOf(Method::kAddMemoryRegion);
  ASSERT_THAT(adds, SizeIs(1));
  EXPECT_EQ(adds[0].size, HostPageSize());
}

TEST(VirtioPciDevice, ReprogrammingTheBarMovesThePreparedRegion) {
  Env env = MakeEnv();
  TestDevice device(SharedMemoryInfo{0, kShmLength}, PrepareType(), false);
  ASSERT_OK_AND_ASSIGN(auto pci, NewPci(env, device));
  ASSERT_OK(env.bus->AddDevice(1, 0, pci.get()));
  UniqueFd blob = Blob(0x99);
  ASSERT_OK(device.mapper()->AddMapping(
      MappingSource::Fd(blob.get(), 0, HostPageSize()), 2 * HostPageSize(),
      Protection::ReadWrite(), MemCacheType::kCacheCoherent));
  env.vm->ClearCalls();

  // Decoding off: sizing and programming move nothing.
  ConfigWrite(*env.bus, 1, 0x18, 0xffffffff);
  ConfigWrite(*env.bus, 1, 0x1c, 0xffffffff);
  constexpr uint64_t kNew = uint64_t{0x3} << 32 | 0x00c00000;
  ConfigWrite(*env.bus, 1, 0x18, static_cast<uint32_t>(kNew));
  ConfigWrite(*env.bus, 1, 0x1c, static_cast<uint32_t>(kNew >> 32));
  EXPECT_THAT(env.vm->Calls(), IsEmpty());
  EXPECT_EQ(pci->shared_memory_address(), kWindow);

  // Decoding on: the region moves (remove + re-add), mappings preserved.
  ConfigWrite(*env.bus, 1, 0x04, kPciCommandMemorySpace);
  std::vector<FakeVm::Call> calls = env.vm->Calls();
  ASSERT_THAT(calls, SizeIs(2));
  EXPECT_EQ(calls[0].method, Method::kRemoveMemoryRegion);
  EXPECT_EQ(calls[0].guest_address, kWindow);
  EXPECT_EQ(calls[1].method, Method::kAddMemoryRegion);
  EXPECT_EQ(calls[1].guest_address, kNew);
  EXPECT_EQ(calls[1].size, kBarSize);
  EXPECT_OK(pci->last_move_status());
  EXPECT_EQ(pci->shared_memory_address(), kNew);
  EXPECT_THAT(env.vm->ReadGuest(kNew + 2 * HostPageSize(), 1),
              IsOkAndHolds(ElementsAre(0x99)));
  EXPECT_THAT(env.vm->ReadGuest(kWindow + 2 * HostPageSize(), 1),
              StatusIs(absl::StatusCode::kNotFound));

  // Sizing with decoding on: the all-ones address is refused, nothing moves.
  env.vm->ClearCalls();
  ConfigWrite(*env.bus, 1, 0x1c, 0xffffffff);
  EXPECT_THAT(pci->last_move_status(),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_EQ(pci->shared_memory_address(), kNew);
  EXPECT_THAT(env.vm->Calls(), IsEmpty());
  // Programming it back while decoding moves it again.
  ConfigWrite(*env.bus, 1, 0x1c, 0);
  ConfigWrite(*env.bus, 1, 0x18, static_cast<uint32_t>(kWindow));
  ConfigWrite(*env.bus, 1, 0x1c, static_cast<uint32_t>(kWindow >> 32));
  EXPECT_OK(pci->last_move_status());
  EXPECT_EQ(pci->shared_memory_address(), kWindow);
  EXPECT_THAT(env.vm->ReadGuest(kWindow + 2 * HostPageSize(), 1),
              IsOkAndHolds(ElementsAre(0x99)));
}

TEST(VirtioPciDevice, DeviceWithoutSharedMemoryHasNoBarOrCapability) {
  Env env = MakeEnv();
  TestDevice device(std::nullopt, PrepareType(), false);
  ASSERT_OK_AND_ASSIGN(auto pci, NewPci(env, device));
  EXPECT_EQ(pci->shared_memory_region(), std::nullopt);
  EXPECT_EQ(device.mapper(), nullptr);
  EXPECT_EQ(pci->ReadConfigRegister(6), 0u);
  EXPECT_EQ(pci->ReadConfigRegister(0x34 / 4), 0u);
  EXPECT_THAT(VirtioPciDevice::Create(nullptr, env.bars.get(),
                                      env.service.get()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(VirtioPciDevice, DestructionReleasesTheRegionAndTheBar) {
  Env env = MakeEnv();
  TestDevice device(SharedMemoryInfo{0, kShmLength}, PrepareType(), false);
  {
    ASSERT_OK_AND_ASSIGN(auto pci, NewPci(env, device));
    UniqueFd blob = Blob(1);
    ASSERT_OK(device.mapper()->AddMapping(
        MappingSource::Fd(blob.get(), 0, HostPageSize()), 0,
        Protection::Read(), MemCacheType::kCacheCoherent));
  }
  EXPECT_THAT(env.vm->MemoryRegions(), IsEmpty());
  // The mapper outlives the transport: its requests now fail cleanly.
  EXPECT_THAT(device.mapper()->RemoveMapping(0),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(env.bars->Allocate(kBarSize), IsOkAndHolds(kWindow));
}

std::vector<uint8_t> Save(const VirtioPciDevice& pci) {
  snapshot::ByteWriter out;
  pci.SaveState(out);
  return out.Take();
}

absl::Status Restore(VirtioPciDevice& pci, const std::vector<uint8_t>& bytes) {
  snapshot::ByteReader in(bytes, "virtio");
  absl::Status status = pci.RestoreState(in);
  return status.ok() ? in.Done() : status;
}

// A snapshot's device, restored on a new machine (a new service and
// allocator): the registers come back and the region moves where the guest
// had put it.
TEST(VirtioPciDevice, RestoreMovesTheRegionWhereTheGuestPutIt) {
  Env env = MakeEnv();
  TestDevice device(SharedMemoryInfo{0, kShmLength}, PrepareType(), false);
  ASSERT_OK_AND_ASSIGN(auto pci, NewPci(env, device));
  ASSERT_OK(env.bus->AddDevice(1, 0, pci.get()));
  constexpr uint64_t kNew = uint64_t{0x3} << 32 | 0x00c00000;
  ConfigWrite(*env.bus, 1, 0x18, static_cast<uint32_t>(kNew));
  ConfigWrite(*env.bus, 1, 0x1c, static_cast<uint32_t>(kNew >> 32));
  ConfigWrite(*env.bus, 1, 0x04, kPciCommandMemorySpace | kPciCommandBusMaster);
  ConfigWrite(*env.bus, 1, 0x3c, 0x0a);
  ASSERT_EQ(pci->shared_memory_address(), kNew);

  Env other = MakeEnv();
  TestDevice restored_device(SharedMemoryInfo{0, kShmLength}, PrepareType(), false);
  ASSERT_OK_AND_ASSIGN(auto restored, NewPci(other, restored_device));
  ASSERT_OK(other.bus->AddDevice(1, 0, restored.get()));
  ASSERT_EQ(restored->shared_memory_address(), kWindow);
  other.vm->ClearCalls();
  ASSERT_OK(Restore(*restored, Save(*pci)));
  EXPECT_EQ(restored->shared_memory_address(), kNew);
  EXPECT_EQ(Save(*restored), Save(*pci));
  for (uint8_t offset : {0x04, 0x18, 0x1c, 0x3c}) {
    EXPECT_EQ(ConfigRead(*other.bus, 1, offset), ConfigRead(*env.bus, 1, offset))
        << "register " << int{offset};
  }
  // A mapping made after the restore lands at the restored address.
  UniqueFd blob = Blob(0x42);
  ASSERT_OK(restored_device.mapper()->AddMapping(
      MappingSource::Fd(blob.get(), 0, HostPageSize()), 0, Protection::Read(),
      MemCacheType::kCacheCoherent));
  EXPECT_THAT(other.vm->ReadGuest(kNew, 1), IsOkAndHolds(ElementsAre(0x42)));
}

TEST(VirtioPciDevice, BadStateIsRefusedAndChangesNothing) {
  Env env = MakeEnv();
  TestDevice device(SharedMemoryInfo{0, kShmLength}, PrepareType(), false);
  ASSERT_OK_AND_ASSIGN(auto pci, NewPci(env, device));
  const std::vector<uint8_t> good = Save(*pci);
  TestDevice net(SharedMemoryInfo{0, kShmLength}, PrepareType(), false, /*device_type=*/1);
  ASSERT_OK_AND_ASSIGN(auto other_type, NewPci(env, net));
  TestDevice no_shm(std::nullopt, PrepareType(), false);
  ASSERT_OK_AND_ASSIGN(auto without_region, NewPci(env, no_shm));
  env.vm->ClearCalls();

  // The placed address is the last 8 bytes.
  auto with_placed = [&](uint64_t address) {
    std::vector<uint8_t> bytes = good;
    for (int i = 0; i < 8; ++i) bytes[bytes.size() - 8 + i] = (address >> (8 * i)) & 0xff;
    return bytes;
  };
  std::vector<uint8_t> version = good;
  version[0] = 3;
  struct Case {
    std::vector<uint8_t> bytes;
    absl::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {std::vector<uint8_t>(good.begin(), good.end() - 1), absl::StatusCode::kDataLoss,
       "placed address needs 8 bytes"},
      {version, absl::StatusCode::kFailedPrecondition, "version 3"},
      {with_placed(kWindow + kBarSize / 2), absl::StatusCode::kDataLoss,
       "not a non-zero multiple of its BAR's size 0x400000"},
      {with_placed(0), absl::StatusCode::kDataLoss, "not a non-zero multiple"},
      // A range the service refuses: past the guest's addresses.
      {with_placed(~(kBarSize - 1)), absl::StatusCode::kOutOfRange, "moving the region"},
      {Save(*other_type), absl::StatusCode::kFailedPrecondition, "another function"},
  };
  const std::vector<uint8_t> before = Save(*pci);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    EXPECT_THAT(Restore(*pci, c.bytes), StatusIs(c.code, ::testing::HasSubstr(c.message)));
    EXPECT_EQ(Save(*pci), before);
    EXPECT_EQ(pci->shared_memory_address(), kWindow);
  }
  EXPECT_THAT(env.vm->Calls(), IsEmpty());
  // A device without a region takes no placed address.
  EXPECT_THAT(Restore(*without_region, good),
              StatusIs(absl::StatusCode::kFailedPrecondition));  // its registers differ
}

}  // namespace
}  // namespace hv::virtio
