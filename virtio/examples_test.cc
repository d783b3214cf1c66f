// The Example block of each header in virtio/ (and virtio/fuzz/), pasted as
// it stands there under a line naming the header (tools/examples_check.sh),
// so an example that no longer matches the API stops the build. They run on
// a FakeVm, except the PCI bus's, which answers a vCPU's exit and is
// compiled only.
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/memory.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/os/unique_fd.h"
#include "hypervisor/vcpu.h"
#include "hypervisor/vcpu_exit.h"
#include "hypervisor/vm.h"
#include "testing/fakes/fake_vm.h"
#include "testing/status_matchers.h"
#include "virtio/bar_allocator.h"
#include "virtio/fuzz/fuzz_input.h"
#include "virtio/pci_bus.h"
#include "virtio/pci_config_space.h"
#include "virtio/pci_device.h"
#include "virtio/shared_memory.h"
#include "virtio/virtio_device.h"
#include "virtio/virtio_pci_cap.h"
#include "virtio/virtio_pci_device.h"
#include "virtio/vm_memory_service.h"

namespace hv::virtio {
namespace {

using ::hv::testing::FakeVm;
using ::hv::testing::IsOk;
using ::hv::testing::IsOkAndHolds;

// virtio/virtio_device.h
class GpuDevice : public hv::virtio::VirtioDevice {
 public:
  uint16_t DeviceType() const override { return 16; }  // virtio-gpu
  std::optional<hv::virtio::SharedMemoryInfo> SharedMemoryRegion()
      const override { return hv::virtio::SharedMemoryInfo{1, 1 << 30}; }
  void SetSharedMemoryMapper(
      std::unique_ptr<hv::virtio::SharedMemoryMapper> m) override {
    mapper_ = std::move(m);
  }
  // For the test: whether the transport handed over a mapper.
  bool has_mapper() const { return mapper_ != nullptr; }
 private:
  std::unique_ptr<hv::virtio::SharedMemoryMapper> mapper_;
};

// virtio/vm_memory_service.h
absl::StatusOr<std::unique_ptr<VmMemoryService>> VmMemoryServiceExample(
    hv::Vm* vm, GpuDevice* device, uint64_t bar_address, uint64_t bar_size) {
  ASSIGN_OR_RETURN(auto service, hv::virtio::VmMemoryService::Create(vm));
  ASSIGN_OR_RETURN(hv::virtio::VmMemoryService::RegionId id,
                   service->RegisterRegion(bar_address, bar_size,
                                           device->SharedMemoryPrepareType()));
  ASSIGN_OR_RETURN(auto mapper, service->CreateMapper(id));
  device->SetSharedMemoryMapper(std::move(mapper));
  return service;
}

TEST(VirtioExamples, VirtioDeviceAndVmMemoryService) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeVm> vm, FakeVm::Create());
  GpuDevice gpu;
  ASSERT_OK_AND_ASSIGN(auto service, VmMemoryServiceExample(
                                         vm.get(), &gpu, uint64_t{1} << 32,
                                         uint64_t{1} << 30));
  EXPECT_TRUE(gpu.has_mapper());
}

// virtio/shared_memory.h
absl::Status SharedMemoryExample(hv::virtio::SharedMemoryMapper* mapper) {
  ASSIGN_OR_RETURN(hv::UniqueFd blob, hv::CreateMemfd("blob", 0x10000));
  RETURN_IF_ERROR(mapper->AddMapping(
      hv::virtio::MappingSource::Fd(blob.get(), 0, 0x10000), 0x200000,
      hv::Protection::ReadWrite(), hv::MemCacheType::kCacheCoherent));
  // ...
  RETURN_IF_ERROR(mapper->RemoveMapping(0x200000));
  return absl::OkStatus();
}

