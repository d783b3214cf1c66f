// VmAArch64: the aarch64 part of a VM: aarch64 vCPUs, the in-kernel GIC
// (an interrupt controller device) and the guest's view of the counter.
//
// Interrupt numbers: Vm::SetIrqLine and Vm::RegisterIrqfd on an aarch64 VM
// take the SPI number (0 is INTID 32), as KVM's irqfd GSIs do.
//
// Order (as the hypervisors require): memory, the devicetree written into
// it and InitArch; CreateGic (and, for MSIs, CreateGicIts), then the
// vCPUs, then FinalizeGic, then Run.
//
// Example:
//   hv::VmAArch64* arm = vm->AsAArch64();
//   // RAM at 0x40000000 is added; the kernel is at 0x40200000 and its
//   // devicetree at 0x4fe00000.
//   RETURN_IF_ERROR(arm->InitArch(0x40200000, 0x4fe00000, fdt_size));
//   RETURN_IF_ERROR(arm->CreateGic({hv::GicConfig::Version::kV3, 0x08000000,
//                                   0x080a0000, 96}));
//   ASSIGN_OR_RETURN(auto vcpu, arm->CreateVcpuAArch64(0));
//   RETURN_IF_ERROR(vcpu->Init({hv::VcpuFeature::kPsci0_2}));
//   RETURN_IF_ERROR(vcpu->SetOneReg(hv::AArch64Reg::Pc(), 0x40200000));
//   RETURN_IF_ERROR(vcpu->SetOneReg(hv::AArch64Reg::X(0), 0x4fe00000));
//   RETURN_IF_ERROR(arm->FinalizeGic());
#ifndef HV_HYPERVISOR_AARCH64_VM_AARCH64_H_
#define HV_HYPERVISOR_AARCH64_VM_AARCH64_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hypervisor/aarch64/regs.h"
#include "hypervisor/aarch64/vcpu_aarch64.h"
#include "hypervisor/vm.h"

namespace hv {

class VmAArch64 : public Vm {
 public:
  VmAArch64* AsAArch64() override { return this; }

  // VmAArch64::CreateVcpuAArch64(): CreateVcpu with the aarch64 type.
  virtual absl::StatusOr<std::unique_ptr<VcpuAArch64>> CreateVcpuAArch64(
      uint32_t id) = 0;

  // Vm::CreateVcpu() of an aarch64 VM: CreateVcpuAArch64().
  absl::StatusOr<std::unique_ptr<Vcpu>> CreateVcpu(uint32_t id) override {
    return CreateVcpuAArch64(id);
  }

  // VmAArch64::CreateGic(): the in-kernel GIC, before any vCPU exists.
  // UNIMPLEMENTED for a version the hypervisor does not offer;
  // FAILED_PRECONDITION when a GIC exists or a vCPU was created.
  virtual absl::Status CreateGic(const GicConfig& config) = 0;
  virtual bool SupportsGic(GicConfig::Version version) const = 0;
  // VmAArch64::FinalizeGic(): after every vCPU is created and initialised.
  virtual absl::Status FinalizeGic() = 0;

  // VmAArch64::SetCounterOffset(): the guest's virtual counter reads the
  // physical counter minus `offset` on every vCPU. UNIMPLEMENTED where the
  // hypervisor has no VM-wide offset.
  virtual absl::Status SetCounterOffset(uint64_t offset) = 0;

