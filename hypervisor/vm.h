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
#include "absl/types/span.h"
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

// MsiMessage: one message-signalled interrupt, as a device would write it:
// `data` stored at guest-physical `address`. On x86 the address selects the
// local APIC(s) (0xfee00000 | destination << 12) and the data the vector
// and delivery mode; on arm64 it is a write to a GICv3 ITS doorbell, which
// also needs the writing device's id.
struct MsiMessage {
  uint64_t address = 0;
  uint32_t data = 0;
  // The requester (device) id the ITS translates with (KVM_MSI_VALID_DEVID);
  // nullopt on x86, where none is needed.
  std::optional<uint32_t> device_id;
};

// IrqRoute: where one GSI (global system interrupt: what an irqfd and
// Vm::SetIrqLine name) is delivered: to a pin of an in-kernel interrupt
// controller, or as an MSI.
struct IrqRoute {
  enum class Kind { kIrqChipPin, kMsi };

  uint32_t gsi = 0;
  Kind kind = Kind::kIrqChipPin;
  // kIrqChipPin: the controller and its input. x86: chip 0 the master PIC,
  // 1 the slave PIC (pins 0-7), 2 the IOAPIC (pins 0-23); arm64: chip 0
  // the GIC, pin an SPI number (0 = INTID 32).
  uint32_t chip = 0;
  uint32_t pin = 0;
  // kMsi: the message.
  MsiMessage msi;

  // IrqRoute::Pin() / Msi(): the two kinds of route for `gsi`.
  static IrqRoute Pin(uint32_t gsi, uint32_t chip, uint32_t pin) {
    IrqRoute route;
    route.gsi = gsi;
    route.kind = Kind::kIrqChipPin;
    route.chip = chip;
    route.pin = pin;
    return route;
  }
  static IrqRoute Msi(uint32_t gsi, const MsiMessage& msi) {
    IrqRoute route;
    route.gsi = gsi;
    route.kind = Kind::kMsi;
    route.msi = msi;
    return route;
  }
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
  //
  // With manual protection on (EnableDirtyLogManualProtect), reading the
  // log neither resets it nor write-protects the pages again: a page stays
  // in every later bitmap, and guest writes to it are not tracked, until
  // ClearDirtyLog names it. NOT_FOUND for an unknown slot,
  // FAILED_PRECONDITION when the region does not log dirty pages.
  virtual absl::StatusOr<std::vector<uint64_t>> GetDirtyLog(MemSlot slot) = 0;

  // Vm::SetDirtyLogging(): switches dirty logging of the live region in
  // `slot` on or off; the region keeps its slot, guest address, size, other
  // options and memory, and MemoryRegions() reports the new setting. Once
  // on, GetDirtyLog reports the pages written from then on (nothing before);
  // switching it off discards the log, and GetDirtyLog is FAILED_PRECONDITION
  // again. Setting the current value is OK and changes nothing. A read-only
  // region may log, as AddMemoryRegion allows (no page ever becomes dirty).
  // UNIMPLEMENTED without VmCap::kDirtyLogSwitch, NOT_FOUND for an unknown
  // slot, the hypervisor's error when it refuses; on error logging stays as
  // it was.
  //
  // Example (live migration's first pass):
  //   RETURN_IF_ERROR(vm->SetDirtyLogging(ram_slot, true));
  //   // ... copy the whole region while the guest keeps running ...
  //   ASSIGN_OR_RETURN(std::vector<uint64_t> dirty, vm->GetDirtyLog(ram_slot));
  virtual absl::Status SetDirtyLogging(MemSlot slot, bool enabled) = 0;

  // Vm::EnableDirtyLogManualProtect(): from now on, for every region of
  // this VM, GetDirtyLog only reports dirty pages and ClearDirtyLog resets
  // and write-protects them, so a VMM re-protects only what it has copied
  // (and in pieces, not a whole large slot under one lock). Logging regions
  // start with an empty log (KVM: KVM_DIRTY_LOG_INITIALLY_SET is not used).
  // Call it before any region logs dirty pages: FAILED_PRECONDITION, naming
  // the slot, while one does (its log would change meaning half way). There
  // is no way back. OK when already on. UNIMPLEMENTED without
  // VmCap::kDirtyLogManualProtect; the hypervisor's error when it refuses.
  virtual absl::Status EnableDirtyLogManualProtect() = 0;

