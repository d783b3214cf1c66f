// KvmVmCore<ArchVm>: what the KVM VM of every architecture shares: a KVM VM
// file descriptor, its capabilities, memory slots through
// KVM_SET_USER_MEMORY_REGION (BackendVm does the bookkeeping), fd mappings
// that replace pages of a region's host mapping in place (MAP_FIXED, no KVM
// call: KVM's MMU notifier makes the guest see the new pages), the dirty
// log, ioeventfds and irqfds. The final classes are KvmVmX86_64
// (kvm_vm_x86_64.h) and KvmVmAArch64 (kvm_vm_aarch64.h); BUILD.bazel
// select()s the one for the target, and CreateKvmVm() creates it. Thread
// safe: BackendVm's mutex guards the slot table and the VM's mutable state.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, hv::CreateKvmVm(device));
//   ASSIGN_OR_RETURN(auto ram, hv::MemoryRegion::CreateShared("ram", 1 << 20));
//   ASSIGN_OR_RETURN(hv::MemSlot slot, vm->AddMemoryRegion(0, std::move(ram), {}));
#ifndef HV_HYPERVISOR_KVM_KVM_VM_H_
#define HV_HYPERVISOR_KVM_KVM_VM_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/backend_overrides.h"
#include "hypervisor/backend_vm.h"
#include "hypervisor/kvm/kvm_device.h"
#include "hypervisor/kvm/kvm_fd.h"
#include "hypervisor/vm.h"

namespace hv {

// KvmVmCaps: KVM_CHECK_EXTENSION results for one VM.
struct KvmVmCaps {
  int readonly_mem = 0;
  int irqfd = 0;
  int ioeventfd = 0;
  int adjust_clock = 0;
  int nr_memslots = 0;
  // KVM_CAP_IRQ_ROUTING: the number of routes (and GSIs) KVM_SET_GSI_ROUTING
  // accepts (KVM_MAX_IRQ_ROUTES), 0 without GSI routing.
  int irq_routing = 0;
  int signal_msi = 0;
  int irqfd_resample = 0;
  // x86: KVM_CAP_X86_USER_SPACE_MSR (1, or the exit reasons it offers)
  // and KVM_CAP_X86_MSR_FILTER; 0 elsewhere.
  int user_space_msr = 0;
  int msr_filter = 0;
  // KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: the KVM_DIRTY_LOG_* flags
  // KVM_ENABLE_CAP accepts (bit 0: manual protection), 0 without it.
  int manual_dirty_log_protect = 0;
  // KVM_MEM_NON_COHERENT_DMA is honoured (see kvm_abi.h).
  bool noncoherent_dma = false;
};

// KvmVmFd: a VM file descriptor and what it offers.
struct KvmVmFd {
  KvmFd fd;
  KvmVmCaps caps;
};

// CreateKvmVm(): KVM_CREATE_VM on `device`, the VM's capabilities, and
// the target architecture's VM over them (KvmVmX86_64 or KvmVmAArch64).
absl::StatusOr<std::unique_ptr<Vm>> CreateKvmVm(
    std::shared_ptr<const KvmDevice> device);

// NewKvmVm(): CreateKvmVm's last step, the architecture's VM over `vm`;
// kvm_vm_x86_64.cc or kvm_vm_aarch64.cc defines it.
std::unique_ptr<Vm> NewKvmVm(std::shared_ptr<const KvmDevice> device,
                             KvmVmFd vm);

template <typename ArchVm>
class KvmVmCore : public BackendVm<ArchVm> {
 public:
  bool CheckCapability(VmCap cap) const final;
  const KvmVmCaps& caps() const { return caps_; }

  // Vm::SetGsiRouting(): checks the table (CheckGsiRoutes) and the irqchip,
  // then one KVM_SET_GSI_ROUTING, which replaces the table atomically.
  absl::Status SetGsiRouting(absl::Span<const IrqRoute> routes) final;
  uint32_t MaxGsiRoutes() const final;
  // Vm::SignalMsi(): KVM_SIGNAL_MSI; its result 0 is "blocked".
  absl::StatusOr<bool> SignalMsi(const MsiMessage& msi) final;

