// PciBus: PCI configuration mechanism #1 (PCI Local Bus Specification 3.0
// §3.2.2.3.2) on I/O ports 0xCF8 (CONFIG_ADDRESS) and 0xCFC-0xCFF
// (CONFIG_DATA), dispatching configuration reads and writes to the devices
// on bus 0.
//
// CONFIG_ADDRESS is a 32-bit register, written and read only as a dword:
// bit 31 enables configuration cycles, bits 23:16 select the bus, 15:11 the
// device, 10:8 the function, 7:2 the register; bits 1:0 read as zero. An
// access of 1, 2 or 4 bytes at 0xCFC + n reaches byte n of the selected
// register. With the enable bit clear, or for a function with no device,
// reads return all ones and writes are dropped (§6.1: a read of an absent
// function's vendor id returns 0xFFFF). Thread safe. SaveState/RestoreState
// carry CONFIG_ADDRESS across a snapshot (each device saves its own state).
//
// Example:
//   ASSIGN_OR_RETURN(auto bus, hv::virtio::PciBus::Create());
//   RETURN_IF_ERROR(bus->AddDevice(/*device=*/1, /*function=*/0, &virtio));
//   // In the vCPU loop, on a kIo exit:
//   RETURN_IF_ERROR(vcpu->HandleIo([&](hv::IoRequest& io) {
//     bus->HandleIo(io);
//   }));
//   hv::snapshot::ByteWriter out;
//   bus->SaveState(out);  // between runs
#ifndef HV_VIRTIO_PCI_BUS_H_
#define HV_VIRTIO_PCI_BUS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hypervisor/vcpu_exit.h"
#include "snapshot/codec.h"
#include "virtio/pci_device.h"

namespace hv::virtio {

// PCI Local Bus Specification 3.0 §3.2.2.3.2.
inline constexpr uint16_t kPciConfigAddressPort = 0xcf8;
inline constexpr uint16_t kPciConfigDataPort = 0xcfc;
inline constexpr uint32_t kPciConfigAddressEnable = uint32_t{1} << 31;

// MakePciConfigAddress(): the CONFIG_ADDRESS value selecting register byte
// offset `offset` (dword aligned) of bus/device/function.
constexpr uint32_t MakePciConfigAddress(uint8_t bus, uint8_t device,
                                        uint8_t function, uint8_t offset) {
  return kPciConfigAddressEnable | (uint32_t{bus} << 16) |
         (uint32_t{device & 0x1fu} << 11) | (uint32_t{function & 0x7u} << 8) |
         (offset & 0xfcu);
}

class PciBus {
 public:
  // PciBus::Create(): bus 0 with no devices.
  static absl::StatusOr<std::unique_ptr<PciBus>> Create();

  PciBus(const PciBus&) = delete;
  PciBus& operator=(const PciBus&) = delete;

  // PciBus::AddDevice(): puts `device` (not owned; it must outlive the bus)
  // at device number `device_number` (0..31), function `function` (0..7) of
  // bus 0. ALREADY_EXISTS when taken.
  absl::Status AddDevice(uint8_t device_number, uint8_t function,
                         PciDevice* device);

  // PciBus::HandleIo(): performs `io` if it is a configuration access;
  // returns whether the port belongs to the bus (0xCF8-0xCFF).
  bool HandleIo(IoRequest& io);

  // PciBus::Read() / Write(): the same as port accesses of `data.size()`
  // bytes at `port`.
  bool Read(uint16_t port, absl::Span<uint8_t> data);
  bool Write(uint16_t port, absl::Span<const uint8_t> data);

  // PciBus::SaveState(): CONFIG_ADDRESS, appended to `out` (a versioned
  // record); the devices' own state is theirs to save.
  void SaveState(snapshot::ByteWriter& out) const;
  // PciBus::CheckState(): reads a record SaveState() wrote from `in` and
  // checks it, changing nothing: DATA_LOSS for short bytes or a
  // CONFIG_ADDRESS with reserved bits set, FAILED_PRECONDITION for another
  // version.
  absl::Status CheckState(snapshot::ByteReader& in) const;
  // PciBus::RestoreState(): as CheckState(), then CONFIG_ADDRESS is the
  // record's; on an error nothing is changed.
  absl::Status RestoreState(snapshot::ByteReader& in);

 private:
  static absl::StatusOr<uint32_t> ReadState(snapshot::ByteReader& in);
  PciBus() = default;
  // The device and register selected by CONFIG_ADDRESS, or null.
  PciDevice* Selected(uint32_t* register_offset) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // std::mutex rather than absl::Mutex: Debian's Abseil is not built with
  // TSan, which then cannot see absl::Mutex's synchronisation.
  mutable std::mutex mu_;
  uint32_t config_address_ ABSL_GUARDED_BY(mu_) = 0;
  // (device << 3 | function) -> device.
  std::map<uint8_t, PciDevice*> devices_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hv::virtio

#endif  // HV_VIRTIO_PCI_BUS_H_
