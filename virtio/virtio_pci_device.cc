#include "virtio/virtio_pci_device.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"
#include "virtio/virtio_pci_cap.h"

namespace hv::virtio {
namespace {

// SaveState's record: u32 version, PciConfigSpace's record, u64 the
// region's placed address (0 without a region).
constexpr uint32_t kStateVersion = 1;

}  // namespace

absl::StatusOr<std::unique_ptr<VirtioPciDevice>> VirtioPciDevice::Create(
    VirtioDevice* device, BarAllocator* bars, VmMemoryService* service) {
  if (device == nullptr || bars == nullptr || service == nullptr) {
    return absl::InvalidArgumentError(
        "VirtioPciDevice needs a device, a BAR allocator and a memory service");
  }
  PciIds ids;
  ids.vendor_id = kVirtioPciVendorId;
  ids.device_id =
      static_cast<uint16_t>(kVirtioPciDeviceIdBase + device->DeviceType());
  ids.revision = kVirtioPciRevision;
  ids.subsystem_vendor_id = kVirtioPciVendorId;
  ids.subsystem_id = ids.device_id;
  ids.class_code = 0xff;  // unassigned class (PCI Code and ID Assignment)
  ASSIGN_OR_RETURN(std::unique_ptr<PciConfigSpace> config,
                   PciConfigSpace::Create(ids));

  const std::optional<SharedMemoryInfo> shm = device->SharedMemoryRegion();
  if (!shm) {
    return std::unique_ptr<VirtioPciDevice>(
        new VirtioPciDevice(std::move(config), bars, service, std::nullopt,
                            PrepareType(), 0, 0));
  }
  const uint64_t bar_size = BarSizeFor(shm->length);
  if (bar_size == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "shared memory region %u has unusable length %#x", shm->id,
        shm->length));
  }
  ASSIGN_OR_RETURN(uint64_t bar_address, bars->Allocate(bar_size));
  const PrepareType prepare = device->ExposeSharedMemoryWithViommu()
                                  ? PrepareType::DynamicPerMapping()
                                  : device->SharedMemoryPrepareType();
  auto setup = [&]() -> absl::StatusOr<VmMemoryService::RegionId> {
    RETURN_IF_ERROR(config->AddMemoryBar64(kSharedMemoryBar, bar_size,
                                           /*prefetchable=*/true,
                                           bar_address));
    RETURN_IF_ERROR(config
                        ->AddCapability(CapBytes(MakeSharedMemoryCap(
                            kSharedMemoryBar, shm->id, 0, shm->length)))
                        .status());
    return service->RegisterRegion(bar_address, bar_size, prepare);
  };
  absl::StatusOr<VmMemoryService::RegionId> region_id = setup();
  if (!region_id.ok()) {
    bars->Free(bar_address).IgnoreError();
    return region_id.status();
  }
  absl::StatusOr<std::unique_ptr<SharedMemoryMapper>> mapper =
      service->CreateMapper(*region_id);
  if (!mapper.ok()) {
    service->UnregisterRegion(*region_id).IgnoreError();
    bars->Free(bar_address).IgnoreError();
    return mapper.status();
  }
  std::unique_ptr<VirtioPciDevice> pci(
      new VirtioPciDevice(std::move(config), bars, service, *region_id,
                          prepare, bar_address, bar_size));
  device->SetSharedMemoryMapper(*std::move(mapper));
  return pci;
}

VirtioPciDevice::~VirtioPciDevice() {
  if (region_id_) {
    service_->UnregisterRegion(*region_id_).IgnoreError();
    bars_->Free(allocated_address_).IgnoreError();
  }
}

uint32_t VirtioPciDevice::ReadConfigRegister(uint32_t index) {
  std::lock_guard<std::mutex> lock(mu_);
  return config_->ReadRegister(index);
}

void VirtioPciDevice::WriteConfig(uint32_t offset, uint32_t size,
                                  uint32_t value) {
  std::lock_guard<std::mutex> lock(mu_);
  config_->Write(offset, size, value);
  if (!region_id_ || !config_->MemorySpaceEnabled()) return;
  const std::optional<uint64_t> programmed =
      config_->BarAddress(kSharedMemoryBar);
  if (!programmed || *programmed == placed_address_) return;
  last_move_status_ = service_->MoveRegion(*region_id_, *programmed);
  if (last_move_status_.ok()) placed_address_ = *programmed;
}

uint64_t VirtioPciDevice::shared_memory_address() const {
  std::lock_guard<std::mutex> lock(mu_);
  return placed_address_;
}

absl::Status VirtioPciDevice::last_move_status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_move_status_;
}

void VirtioPciDevice::SaveState(snapshot::ByteWriter& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  out.Put32(kStateVersion);
  config_->SaveState(out);
  out.Put64(region_id_ ? placed_address_ : 0);
}

absl::StatusOr<uint64_t> VirtioPciDevice::ReadState(snapshot::ByteReader& in) const {
  RETURN_IF_ERROR(in.ExpectVersion(kStateVersion, "virtio PCI device state"));
  RETURN_IF_ERROR(config_->CheckState(in));
  ASSIGN_OR_RETURN(uint64_t placed, in.Get64("placed address"));
  if (!region_id_ && placed != 0) {
    return absl::DataLossError(absl::StrFormat(
        "virtio PCI device state: region placed at %#x; this device has no region",
        placed));
  }
  if (region_id_ && (placed == 0 || placed % bar_size_ != 0)) {
    return absl::DataLossError(absl::StrFormat(
        "virtio PCI device state: region placed at %#x, not a non-zero multiple of "
        "its BAR's size %#x",
        placed, bar_size_));
  }
  return placed;
}

absl::Status VirtioPciDevice::CheckState(snapshot::ByteReader& in) const {
  std::lock_guard<std::mutex> lock(mu_);
  return ReadState(in).status();
}

absl::Status VirtioPciDevice::RestoreState(snapshot::ByteReader& in) {
  std::lock_guard<std::mutex> lock(mu_);
  snapshot::ByteReader probe = in;
  ASSIGN_OR_RETURN(uint64_t placed, ReadState(probe));
  if (region_id_ && placed != placed_address_) {
    if (absl::Status moved = service_->MoveRegion(*region_id_, placed); !moved.ok()) {
      return absl::Status(moved.code(),
                          absl::StrFormat("virtio PCI device state: moving the region to "
                                          "%#x: %s",
                                          placed, moved.message()));
    }
    placed_address_ = placed;
  }
  // The same bytes as `probe` read: none of this can fail now.
  RETURN_IF_ERROR(in.Get32("version").status());
  RETURN_IF_ERROR(config_->RestoreState(in));
  return in.Get64("placed address").status();
}

}  // namespace hv::virtio