 protected:
  KvmVmCore(std::shared_ptr<const KvmDevice> device, KvmVmFd vm);

  // BackendVm::Irqfd(): KVM_IRQFD. KvmVmAArch64 checks the SPI first.
  absl::Status Irqfd(const EventFd& event, uint32_t gsi, bool assign) override;
  // BackendVm::ResampleIrqfd(): KVM_IRQFD with KVM_IRQFD_FLAG_RESAMPLE.
  absl::Status ResampleIrqfd(const EventFd& event, uint32_t gsi,
                             const EventFd& resample) override;

  // KvmVmCore::CheckIrqChip(): FAILED_PRECONDITION naming `operation` when
  // the VM has no in-kernel irqchip that can do it (`full`: the pins too,
  // not only the local APICs). By default OK (arm64: the kernel decides,
  // and says EINVAL/ENXIO before the vGIC exists).
  virtual absl::Status CheckIrqChip(const char* operation, bool full) const {
    return absl::OkStatus();
  }

  // KvmVmCore::HasMsiController(): whether an MSI can reach the guest at
  // all (x86: the local APICs; arm64: a GICv3 ITS, once CreateGicIts made
  // one; until then VmCap::kSignalMsi is false and MSI routes are refused
  // instead of being dropped by the kernel at delivery).
  virtual bool HasMsiController() const { return true; }
  // KvmVmCore::MsiNeedsDeviceId(): whether every MSI must carry a device
  // id (arm64 with an ITS: the kernel refuses one without
  // KVM_MSI_VALID_DEVID).
  virtual bool MsiNeedsDeviceId() const { return false; }
  // KvmVmCore::OffersGicIts(): VmCap::kGicIts (arm64 only).
  virtual bool OffersGicIts() const { return false; }

  KvmSys* const sys_;
  const std::shared_ptr<const KvmDevice> device_;
  const KvmFd vm_fd_;
  const KvmVmCaps caps_;

 private:
  // BackendVm's memory hooks and KVM_IOEVENTFD.
  HV_BACKEND_VM_SLOT_HOOKS(final)
  absl::StatusOr<std::vector<uint64_t>> ReadDirtyLog(
      MemSlot slot, const MemorySlotTable::Entry& entry) final
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this->mutex_);
  // BackendVm's dirty-log hooks: KVM_SET_USER_MEMORY_REGION of the same
  // slot with KVM_MEM_LOG_DIRTY_PAGES toggled (a flags-only change: the
  // memory and the guest's mappings stay), KVM_ENABLE_CAP of
  // KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, and KVM_CLEAR_DIRTY_LOG.
  absl::Status SwitchDirtyLogging(MemSlot slot,
                                  const MemorySlotTable::Entry& entry,
                                  bool enabled) final
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this->mutex_);
  absl::Status EnableManualProtect() final
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this->mutex_);
  absl::Status ClearDirtyPages(MemSlot slot,
                               const MemorySlotTable::Entry& entry,
                               uint64_t first_page, uint64_t num_pages,
                               absl::Span<const uint64_t> bitmap) final
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this->mutex_);
  absl::Status IoEvent(const EventFd& event, const IoEventAddress& address,
                       bool assign) final;

  // INVALID_ARGUMENT naming `operation` when `msi` has a device id and the
  // VM takes none (KVM_CAP_MSI_DEVID, asked at the call), or has none and
  // the VM needs one (MsiNeedsDeviceId).
  absl::Status CheckMsiDeviceId(const char* operation,
                                const MsiMessage& msi) const;

  // KVM_SET_USER_MEMORY_REGION for `slot`; size 0 deletes the slot.
  absl::Status SetUserMemoryRegion(MemSlot slot, uint32_t flags,
                                   GuestAddress guest_address, uint64_t size,
                                   void* host_address);
};

}  // namespace hv

#endif  // HV_HYPERVISOR_KVM_KVM_VM_H_