TEST(VirtioExamples, SharedMemory) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeVm> vm, FakeVm::Create());
  ASSERT_OK_AND_ASSIGN(auto service, VmMemoryService::Create(vm.get()));
  ASSERT_OK_AND_ASSIGN(VmMemoryService::RegionId id,
                       service->RegisterRegion(
                           uint64_t{1} << 32, 16 << 20,
                           PrepareType::SingleMappingOnFirst(
                               MemCacheType::kCacheCoherent)));
  ASSERT_OK_AND_ASSIGN(auto mapper, service->CreateMapper(id));
  EXPECT_THAT(SharedMemoryExample(mapper.get()), IsOk());
  EXPECT_THAT(service->GetMappings(id),
              IsOkAndHolds(::testing::IsEmpty()));
  // The first mapping prepared the region: one arena in the Vm.
  EXPECT_EQ(vm->MemoryRegions().size(), 1u);
}

// virtio/bar_allocator.h
absl::StatusOr<uint64_t> BarAllocatorExample(const SharedMemoryInfo& shm) {
  ASSIGN_OR_RETURN(auto bars, hv::virtio::BarAllocator::Create(
                                  uint64_t{1} << 32, uint64_t{1} << 34));
  ASSIGN_OR_RETURN(uint64_t address,
                   bars->Allocate(hv::virtio::BarSizeFor(shm.length)));
  return address;
}

TEST(VirtioExamples, BarAllocator) {
  EXPECT_THAT(BarAllocatorExample(SharedMemoryInfo{1, 3 << 20}),
              IsOkAndHolds(uint64_t{1} << 32));
}

// virtio/virtio_pci_device.h
absl::StatusOr<std::unique_ptr<VirtioPciDevice>> VirtioPciDeviceExample(
    GpuDevice& gpu, const std::unique_ptr<BarAllocator>& bar_allocator,
    const std::unique_ptr<VmMemoryService>& service,
    const std::unique_ptr<PciBus>& bus) {
  ASSIGN_OR_RETURN(auto pci, hv::virtio::VirtioPciDevice::Create(
                                 &gpu, bar_allocator.get(), service.get()));
  RETURN_IF_ERROR(bus->AddDevice(1, 0, pci.get()));
  hv::snapshot::ByteWriter out;
  pci->SaveState(out);  // between runs
  if (out.bytes().size() != 4 + 4 + 256 + 8) return absl::InternalError("state size");
  return pci;
}

// Register `offset` of bus 0's `device`, read as a guest does: the address
// to CONFIG_ADDRESS, then a dword from CONFIG_DATA.
uint32_t ReadConfig(PciBus& bus, uint8_t device, uint8_t offset) {
  const uint32_t address = MakePciConfigAddress(0, device, 0, offset);
  bus.Write(kPciConfigAddressPort,
            absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(&address), 4));
  uint32_t value = 0;
  bus.Read(kPciConfigDataPort,
           absl::MakeSpan(reinterpret_cast<uint8_t*>(&value), 4));
  return value;
}

// virtio/pci_bus.h
// Compiled, not run: it answers a vCPU's exit.
absl::Status PciBusExample(hv::Vcpu* vcpu, hv::virtio::PciDevice& virtio) {
  ASSIGN_OR_RETURN(auto bus, hv::virtio::PciBus::Create());
  RETURN_IF_ERROR(bus->AddDevice(/*device=*/1, /*function=*/0, &virtio));
  // In the vCPU loop, on a kIo exit:
  RETURN_IF_ERROR(vcpu->HandleIo([&](hv::IoRequest& io) {
    bus->HandleIo(io);
  }));
  hv::snapshot::ByteWriter out;
  bus->SaveState(out);  // between runs
  return absl::OkStatus();
}

TEST(VirtioExamples, VirtioPciDeviceAndPciBus) {
  EXPECT_NE(&PciBusExample, nullptr);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeVm> vm, FakeVm::Create());
  ASSERT_OK_AND_ASSIGN(auto service, VmMemoryService::Create(vm.get()));
  ASSERT_OK_AND_ASSIGN(auto bars, BarAllocator::Create(uint64_t{1} << 32,
                                                       uint64_t{1} << 34));
  ASSERT_OK_AND_ASSIGN(auto bus, PciBus::Create());
  GpuDevice gpu;
  ASSERT_OK_AND_ASSIGN(auto pci,
                       VirtioPciDeviceExample(gpu, bars, service, bus));
  EXPECT_TRUE(gpu.has_mapper());
  // Device 1: virtio's vendor id, and 0x1040 plus the device type.
  EXPECT_EQ(ReadConfig(*bus, 1, 0), (uint32_t{0x1040 + 16} << 16) | 0x1af4);
}

