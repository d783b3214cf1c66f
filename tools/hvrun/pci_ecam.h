// PciEcam: the PCI Express Enhanced Configuration Access Mechanism (PCI
// Express Base 4.0, 7.2.2) for bus 0 on MMIO, the way aarch64 guests reach
// PCI configuration space (there are no I/O ports to hold CONFIG_ADDRESS):
// function F of device D has its 4 KiB configuration space at
// base + (D << 15 | F << 12). The first 256 bytes are the device's
// (virtio::PciDevice); the extended space above reads as zero (no extended
// capabilities) and ignores writes. Accesses of 1, 2, 4 or 8 bytes,
// naturally aligned, are served; an absent function, or a misaligned
// access, reads all ones (as an absent function's vendor id must, §7.5.1.1)
// and drops writes. Thread safe.
//
// Example:
//   ASSIGN_OR_RETURN(auto ecam, hv::PciEcam::Create(0x30000000));
//   RETURN_IF_ERROR(ecam->AddDevice(/*device=*/3, /*function=*/0, &virtio));
//   machine->AddMmioHandler([&](hv::IoRequest& io) { return ecam->HandleMmio(io); });
#ifndef HV_TOOLS_HVRUN_PCI_ECAM_H_
#define HV_TOOLS_HVRUN_PCI_ECAM_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/vcpu_exit.h"
#include "virtio/pci_device.h"

namespace hv {

class PciEcam {
 public:
  // Bus 0 only: 32 devices x 8 functions x 4 KiB.
  static constexpr uint64_t kSize = uint64_t{1} << 20;

  // PciEcam::Create(): a window at `base`, which must be kSize aligned.
  static absl::StatusOr<std::unique_ptr<PciEcam>> Create(uint64_t base);

  PciEcam(const PciEcam&) = delete;
  PciEcam& operator=(const PciEcam&) = delete;

  // PciEcam::AddDevice(): puts `device` (not owned; it must outlive this)
  // at `device_number` (0..31), `function` (0..7). INVALID_ARGUMENT out of
  // range, ALREADY_EXISTS when taken; nothing changes on error.
  absl::Status AddDevice(uint8_t device_number, uint8_t function,
                         virtio::PciDevice* device);

  // PciEcam::HandleMmio(): performs `io` when it falls in the window and
  // returns true; false (nothing done) for any other address.
  bool HandleMmio(IoRequest& io);

  uint64_t base() const { return base_; }

 private:
  explicit PciEcam(uint64_t base) : base_(base) {}

  // One naturally aligned access of 1, 2 or 4 bytes within a register.
  uint32_t ReadWithinRegister(virtio::PciDevice* device, uint32_t offset,
                              uint32_t size);

  const uint64_t base_;
  // std::mutex: Debian's Abseil is not TSan-instrumented.
  mutable std::mutex mu_;
  // (device << 3 | function) -> device.
  std::map<uint8_t, virtio::PciDevice*> devices_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hv

#endif  // HV_TOOLS_HVRUN_PCI_ECAM_H_
