// WhpxVm: hv::VmX86_64 over a WHPX partition.
//
// Memory goes through hv::MemorySlotTable: Check() first, then
// WHvMapGpaRange of the region's host mapping (no Write flag for read-only
// regions, TrackDirtyPages for dirty logging), then Insert() only once WHPX
// agreed, so a failure leaves the VM as it was. Fd mappings replace pages of
// a region's host mapping and re-map that GPA range (needs WHPX's partial
// unmap). What WHPX has no kernel object for -- ioeventfds, irqfds, an
// in-hypervisor PIC/IOAPIC, a paravirtual clock -- is UNIMPLEMENTED with a
// message saying so. Thread safe: one mutex guards the slot table.
//
// Example:
//   ASSIGN_OR_RETURN(auto vm, hv::WhpxVm::Create(api, caps, /*max_vcpus=*/1));
//   ASSIGN_OR_RETURN(auto ram, hv::MemoryRegion::CreateShared("ram", 1 << 20));
//   ASSIGN_OR_RETURN(hv::MemSlot slot, vm->AddMemoryRegion(0, std::move(ram), {}));
#ifndef HV_HYPERVISOR_WHPX_WHPX_VM_H_
#define HV_HYPERVISOR_WHPX_WHPX_VM_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/memory_slot_table.h"
#include "hypervisor/whpx/whpx_api.h"
#include "hypervisor/whpx/whpx_partition.h"
#include "hypervisor/x86_64/vm_x86_64.h"

namespace hv {

class WhpxVm final : public VmX86_64 {
 public:
  // hv's own bound on regions (WHPX has no slot limit of its own).
  static constexpr uint32_t kMaxMemorySlots = 32768;

  // WhpxVm::Create(): a set-up partition for up to `max_vcpus` vCPUs.
  static absl::StatusOr<std::unique_ptr<WhpxVm>> Create(const WhpxApi* api,
                                                        const WhpxCaps& caps,
                                                        uint32_t max_vcpus);

  WhpxVm(const WhpxVm&) = delete;
  WhpxVm& operator=(const WhpxVm&) = delete;
  ~WhpxVm() override;

  // Vm.
  bool CheckCapability(VmCap cap) const override;
  uint32_t MaxMemorySlots() const override { return kMaxMemorySlots; }
  uint64_t GuestAddressLimit() const override { return address_limit_; }
  absl::StatusOr<MemSlot> AddMemoryRegion(
      GuestAddress guest_address, std::unique_ptr<MemoryRegion> region,
      const MemoryRegionOptions& options) override;
  absl::StatusOr<std::unique_ptr<MemoryRegion>> RemoveMemoryRegion(
      MemSlot slot) override;
  std::vector<MemoryRegionInfo> MemoryRegions() const override;
  absl::Status AddFdMapping(MemSlot slot, uint64_t offset, uint64_t size,
                            int fd, uint64_t fd_offset,
                            Protection prot) override;
  absl::Status RemoveMapping(MemSlot slot, uint64_t offset,
                             uint64_t size) override;
  absl::StatusOr<std::vector<uint64_t>> GetDirtyLog(MemSlot slot) override;
  absl::Status RegisterIoEvent(const EventFd& event,
                               const IoEventAddress& address) override;
  absl::Status UnregisterIoEvent(const EventFd& event,
                                 const IoEventAddress& address) override;
  absl::Status RegisterIrqfd(const EventFd& event, uint32_t gsi) override;
  absl::Status UnregisterIrqfd(const EventFd& event, uint32_t gsi) override;
  absl::Status SetIrqLine(uint32_t irq, bool level) override;
  absl::StatusOr<std::unique_ptr<Vcpu>> CreateVcpu(uint32_t id) override;

  // VmX86_64.
  absl::Status CreateIrqChip(IrqChipKind kind, uint32_t ioapic_pins) override;
  absl::StatusOr<std::unique_ptr<VcpuX86_64>> CreateVcpuX86_64(
      uint32_t id) override;
  absl::StatusOr<std::vector<CpuidEntry>> GetSupportedCpuid() override;
  absl::Status SetTssAddress(GuestAddress address) override;
  absl::Status SetIdentityMapAddress(GuestAddress address) override;
  absl::StatusOr<ClockState> GetClock() override;
  absl::Status SetClock(const ClockState& state) override;

  const std::shared_ptr<WhpxPartition>& partition() const {
    return partition_;
  }

 private:
  WhpxVm(std::shared_ptr<WhpxPartition> partition, uint64_t address_limit);

  // WHvMapGpaRange flags for a region added with `options`.
  uint32_t MapFlags(const MemoryRegionOptions& options) const;
  absl::Status MapRange(GuestAddress gpa, uint8_t* host, uint64_t size,
                        uint32_t flags);
  absl::Status UnmapRange(GuestAddress gpa, uint64_t size);
  // Re-maps [offset, offset + size) of `entry` after `change` swapped its
  // host pages (AddFdMapping / RemoveMapping).
  absl::Status Remap(const char* operation, MemorySlotTable::Entry& entry,
                     uint64_t offset, uint64_t size,
                     const std::function<absl::Status()>& change)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const std::shared_ptr<WhpxPartition> partition_;
  const WhpxApi& api_;
  const uint64_t address_limit_;

  mutable std::mutex mutex_;
  MemorySlotTable slots_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace hv

#endif  // HV_HYPERVISOR_WHPX_WHPX_VM_H_
