// KvmVmX86_64's platform-device state: the two 8259A PICs and the I/O APIC
// (KVM_GET/SET_IRQCHIP) and the 8254 PIT (KVM_GET/SET_PIT2), converted
// between KVM's structs and hv's at this edge.
#include <cstring>

#include "absl/strings/str_format.h"
#include "hypervisor/kvm/kvm_abi_x86_64.h"
#include "hypervisor/kvm/kvm_ioctl.h"
#include "hypervisor/kvm/kvm_vm_x86_64.h"
#include "hypervisor/os/status_macros.h"

namespace hv {
namespace {

uint32_t ChipId(VmX86_64::Pic pic) {
  return pic == VmX86_64::Pic::kPrimary ? KVM_IRQCHIP_PIC_MASTER
                                        : KVM_IRQCHIP_PIC_SLAVE;
}

const char* PicName(VmX86_64::Pic pic) {
  return pic == VmX86_64::Pic::kPrimary ? "primary PIC" : "secondary PIC";
}

// The PIC's fields in the order both structs list them.
template <typename From, typename To>
void CopyPic(const From& from, To& to) {
  to.last_irr = from.last_irr;
  to.irr = from.irr;
  to.imr = from.imr;
  to.isr = from.isr;
  to.priority_add = from.priority_add;
  to.irq_base = from.irq_base;
  to.read_reg_select = from.read_reg_select;
  to.poll = from.poll;
  to.special_mask = from.special_mask;
  to.init_state = from.init_state;
  to.auto_eoi = from.auto_eoi;
  to.rotate_on_auto_eoi = from.rotate_on_auto_eoi;
  to.special_fully_nested_mode = from.special_fully_nested_mode;
  to.init4 = from.init4;
  to.elcr = from.elcr;
  to.elcr_mask = from.elcr_mask;
}

template <typename From, typename To>
void CopyPitChannel(const From& from, To& to) {
  to.count = from.count;
  to.latched_count = from.latched_count;
  to.count_latched = from.count_latched;
  to.status_latched = from.status_latched;
  to.status = from.status;
  to.read_state = from.read_state;
  to.write_state = from.write_state;
  to.write_latch = from.write_latch;
  to.rw_mode = from.rw_mode;
  to.mode = from.mode;
  to.bcd = from.bcd;
  to.gate = from.gate;
  to.count_load_time = from.count_load_time;
}

}  // namespace

absl::Status KvmVmX86_64::CheckKernelDevice(const char* operation,
                                            bool pit) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (irqchip_state_.load(std::memory_order_acquire) != kFullIrqChip) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: the VM has no in-kernel PIC and IOAPIC (CreateIrqChip(kKernel))",
        operation));
  }
  if (pit && !pit_created_) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: the VM has no in-kernel PIT (this KVM lacks KVM_CAP_PIT2)",
        operation));
  }
  return absl::OkStatus();
}

absl::StatusOr<PicState> KvmVmX86_64::GetPicState(Pic pic) {
  RETURN_IF_ERROR(CheckKernelDevice("get PIC state", false));
  kvm_irqchip chip = {};
  chip.chip_id = ChipId(pic);
  RETURN_IF_ERROR(KvmIoctl(sys_, vm_fd_.get(), KVM_GET_IRQCHIP, &chip,
                           absl::StrFormat("KVM_GET_IRQCHIP (%s)", PicName(pic))));
  PicState state;
  CopyPic(chip.chip.pic, state);
  return state;
}

absl::Status KvmVmX86_64::SetPicState(Pic pic, const PicState& state) {
  RETURN_IF_ERROR(CheckKernelDevice("set PIC state", false));
  kvm_irqchip chip = {};
  chip.chip_id = ChipId(pic);
  CopyPic(state, chip.chip.pic);
  return KvmIoctl(sys_, vm_fd_.get(), KVM_SET_IRQCHIP, &chip,
                  absl::StrFormat("KVM_SET_IRQCHIP (%s)", PicName(pic)));
}

absl::StatusOr<IoapicState> KvmVmX86_64::GetIoapicState() {
  RETURN_IF_ERROR(CheckKernelDevice("get IOAPIC state", false));
  kvm_irqchip chip = {};
  chip.chip_id = KVM_IRQCHIP_IOAPIC;
  RETURN_IF_ERROR(KvmIoctl(sys_, vm_fd_.get(), KVM_GET_IRQCHIP, &chip,
                           "KVM_GET_IRQCHIP (IOAPIC)"));
  const kvm_ioapic_state& k = chip.chip.ioapic;
  IoapicState state;
  state.base_address = k.base_address;
  state.ioregsel = k.ioregsel;
  state.id = k.id;
  state.irr = k.irr;
  for (size_t i = 0; i < state.redirection.size(); ++i) {
    state.redirection[i] = k.redirtbl[i].bits;
  }
  return state;
}

absl::Status KvmVmX86_64::SetIoapicState(const IoapicState& state) {
  RETURN_IF_ERROR(CheckKernelDevice("set IOAPIC state", false));
  kvm_irqchip chip = {};
  chip.chip_id = KVM_IRQCHIP_IOAPIC;
  kvm_ioapic_state& k = chip.chip.ioapic;
  k.base_address = state.base_address;
  k.ioregsel = state.ioregsel;
  k.id = state.id;
  k.irr = state.irr;
  for (size_t i = 0; i < state.redirection.size(); ++i) {
    k.redirtbl[i].bits = state.redirection[i];
  }
  return KvmIoctl(sys_, vm_fd_.get(), KVM_SET_IRQCHIP, &chip,
                  "KVM_SET_IRQCHIP (IOAPIC)");
}

absl::StatusOr<PitState> KvmVmX86_64::GetPitState() {
  RETURN_IF_ERROR(CheckKernelDevice("get PIT state", true));
  kvm_pit_state2 pit = {};
  RETURN_IF_ERROR(
      KvmIoctl(sys_, vm_fd_.get(), KVM_GET_PIT2, &pit, "KVM_GET_PIT2"));
  PitState state;
  for (size_t i = 0; i < state.channels.size(); ++i) {
    CopyPitChannel(pit.channels[i], state.channels[i]);
  }
  state.flags = pit.flags;
  return state;
}

absl::Status KvmVmX86_64::SetPitState(const PitState& state) {
  RETURN_IF_ERROR(CheckKernelDevice("set PIT state", true));
  kvm_pit_state2 pit = {};
  for (size_t i = 0; i < state.channels.size(); ++i) {
    CopyPitChannel(state.channels[i], pit.channels[i]);
  }
  pit.flags = state.flags;
  return KvmIoctl(sys_, vm_fd_.get(), KVM_SET_PIT2, &pit, "KVM_SET_PIT2");
}

}  // namespace hv
