// VirtioDevice: what the virtio PCI transport asks of a device model about
// its shared memory.
//
// A device that owns a shared-memory region returns it from
// SharedMemoryRegion(); the transport then exposes it through a 64-bit
// prefetchable BAR and a shared-memory capability, and hands the device a
// SharedMemoryMapper through SetSharedMemoryMapper(). How the VMM prepares
// the region is the device's choice (SharedMemoryPrepareType()); a device
// whose shared-memory descriptors are exposed through a virtual IOMMU is
// always DynamicPerMapping, since each mapping must then be its own
// hypervisor region.
//
// Example:
//   class GpuDevice : public hv::virtio::VirtioDevice {
//    public:
//     uint16_t DeviceType() const override { return 16; }  // virtio-gpu
//     std::optional<hv::virtio::SharedMemoryInfo> SharedMemoryRegion()
//         const override { return hv::virtio::SharedMemoryInfo{1, 1 << 30}; }
//     void SetSharedMemoryMapper(
//         std::unique_ptr<hv::virtio::SharedMemoryMapper> m) override {
//       mapper_ = std::move(m);
//     }
//    private:
//     std::unique_ptr<hv::virtio::SharedMemoryMapper> mapper_;
//   };
#ifndef HV_VIRTIO_VIRTIO_DEVICE_H_
#define HV_VIRTIO_VIRTIO_DEVICE_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "virtio/shared_memory.h"

namespace hv::virtio {

class VirtioDevice {
 public:
  virtual ~VirtioDevice() = default;

  // VirtioDevice::DeviceType(): the virtio device id (virtio 1.2 §5, e.g. 16
  // for a GPU device); the PCI device id is 0x1040 plus it (§4.1.2.1).
  virtual uint16_t DeviceType() const = 0;

  // VirtioDevice::SharedMemoryRegion(): the device's shared-memory region,
  // if it has one.
  virtual std::optional<SharedMemoryInfo> SharedMemoryRegion() const {
    return std::nullopt;
  }

  // VirtioDevice::SharedMemoryPrepareType(): how the VMM prepares the
  // region; SingleMappingOnFirst(kCacheCoherent) unless the device says
  // otherwise.
  virtual PrepareType SharedMemoryPrepareType() const {
    return PrepareType::SingleMappingOnFirst(MemCacheType::kCacheCoherent);
  }

  // VirtioDevice::ExposeSharedMemoryWithViommu(): whether the device's
  // shared-memory descriptors go through a virtual IOMMU; the transport then
  // uses DynamicPerMapping whatever SharedMemoryPrepareType() says.
  virtual bool ExposeSharedMemoryWithViommu() const { return false; }

  // VirtioDevice::SetSharedMemoryMapper(): called once by the transport with
  // the mapper for the region SharedMemoryRegion() declared. The default
  // drops it (a device without shared memory never gets one).
  virtual void SetSharedMemoryMapper(
      std::unique_ptr<SharedMemoryMapper> mapper) {}
};

}  // namespace hv::virtio

#endif  // HV_VIRTIO_VIRTIO_DEVICE_H_