  // VmAArch64::GetGicState(): the finalised GICv3's distributor, and the
  // redistributor and CPU interface of each of `vcpus` (in that order,
  // each with its MPIDR). SetGicState() writes such a state into this VM's
  // GIC, created with the same GicConfig and finalised, for `vcpus` whose
  // MPIDRs are the saved ones (restore MPIDR_EL1 first if it was set):
  // INVALID_ARGUMENT, nothing written, when the vCPU count or an MPIDR
  // differs or a line-level word lies beyond the GIC's interrupts. No vCPU
  // may be inside Run() (the hypervisor refuses: FAILED_PRECONDITION or
  // its error). HypervisorCap::kIrqChipState, else UNIMPLEMENTED;
  // FAILED_PRECONDITION without a finalised GIC; UNIMPLEMENTED for a
  // GICv2.
  virtual absl::StatusOr<GicState> GetGicState(
      absl::Span<VcpuAArch64* const> vcpus);
  virtual absl::Status SetGicState(const GicState& state,
                                   absl::Span<VcpuAArch64* const> vcpus);

  // VmAArch64::CreateGicIts(): a GICv3 ITS (Interrupt Translation Service)
  // whose two 64 KiB frames (control, then translation) are at
  // [base, base + kGicItsSize). With it, MSIs reach the guest as LPIs:
  // Vm::SignalMsi and Vm::SetGsiRouting's MSI routes take messages whose
  // address is the doorbell (base + kGitsTranslaterOffset), whose data is
  // the event id, and which carry the device id (MsiMessage::device_id;
  // without one: INVALID_ARGUMENT); VmCap::kSignalMsi becomes true. The
  // guest maps device and event ids to LPIs with ITS commands, as on
  // hardware; an MSI that no mapping translates is "blocked" (SignalMsi
  // returns false), and while the guest has not enabled the ITS
  // (GITS_CTLR.Enabled) the hypervisor refuses it (KVM: EBUSY).
  //
  // After CreateGic with a GICv3, at most once, before or after the
  // vCPUs and FinalizeGic. UNIMPLEMENTED without VmCap::kGicIts, before
  // anything else is looked at. Then checked, nothing created when a check
  // fails: FAILED_PRECONDITION without a GICv3 or when the VM has an ITS;
  // INVALID_ARGUMENT when `base` is not 64 KiB aligned, when the frames
  // reach past Vm::GuestAddressLimit(), or overlap the distributor (64
  // KiB), the redistributors (128 KiB for each vCPU created so far, at
  // least one; FinalizeGic checks again with every vCPU, INVALID_ARGUMENT
  // and the GIC not finalised) or an added memory region. A hypervisor
  // error after the ITS was created leaves it in the VM (KVM keeps its
  // devices): a second call is FAILED_PRECONDITION.
  //
  // Example:
  //   RETURN_IF_ERROR(arm->CreateGic({hv::GicConfig::Version::kV3,
  //                                   0x08000000, 0x080a0000, 96}));
  //   RETURN_IF_ERROR(arm->CreateGicIts(0x08080000));
  //   // ... vCPUs, FinalizeGic; the guest maps device 3's event 0 ...
  //   hv::MsiMessage msi;
  //   msi.address = 0x08080000 + hv::VmAArch64::kGitsTranslaterOffset;
  //   msi.data = 0;       // the event id
  //   msi.device_id = 3;  // the requester id
  //   ASSIGN_OR_RETURN(bool delivered, arm->SignalMsi(msi));
  virtual absl::Status CreateGicIts(GuestAddress base);

  // VmAArch64::GetGicItsState(): the ITS's registers, after the ITS has
  // written its tables into guest memory and the redistributors their
  // pending LPIs into the guest's LPI pending tables. So read the guest's
  // memory AFTER this call (and GetGicState, in either order) to take a
  // complete state. No vCPU may be inside Run() (the hypervisor refuses).
  //
  // VmAArch64::SetGicItsState(): writes such a state into this VM's ITS,
  // which must be at the saved one's address (INVALID_ARGUMENT, nothing
  // written, when it is not). Restore in this order
  // (arm-vgic-its.rst, "ITS Restore Sequence"): the guest's memory; the
  // vCPUs, FinalizeGic, SetGicState (the redistributors: their LPI
  // configuration and pending table addresses and EnableLPIs); then
  // SetGicItsState, which writes GITS_CBASER, GITS_IIDR, GITS_CREADR,
  // GITS_CWRITER and GITS_BASER<n>, has the ITS read its tables back from
  // guest memory, and writes GITS_CTLR last. Only then run the vCPUs.
  // A hypervisor error part-way leaves the ITS partly written (the calls
  // cannot be undone); the message names the register or step.
  //
  // Both: UNIMPLEMENTED without VmCap::kGicIts; FAILED_PRECONDITION when
  // the VM has no ITS (CreateGicIts) or its GIC is not finalised.
  virtual absl::StatusOr<GicItsState> GetGicItsState();
  virtual absl::Status SetGicItsState(const GicItsState& state);

