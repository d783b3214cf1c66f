// VirtioPciDevice: the PCI face of a virtio device's shared memory: a type 0
// configuration space with the virtio ids (virtio 1.2 §4.1.2), a 64-bit
// prefetchable memory BAR holding the shared-memory region (sized to the
// next power of two and placed by a BarAllocator), and the shared-memory
// capability (§4.1.4.7) naming that BAR, offset 0 and the region's length.
//
// At creation the region is registered with the VmMemoryService at the
// BAR's address, with the device's PrepareType (DynamicPerMapping when the
// device exposes its shared memory through a virtual IOMMU), and the device
// gets its SharedMemoryMapper. When the guest programs the BAR to another
// address while memory decoding is on (command register bit 1), or turns
// decoding on with the BAR at another address, the region moves there
// (VmMemoryService::MoveRegion: the prepared arena is removed and re-added,
// mappings preserved). A move the service refuses (e.g. the all-ones sizing
// pattern written with decoding on) leaves the region where it was; see
// last_move_status(). The virtio transport structures (common, notify, ISR
// and device configuration) are not part of this class. Thread safe.
//
// Snapshots: SaveState/RestoreState carry the configuration registers and
// where the region is placed; RestoreState on a new device moves its region
// there. The region's mappings are the device model's to make again (they
// map host memory, not guest RAM).
//
// Example:
//   ASSIGN_OR_RETURN(auto pci, hv::virtio::VirtioPciDevice::Create(
//                                  &gpu, bar_allocator.get(), service.get()));
//   RETURN_IF_ERROR(bus->AddDevice(1, 0, pci.get()));
//   hv::snapshot::ByteWriter out;
//   pci->SaveState(out);  // between runs
#ifndef HV_VIRTIO_VIRTIO_PCI_DEVICE_H_
#define HV_VIRTIO_VIRTIO_PCI_DEVICE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "snapshot/codec.h"
#include "virtio/bar_allocator.h"
#include "virtio/pci_config_space.h"
#include "virtio/pci_device.h"
#include "virtio/shared_memory.h"
#include "virtio/virtio_device.h"
#include "virtio/vm_memory_service.h"

namespace hv::virtio {

// virtio 1.2 §4.1.2: the PCI vendor id of every virtio device, and the
// device id base of non-transitional devices (0x1040 + virtio device id).
inline constexpr uint16_t kVirtioPciVendorId = 0x1af4;
inline constexpr uint16_t kVirtioPciDeviceIdBase = 0x1040;
// §4.1.2.1: non-transitional devices have a revision id of 1 or higher.
inline constexpr uint8_t kVirtioPciRevision = 1;

class VirtioPciDevice : public PciDevice {
 public:
  // The BAR (registers 2 and 3) that holds the shared-memory region.
  static constexpr int kSharedMemoryBar = 2;

  // VirtioPciDevice::Create(): `device`, `bars` and `service` are not owned
  // and must outlive the result. A device without shared memory gets no BAR
  // and no capability.
  static absl::StatusOr<std::unique_ptr<VirtioPciDevice>> Create(
      VirtioDevice* device, BarAllocator* bars, VmMemoryService* service);

  VirtioPciDevice(const VirtioPciDevice&) = delete;
  VirtioPciDevice& operator=(const VirtioPciDevice&) = delete;
  // Unregisters the region from the service and frees the BAR range.
  ~VirtioPciDevice() override;

  // PciDevice.
  uint32_t ReadConfigRegister(uint32_t index) override;
  void WriteConfig(uint32_t offset, uint32_t size, uint32_t value) override;

  // The service's id for the shared-memory region, if there is one.
  std::optional<VmMemoryService::RegionId> shared_memory_region() const {
    return region_id_;
  }
  // How the region is prepared (after the vIOMMU override).
  PrepareType prepare_type() const { return prepare_; }
  // The guest-physical address where the region is placed now.
  uint64_t shared_memory_address() const;
  uint64_t shared_memory_bar_size() const { return bar_size_; }
  // The result of the last attempt to move the region (OK if none).
  absl::Status last_move_status() const;

  // VirtioPciDevice::SaveState(): the configuration registers and the
  // region's placed address, appended to `out` (a versioned record).
  void SaveState(snapshot::ByteWriter& out) const;
  // VirtioPciDevice::CheckState(): reads a record SaveState() wrote from
  // `in` and checks it against this device, changing nothing: DATA_LOSS
  // for short bytes or a placed address that is not the BAR's size aligned
  // (or not 0 for a device without a region), FAILED_PRECONDITION for
  // another version or another function's registers.
  absl::Status CheckState(snapshot::ByteReader& in) const;
  // VirtioPciDevice::RestoreState(): as CheckState(), then moves the
  // region to the saved address (VmMemoryService::MoveRegion; its error,
  // naming the address, changes nothing) and makes the registers the
  // record's.
  absl::Status RestoreState(snapshot::ByteReader& in);

 private:
  // The placed address of the record in `in`, checked.
  absl::StatusOr<uint64_t> ReadState(snapshot::ByteReader& in) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  VirtioPciDevice(std::unique_ptr<PciConfigSpace> config, BarAllocator* bars,
                  VmMemoryService* service,
                  std::optional<VmMemoryService::RegionId> region_id,
                  PrepareType prepare, uint64_t bar_address, uint64_t bar_size)
      : bars_(bars),
        service_(service),
        region_id_(region_id),
        prepare_(prepare),
        allocated_address_(bar_address),
        bar_size_(bar_size),
        config_(std::move(config)),
        placed_address_(bar_address) {}

  BarAllocator* const bars_;
  VmMemoryService* const service_;
  const std::optional<VmMemoryService::RegionId> region_id_;
  const PrepareType prepare_;
  const uint64_t allocated_address_;
  const uint64_t bar_size_;
  // std::mutex rather than absl::Mutex: Debian's Abseil is not built with
  // TSan, which then cannot see absl::Mutex's synchronisation.
  mutable std::mutex mu_;
  const std::unique_ptr<PciConfigSpace> config_ ABSL_PT_GUARDED_BY(mu_);
  uint64_t placed_address_ ABSL_GUARDED_BY(mu_);
  absl::Status last_move_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hv::virtio

#endif  // HV_VIRTIO_VIRTIO_PCI_DEVICE_H_
