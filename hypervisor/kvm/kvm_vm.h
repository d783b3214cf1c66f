// KvmVm: hv::VmX86_64 (x86_64 builds) or hv::VmAArch64 (aarch64 builds) over
// a KVM VM file descriptor.
//
// Memory goes through hv::MemorySlotTable: Check() first, then
// KVM_SET_USER_MEMORY_REGION, then Insert() only once the kernel agreed, so
// a failure leaves the VM as it was. Fd mappings replace pages of a
// region's host mapping in place (MAP_FIXED) with no KVM call; KVM's MMU
// notifier makes the guest see the new pages. Thread safe: one mutex guards
// the slot table and the VM's mutable state.
//
// One class per build: kvm_vm.cc holds what every architecture shares and
// BUILD.bazel select()s kvm_vm_x86_64.cc or kvm_vm_aarch64.cc for the rest.
// This internal header names the base class and the architecture's methods
// by the target's predefined macro, since a class has one declaration.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::KvmVm> vm, hv::KvmVm::Create(device));
//   ASSIGN_OR_RETURN(auto ram, hv::MemoryRegion::CreateShared("ram", 1 << 20));
//   ASSIGN_OR_RETURN(hv::MemSlot slot, vm->AddMemoryRegion(0, std::move(ram), {}));
#ifndef HV_HYPERVISOR_KVM_KVM_VM_H_
#define HV_HYPERVISOR_KVM_KVM_VM_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/kvm/kvm_device.h"
#include "hypervisor/kvm/kvm_fd.h"
#include "hypervisor/memory_slot_table.h"
#if defined(__aarch64__)
#include "hypervisor/aarch64/vm_aarch64.h"
#elif defined(__x86_64__)
#include "hypervisor/x86_64/vm_x86_64.h"
#else
#error "hv's KVM backend supports x86_64 and aarch64"
#endif

namespace hv {

// KvmVmCaps: KVM_CHECK_EXTENSION results for one VM.
struct KvmVmCaps {
  int readonly_mem = 0;
  int irqfd = 0;
  int ioeventfd = 0;
  int adjust_clock = 0;
  int nr_memslots = 0;
  // KVM_MEM_NON_COHERENT_DMA is honoured (see kvm_abi.h).
  bool noncoherent_dma = false;
};

#if defined(__aarch64__)
using KvmVmBase = VmAArch64;
#else
using KvmVmBase = VmX86_64;
#endif

class KvmVm final : public KvmVmBase {
 public:
  // KvmVm::Create(): KVM_CREATE_VM on `device` and the VM's capabilities.
  static absl::StatusOr<std::unique_ptr<KvmVm>> Create(
      std::shared_ptr<const KvmDevice> device);

  KvmVm(const KvmVm&) = delete;
  KvmVm& operator=(const KvmVm&) = delete;
  ~KvmVm() override;

  // Vm.
  bool CheckCapability(VmCap cap) const override;
  uint32_t MaxMemorySlots() const override;
  uint64_t GuestAddressLimit() const override;
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

#if defined(__aarch64__)
  // VmAArch64 (kvm_vm_aarch64.cc).
  absl::StatusOr<std::unique_ptr<VcpuAArch64>> CreateVcpuAArch64(
      uint32_t id) override;
  absl::Status CreateGic(const GicConfig& config) override;
  bool SupportsGic(GicConfig::Version version) const override;
  absl::Status FinalizeGic() override;
  absl::Status SetCounterOffset(uint64_t offset) override;
#else
  // VmX86_64 (kvm_vm_x86_64.cc).
  absl::Status CreateIrqChip(IrqChipKind kind, uint32_t ioapic_pins) override;
  absl::StatusOr<std::unique_ptr<VcpuX86_64>> CreateVcpuX86_64(
      uint32_t id) override;
  absl::StatusOr<std::vector<CpuidEntry>> GetSupportedCpuid() override;
  absl::Status SetTssAddress(GuestAddress address) override;
  absl::Status SetIdentityMapAddress(GuestAddress address) override;
  absl::StatusOr<ClockState> GetClock() override;
  absl::Status SetClock(const ClockState& state) override;
#endif

  const KvmVmCaps& caps() const { return caps_; }

 private:
  KvmVm(std::shared_ptr<const KvmDevice> device, KvmFd vm_fd, KvmVmCaps caps);

  // KVM_SET_USER_MEMORY_REGION for `slot`; size 0 deletes the slot.
  absl::Status SetUserMemoryRegion(MemSlot slot, uint32_t flags,
                                   GuestAddress guest_address, uint64_t size,
                                   void* host_address);
  absl::Status IoEvent(const EventFd& event, const IoEventAddress& address,
                       bool assign);
  absl::Status Irqfd(const EventFd& event, uint32_t gsi, bool assign);

  KvmSys* const sys_;
  const std::shared_ptr<const KvmDevice> device_;
  const KvmFd vm_fd_;
  const KvmVmCaps caps_;

  mutable std::mutex mutex_;
  MemorySlotTable slots_ ABSL_GUARDED_BY(mutex_);
  uint32_t vcpus_created_ ABSL_GUARDED_BY(mutex_) = 0;
  bool irqchip_created_ ABSL_GUARDED_BY(mutex_) = false;
#if defined(__aarch64__)
  // The vGIC device (KVM_CREATE_DEVICE), its configuration, and whether
  // KVM_DEV_ARM_VGIC_CTRL_INIT succeeded.
  KvmFd gic_fd_ ABSL_GUARDED_BY(mutex_);
  std::optional<GicConfig> gic_config_ ABSL_GUARDED_BY(mutex_);
  bool gic_finalized_ ABSL_GUARDED_BY(mutex_) = false;
#endif
};

}  // namespace hv

#endif  // HV_HYPERVISOR_KVM_KVM_VM_H_
