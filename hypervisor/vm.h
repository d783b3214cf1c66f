// Vm: a virtual machine's address space, interrupts and vCPUs.
//
// Memory: a MemoryRegion is added at a guest-physical address and gets a
// slot. Regions never overlap; slots are finite (MaxMemorySlots()), freed
// numbers are reused lowest first, and a failed call leaves the Vm exactly
// as it was. Files can be mapped into a region that is already added
// (AddFdMapping), which costs no slot and no hypervisor call.
//
// Example:
//   ASSIGN_OR_RETURN(auto ram, hv::MemoryRegion::CreateShared("ram", 1 << 21));
//   ASSIGN_OR_RETURN(hv::MemSlot slot, vm->AddMemoryRegion(0, std::move(ram), {}));
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::Vcpu> vcpu, vm->CreateVcpu(0));
#ifndef HV_HYPERVISOR_VM_H_
#define HV_HYPERVISOR_VM_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/caps.h"
#include "hypervisor/memory.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/vcpu.h"

namespace hv {

class VmX86_64;
class VmAArch64;

// IoEventAddress: where a guest write signals an ioeventfd.
struct IoEventAddress {
  enum class Space { kPio, kMmio };
  Space space = Space::kPio;
  uint64_t address = 0;
  // Access length the event matches: 1, 2, 4 or 8 (0: any length, MMIO only).
  uint32_t length = 0;
  // Only writes of this value signal the event; nullopt matches any value.
  std::optional<uint64_t> datamatch;
};

// MemoryRegionInfo: one added region, as MemoryRegions() lists it.
struct MemoryRegionInfo {
  MemSlot slot = 0;
  GuestAddress guest_address = 0;
  uint64_t size = 0;
  MemoryRegionOptions options;
};

class Vm {
 public:
  virtual ~Vm() = default;

  // Vm::CheckCapability(): whether this VM offers `cap`.
  virtual bool CheckCapability(VmCap cap) const = 0;

  // Vm::MaxMemorySlots(): how many memory regions can be added at once.
  virtual uint32_t MaxMemorySlots() const = 0;

  // Vm::GuestAddressLimit(): one past the highest guest-physical address a
  // region may cover.
  virtual uint64_t GuestAddressLimit() const = 0;

  // Vm::AddMemoryRegion(): maps `region` at `guest_address` and returns its
  // slot. INVALID_ARGUMENT for unaligned or empty ranges, ALREADY_EXISTS for
  // an overlap (naming both ranges), OUT_OF_RANGE past GuestAddressLimit(),
  // RESOURCE_EXHAUSTED when no slot is free, UNIMPLEMENTED for an option the
  // hypervisor cannot honour (e.g. kCacheNonCoherent without
  // VmCap::kMemNoncoherentDma). On error `region` is destroyed and the Vm is
  // unchanged.
  virtual absl::StatusOr<MemSlot> AddMemoryRegion(
      GuestAddress guest_address, std::unique_ptr<MemoryRegion> region,
      const MemoryRegionOptions& options) = 0;

  // Vm::RemoveMemoryRegion(): unmaps the region in `slot` and hands it back;
  // the slot number becomes free. NOT_FOUND for an unknown slot.
  virtual absl::StatusOr<std::unique_ptr<MemoryRegion>> RemoveMemoryRegion(
      MemSlot slot) = 0;

  // Vm::MemoryRegions(): the added regions, by guest address.
  virtual std::vector<MemoryRegionInfo> MemoryRegions() const = 0;

  // Vm::AddFdMapping(): maps `size` bytes of `fd` at `fd_offset` into the
  // region in `slot` at `offset`, with protection `prot`. No slot is used.
  virtual absl::Status AddFdMapping(MemSlot slot, uint64_t offset,
                                    uint64_t size, int fd, uint64_t fd_offset,
                                    Protection prot) = 0;

  // Vm::RemoveMapping(): returns [offset, offset + size) of the region in
  // `slot` to the region's empty state (read-only zeros for an arena).
  virtual absl::Status RemoveMapping(MemSlot slot, uint64_t offset,
                                     uint64_t size) = 0;

  // Vm::GetDirtyLog(): the pages of `slot` written since the last call, as
  // a bitmap of 64-bit words (bit i = page i); resets the log. The region
  // must have been added with log_dirty_pages.
  virtual absl::StatusOr<std::vector<uint64_t>> GetDirtyLog(MemSlot slot) = 0;

  // Vm::RegisterIoEvent(): guest writes matching `address` signal `event`
  // in the kernel, with no exit to user space.
  virtual absl::Status RegisterIoEvent(const EventFd& event,
                                       const IoEventAddress& address) = 0;
  virtual absl::Status UnregisterIoEvent(const EventFd& event,
                                         const IoEventAddress& address) = 0;

  // Vm::RegisterIrqfd(): writing `event` raises interrupt line `gsi` (edge).
  virtual absl::Status RegisterIrqfd(const EventFd& event, uint32_t gsi) = 0;
  virtual absl::Status UnregisterIrqfd(const EventFd& event, uint32_t gsi) = 0;

  // Vm::SetIrqLine(): drives in-kernel irqchip input `irq` to `level`.
  virtual absl::Status SetIrqLine(uint32_t irq, bool level) = 0;

  // Vm::CreateVcpu(): creates vCPU `id`.
  virtual absl::StatusOr<std::unique_ptr<Vcpu>> CreateVcpu(uint32_t id) = 0;

  // Per-architecture views; nullptr when the VM is not of that kind.
  virtual VmX86_64* AsX86_64() { return nullptr; }
  virtual VmAArch64* AsAArch64() { return nullptr; }
};

}  // namespace hv

#endif  // HV_HYPERVISOR_VM_H_
