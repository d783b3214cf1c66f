// FakeVirtioDevice: a virtio device model for tests and fuzzers of the
// transport: it declares the shared-memory region, prepare type and vIOMMU
// use it is given, and keeps the SharedMemoryMapper the transport hands it.
// Test-only.
#ifndef HV_VIRTIO_FAKE_VIRTIO_DEVICE_H_
#define HV_VIRTIO_FAKE_VIRTIO_DEVICE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "virtio/shared_memory.h"
#include "virtio/virtio_device.h"

namespace hv::virtio {

class FakeVirtioDevice : public VirtioDevice {
 public:
  // A virtio-gpu (type 16) unless told otherwise; no shared memory when
  // `shm` is nullopt.
  FakeVirtioDevice(std::optional<SharedMemoryInfo> shm, PrepareType prepare,
                   bool viommu, uint16_t device_type = 16)
      : shm_(shm), prepare_(prepare), viommu_(viommu), device_type_(device_type) {}

  uint16_t DeviceType() const override { return device_type_; }
  std::optional<SharedMemoryInfo> SharedMemoryRegion() const override {
    return shm_;
  }
  PrepareType SharedMemoryPrepareType() const override { return prepare_; }
  bool ExposeSharedMemoryWithViommu() const override { return viommu_; }
  void SetSharedMemoryMapper(
      std::unique_ptr<SharedMemoryMapper> mapper) override {
    mapper_ = std::move(mapper);
  }

  // FakeVirtioDevice::mapper(): what the transport handed over, if anything.
  SharedMemoryMapper* mapper() const { return mapper_.get(); }

 private:
  const std::optional<SharedMemoryInfo> shm_;
  const PrepareType prepare_;
  const bool viommu_;
  const uint16_t device_type_;
  std::unique_ptr<SharedMemoryMapper> mapper_;
};

}  // namespace hv::virtio

#endif  // HV_VIRTIO_FAKE_VIRTIO_DEVICE_H_