// virtio/pci_config_space.h
absl::StatusOr<std::unique_ptr<PciConfigSpace>> PciConfigSpaceExample(
    const PciIds& ids, const std::vector<uint8_t>& cap_bytes,
    uint32_t* size_mask_out) {
  ASSIGN_OR_RETURN(auto config, hv::virtio::PciConfigSpace::Create(ids));
  RETURN_IF_ERROR(config->AddMemoryBar64(2, 1 << 30, /*prefetchable=*/true,
                                         0x100000000));
  ASSIGN_OR_RETURN(uint8_t offset, config->AddCapability(cap_bytes));
  config->Write(0x18, 4, 0xffffffff);      // size BAR 2's low half
  uint32_t size_mask = config->ReadRegister(0x18 / 4);
  hv::snapshot::ByteWriter out;
  config->SaveState(out);
  (void)offset;
  *size_mask_out = size_mask;
  return config;
}

// virtio/virtio_pci_cap.h
absl::StatusOr<uint8_t> VirtioPciCapExample(PciConfigSpace* config) {
  VirtioPciCap64 cap = MakeSharedMemoryCap(/*bar=*/2, /*shmid=*/1,
                                           /*offset=*/0, 1 << 30);
  ASSIGN_OR_RETURN(uint8_t at, config->AddCapability(CapBytes(cap)));
  return at;
}

TEST(VirtioExamples, PciConfigSpaceAndVirtioPciCap) {
  uint32_t size_mask = 0;
  const std::vector<uint8_t> vendor_cap = {kPciCapIdVendorSpecific, 0, 4, 0};
  ASSERT_OK_AND_ASSIGN(
      auto config,
      PciConfigSpaceExample(PciIds{0x1af4, 0x1050}, vendor_cap, &size_mask));
  // Address bits below 1 GiB read as zero; prefetchable (bit 3), 64-bit (2).
  EXPECT_EQ(size_mask, 0xc000000cu);
  ASSERT_OK_AND_ASSIGN(uint8_t at, VirtioPciCapExample(config.get()));
  EXPECT_EQ(config->ReadRegister(at / 4) & 0xff, kPciCapIdVendorSpecific);
}

// virtio/pci_device.h
class MyDevice : public hv::virtio::PciDevice {
  uint32_t ReadConfigRegister(uint32_t index) override;
  void WriteConfig(uint32_t offset, uint32_t size, uint32_t value) override;
};
uint32_t MyDevice::ReadConfigRegister(uint32_t index) {
  return index == 0 ? 0x12341af4 : 0;
}
void MyDevice::WriteConfig(uint32_t, uint32_t, uint32_t) {}

TEST(VirtioExamples, PciDevice) {
  MyDevice device;
  ASSERT_OK_AND_ASSIGN(auto bus, PciBus::Create());
  ASSERT_THAT(bus->AddDevice(3, 0, &device), IsOk());
  EXPECT_EQ(ReadConfig(*bus, 3, 0), 0x12341af4u);
}

// virtio/fuzz/fuzz_input.h
std::vector<uint16_t> FuzzInputExample(const uint8_t* data, size_t size) {
  std::vector<uint16_t> seen;
  FuzzInput in(data, size);
  while (!in.done()) {
    switch (in.Byte() % 3) {
      case 0: seen.push_back(in.U16()); break;
      default: break;
    }
  }
  return seen;
}

TEST(VirtioExamples, FuzzInput) {
  const uint8_t data[] = {0, 0x34, 0x12, 1, 3, 0x01};  // the last U16 runs out
  EXPECT_THAT(FuzzInputExample(data, sizeof(data)),
              ::testing::ElementsAre(0x1234, 0x0001));
}

}  // namespace
}  // namespace hv::virtio
