// WhpxVm: hv::VmX86_64 over a WHPX partition.
//
// Memory goes through hv::BackendVm and its MemorySlotTable: Check() first,
// then WHvMapGpaRange of the region's host mapping (no Write flag for read-only
// regions, TrackDirtyPages for dirty logging), then Insert() only once WHPX
// agreed, so a failure leaves the VM as it was. Fd mappings replace pages of a
// region's host mapping and re-map that GPA range (needs WHPX's partial unmap).
// What WHPX has no kernel object for -- ioeventfds, irqfds, an in-hypervisor
// PIC/IOAPIC, a paravirtual clock -- is UNIMPLEMENTED with a message saying so.
// Thread safe: BackendVm's mutex guards the slot table.
//
// Example:
//   ASSIGN_OR_RETURN(auto vm, hv::WhpxVm::Create(api, caps, /*max_vcpus=*/1));
//   ASSIGN_OR_RETURN(auto ram, hv::MemoryRegion::CreateShared("ram", 1 << 20));
//   ASSIGN_OR_RETURN(hv::MemSlot slot, vm->AddMemoryRegion(0, std::move(ram), {}));
#ifndef HV_HYPERVISOR_WHPX_WHPX_VM_H_
#define HV_HYPERVISOR_WHPX_WHPX_VM_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/backend_overrides.h"
#include "hypervisor/user_irqchip_vm.h"
#include "hypervisor/whpx/whpx_api.h"
#include "hypervisor/whpx/whpx_partition.h"
#include "hypervisor/x86_64/vm_x86_64.h"

namespace hv {

class WhpxVm final : public UserIrqchipVm {
 public:
  // hv's own bound on regions (WHPX has no slot limit of its own).
  static constexpr uint32_t kMaxMemorySlots = 32768;

  // WhpxVm::Create(): a partition for up to `max_vcpus` vCPUs. It is set
  // up (WHvSetupPartition) when the first memory region, vCPU or MSI needs
  // it, so CreateIrqChip can still choose the local APIC emulation.
  static absl::StatusOr<std::unique_ptr<WhpxVm>> Create(const WhpxApi* api,
                                                        const WhpxCaps& caps,
                                                        uint32_t max_vcpus);

  ~WhpxVm() override;

  // Vm; memory through BackendVm; no interrupt lines (BackendVm's
  // SetIrqLine).
  bool CheckCapability(VmCap cap) const override;

  // VmX86_64::CreateIrqChip(): kSplit turns on WHPX's local APIC emulation
  // (xAPIC), which WHPX takes only before the partition is set up, i.e.
  // before the first memory region or vCPU: FAILED_PRECONDITION after.
  // kKernel is UNIMPLEMENTED (WHPX has no PIC or IOAPIC).
  absl::Status CreateIrqChip(IrqChipKind kind,
                             uint32_t ioapic_pins = 24) override;
  // Vm::SignalMsi(): the MSI decoded (whpx_msi.h) and WHvRequestInterrupt;
  // needs CreateIrqChip(kSplit) (FAILED_PRECONDITION without). True when
  // WHPX accepted the request: it does not say whether the guest's APIC
  // blocked it.
  absl::StatusOr<bool> SignalMsi(const MsiMessage& msi) override;

  // VmX86_64 (the rest: UserIrqchipVm).
  absl::StatusOr<std::unique_ptr<VcpuX86_64>> CreateVcpuX86_64(
      uint32_t id) override;

  const std::shared_ptr<WhpxPartition>& partition() const {
    return partition_;
  }

 private:
  WhpxVm(std::shared_ptr<WhpxPartition> partition, uint64_t address_limit);

  // BackendVm's hooks (no ioeventfds or irqfds: the defaults).
  // MapSlot: WHvMapGpaRange, and the partition's RAM list for the
  // emulator; non-coherent regions are UNIMPLEMENTED (no memory-type flag).
  // UnmapSlot: WHvUnmapGpaRange. ReplacePages: unmaps the range from the
  // partition, swaps its host pages and maps it again (needs WHPX's
  // PartialUnmap feature).
  HV_BACKEND_VM_SLOT_HOOKS(override)
  // WHvQueryGpaRangeDirtyBitmap.
  absl::StatusOr<std::vector<uint64_t>> ReadDirtyLog(
      MemSlot slot, const MemorySlotTable::Entry& entry) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  // WHvMapGpaRange flags for a region added with `options`.
  uint32_t MapFlags(const MemoryRegionOptions& options) const;
  absl::Status MapRange(GuestAddress gpa, uint8_t* host, uint64_t size,
                        uint32_t flags);
  absl::Status UnmapRange(GuestAddress gpa, uint64_t size);

  const std::shared_ptr<WhpxPartition> partition_;
  const WhpxApi& api_;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_WHPX_WHPX_VM_H_