  // VmAArch64::ResetGicIts(): puts the ITS back in its state after
  // CreateGicIts, as a VMM does when it resets the machine (a guest reboot):
  // GITS_CTLR.Enabled and the Valid bits of GITS_CBASER and GITS_BASER<n>
  // clear, GITS_CREADR and GITS_CWRITER zero, and the ITS's cached device,
  // collection and translation entries dropped (arm-vgic-its.rst,
  // KVM_DEV_ARM_ITS_CTRL_RESET). Its address stays. No vCPU may be inside
  // Run(). UNIMPLEMENTED without VmCap::kGicIts; FAILED_PRECONDITION when
  // the VM has no ITS or its GIC is not finalised.
  virtual absl::Status ResetGicIts();

  // The ITS's size (its control and translation frames, 64 KiB each) and
  // where GITS_TRANSLATER, the doorbell an MSI writes, lies in it.
  static constexpr uint64_t kGicItsSize = 0x20000;
  static constexpr uint64_t kGicItsAlignment = 0x10000;
  static constexpr uint64_t kGitsTranslaterOffset = 0x10040;

  // VmAArch64::InitArch(): the VM-wide boot step (crosvm's init_arch), once
  // the guest's memory is added and its devicetree written into it, before
  // any vCPU runs. `entry` is where the boot vCPU starts; the devicetree
  // is [fdt_address, fdt_address + fdt_size).
  //
  // Checked first, with nothing passed to the hypervisor when a check
  // fails (INVALID_ARGUMENT "init arch: ..."): the devicetree is 8-byte
  // aligned and at most 2 MiB (Linux, Documentation/arch/arm64/booting.rst,
  // "Setup the device tree"), not empty, and lies inside one added memory
  // region; `entry` is 4-byte aligned (A64 instructions) and inside an
  // added region.
  //
  // Then each hypervisor takes what it needs: KVM nothing (it boots from
  // the vCPU registers alone); Geniezone the devicetree's place
  // (GZVM_SET_DTB_CONFIG); Gunyah the devicetree's place
  // (GH_VM_SET_DTB_CONFIG), without which its VM cannot start. `entry` is
  // checked only: the boot vCPU's PC (= entry) and x0 (= fdt_address) are
  // the caller's to set with VcpuAArch64::SetOneReg, on every hypervisor.
  // May be called again before the VM runs: the last call counts.
  // FAILED_PRECONDITION where the hypervisor has fixed its boot
  // configuration (Gunyah, once a vCPU has run).
  absl::Status InitArch(GuestAddress entry, GuestAddress fdt_address,
                        uint64_t fdt_size);

  // The devicetree's alignment and largest size (booting.rst).
  static constexpr uint64_t kFdtAlignment = 8;
  static constexpr uint64_t kFdtMaxSize = uint64_t{2} << 20;

 protected:
  // VmAArch64::ConfigureBoot(): InitArch's hypervisor part, after its
  // checks passed. On error the hypervisor's boot configuration is as it
  // was. By default nothing (KVM).
  virtual absl::Status ConfigureBoot(GuestAddress entry,
                                     GuestAddress fdt_address,
                                     uint64_t fdt_size) {
    return absl::OkStatus();
  }
};

}  // namespace hv

#endif  // HV_HYPERVISOR_AARCH64_VM_AARCH64_H_
