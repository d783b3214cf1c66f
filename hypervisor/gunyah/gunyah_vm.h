// GunyahVm: hv::VmAArch64 over a Gunyah VM fd.
//
// Memory: each region is one GH_VM_SET_USER_MEM_REGION whose label is the
// region's hv slot (hv::MemorySlotTable: Check() first, the ioctl, then
// Insert() once the kernel agreed, so a failure changes nothing). The
// kernel pins a region's pages when it is added and shares those pages with
// the guest when the VM starts; this ABI revision can neither remove a
// region nor add one that reaches a started guest, so RemoveMemoryRegion,
// AddFdMapping and memory added after the start are refused (see
// README.md). vCPUs, irqfds and ioeventfds are VM functions
// (GH_VM_ADD_FUNCTION / GH_VM_REMOVE_FUNCTION). The VM starts (GH_VM_START)
// on the first Run() of one of its vCPUs, after InitArch() gave it the
// devicetree (GH_VM_SET_DTB_CONFIG).
//
// Thread safe: BackendVm's mutex guards the slot table; the start is
// ordered against memory changes by GunyahVmCore's lock.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, gunyah->CreateVm());
//   ASSIGN_OR_RETURN(auto ram, hv::MemoryRegion::CreateShared("ram", 16 << 20));
//   ASSIGN_OR_RETURN(hv::MemSlot slot, vm->AddMemoryRegion(0x80000000, std::move(ram), {}));
//   hv::VmAArch64* arm = vm->AsAArch64();
//   RETURN_IF_ERROR(arm->InitArch(0x80200000, 0x80000000, 0x10000));
//   ASSIGN_OR_RETURN(auto vcpu, arm->CreateVcpuAArch64(0));
#ifndef HV_HYPERVISOR_GUNYAH_GUNYAH_VM_H_
#define HV_HYPERVISOR_GUNYAH_GUNYAH_VM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/backend_overrides.h"
#include "hypervisor/backend_vm.h"
#include "hypervisor/gunyah/gunyah_hypervisor.h"

namespace hv {

class GunyahVmCore;

class GunyahVm final : public BackendVm<VmAArch64> {
 public:
  // hv's bound on regions: labels are 32-bit and the kernel states no
  // limit, so hv keeps the slot table to 256 regions.
  static constexpr uint32_t kMaxMemorySlots = 256;
  // Guest-physical addresses below 1 << 40, as crosvm's Gunyah backend
  // assumes (get_guest_phys_addr_bits).
  static constexpr uint64_t kGuestAddressLimit = uint64_t{1} << 40;

  // GunyahVm::Create(): GH_CREATE_VM on `device`.
  static absl::StatusOr<std::unique_ptr<GunyahVm>> Create(
      std::shared_ptr<const GunyahDevice> device);

  ~GunyahVm() override;

  // Vm; memory through BackendVm.
  bool CheckCapability(VmCap cap) const override;
  absl::Status SetIrqLine(uint32_t irq, bool level) override;

  // VmAArch64 (gunyah_vm_aarch64.cc).
  HV_VM_AARCH64_OVERRIDES

  // Gunyah only: whether GH_VM_START has run.
  bool started() const;

 private:
  explicit GunyahVm(std::shared_ptr<GunyahVmCore> core);

  // VmAArch64::InitArch's part: GH_VM_SET_DTB_CONFIG, before the start.
  absl::Status ConfigureBoot(GuestAddress entry, GuestAddress fdt_address,
                             uint64_t fdt_size) override;

  // BackendVm's hooks (no dirty log: the default).
  // MapSlot: GH_VM_SET_USER_MEM_REGION with the slot as label, before the
  // VM starts; read-only, dirty-logged and non-coherent regions are
  // UNIMPLEMENTED. UnmapSlot and ReplacePages: UNIMPLEMENTED, both: the
  // kernel pins a region's pages until the VM is destroyed (see the top of
  // this file).
  HV_BACKEND_VM_SLOT_HOOKS(override)
  // VM functions: GH_FN_IOEVENTFD (MMIO only) and GH_FN_IRQFD (doorbells
  // labelled by interrupt number).
  absl::Status IoEvent(const EventFd& event, const IoEventAddress& address,
                       bool assign) override;
  absl::Status Irqfd(const EventFd& event, uint32_t gsi, bool assign) override;

  // GH_VM_ADD_FUNCTION / GH_VM_REMOVE_FUNCTION with `arg` of `arg_size`
  // bytes; returns the ioctl's result.
  absl::StatusOr<int> Function(bool add, uint32_t type, const void* arg,
                               uint32_t arg_size, const std::string& what);

  const std::shared_ptr<GunyahVmCore> core_;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_GUNYAH_GUNYAH_VM_H_