  // Vm::ClearDirtyLog(): with manual protection on, resets the log of the
  // region in `slot` for the pages whose bit is set in `bitmap` and
  // write-protects them again, so the guest's next write to one of them
  // reports it again. `bitmap` covers pages [first_page, first_page +
  // num_pages) of the region (bit i of word i / 64 is page first_page + i;
  // bits past num_pages are ignored) and has exactly (num_pages + 63) / 64
  // words: the bitmap GetDirtyLog returned, or a piece of it, fits.
  // `first_page` is a multiple of 64 and `num_pages` too, unless the range
  // ends at the region's last page. Arguments are checked before the
  // hypervisor is asked: UNIMPLEMENTED without
  // VmCap::kDirtyLogManualProtect, NOT_FOUND for an unknown slot,
  // FAILED_PRECONDITION without manual protection or when the region does
  // not log dirty pages, INVALID_ARGUMENT for an unaligned range, an empty
  // one or a bitmap of the wrong size, OUT_OF_RANGE for pages past the
  // region; each message starts with "clear dirty log" and names the slot.
  //
  // Re-protect a page before copying it: a write between the copy and a
  // later ClearDirtyLog would go unseen (the page is writable and its bit
  // already set), so the copy would be stale.
  //
  // Example (re-arm exactly the dirty pages, then copy them):
  //   ASSIGN_OR_RETURN(std::vector<uint64_t> dirty, vm->GetDirtyLog(slot));
  //   RETURN_IF_ERROR(vm->ClearDirtyLog(slot, 0, pages, dirty));
  //   // ... copy the pages whose bit is set in `dirty` ...
  virtual absl::Status ClearDirtyLog(MemSlot slot, uint64_t first_page,
                                     uint64_t num_pages,
                                     absl::Span<const uint64_t> bitmap) = 0;

  // Vm::RegisterIoEvent(): guest writes matching `address` signal `event`
  // in the kernel, with no exit to user space.
  virtual absl::Status RegisterIoEvent(const EventFd& event,
                                       const IoEventAddress& address) = 0;
  virtual absl::Status UnregisterIoEvent(const EventFd& event,
                                         const IoEventAddress& address) = 0;

  // Vm::RegisterIrqfd(): writing `event` raises interrupt line `gsi` (edge).
  virtual absl::Status RegisterIrqfd(const EventFd& event, uint32_t gsi) = 0;
  virtual absl::Status UnregisterIrqfd(const EventFd& event, uint32_t gsi) = 0;

  // Vm::RegisterResampleIrqfd(): a level-triggered irqfd. Writing `event`
  // asserts GSI `gsi`; when the guest acknowledges the interrupt (EOI) the
  // line is deasserted and `resample` is signalled, so the device model can
  // write `event` again if its line is still pending. UnregisterIrqfd(event,
  // gsi) removes it. Requires VmCap::kIrqfdResample (else UNIMPLEMENTED) and
  // an in-kernel irqchip that owns the GSI's pin (x86: the full irqchip, not
  // the split one; else FAILED_PRECONDITION). INVALID_ARGUMENT when `event`
  // and `resample` are the same eventfd; the kernel's error when `event` is
  // already an irqfd.
  virtual absl::Status RegisterResampleIrqfd(const EventFd& event,
                                             uint32_t gsi,
                                             const EventFd& resample) = 0;

  // Vm::SetIrqLine(): drives in-kernel irqchip input `irq` to `level`.
  virtual absl::Status SetIrqLine(uint32_t irq, bool level) = 0;

  // Vm::SetGsiRouting(): replaces the whole GSI routing table with `routes`
  // (an empty table removes every route, including the defaults the
  // in-kernel irqchip starts with). A GSI may have one route per irqchip, or
  // exactly one MSI route. INVALID_ARGUMENT for a GSI at or beyond
  // MaxGsiRoutes(), more routes than MaxGsiRoutes(), a GSI routed twice to
  // the same chip or MSI routed alongside another route, or an MSI with a
  // device id where the VM has no use for one; the kernel's EINVAL for a
  // chip or pin it does not have is INVALID_ARGUMENT too. FAILED_PRECONDITION
  // without an in-kernel irqchip (x86), or for an MSI route where nothing
  // takes MSIs (arm64 without a GICv3 ITS: VmAArch64::CreateGicIts; with
  // one, every MSI route needs a device id). UNIMPLEMENTED without
  // VmCap::kGsiRouting. On error the previous table stays in effect.
  virtual absl::Status SetGsiRouting(absl::Span<const IrqRoute> routes) = 0;

  // Vm::MaxGsiRoutes(): how many routes (and GSIs) SetGsiRouting accepts;
  // 0 without VmCap::kGsiRouting.
  virtual uint32_t MaxGsiRoutes() const = 0;

  // Vm::SignalMsi(): delivers `msi` at once, as if a device wrote it. True
  // when it was delivered, false when the guest blocked it (e.g. its local
  // APIC is software-disabled); FAILED_PRECONDITION without an in-kernel
  // irqchip, INVALID_ARGUMENT (from the kernel) for a message it refuses.
  // UNIMPLEMENTED without VmCap::kSignalMsi (arm64: until
  // VmAArch64::CreateGicIts made an ITS, whose MSIs need a device id).
  virtual absl::StatusOr<bool> SignalMsi(const MsiMessage& msi) = 0;

  // Vm::CreateVcpu(): creates vCPU `id`.
  virtual absl::StatusOr<std::unique_ptr<Vcpu>> CreateVcpu(uint32_t id) = 0;

  // Per-architecture views; nullptr when the VM is not of that kind.
  virtual VmX86_64* AsX86_64() { return nullptr; }
  virtual VmAArch64* AsAArch64() { return nullptr; }
};

}  // namespace hv

#endif  // HV_HYPERVISOR_VM_H_
