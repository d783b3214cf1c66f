// KvmDevice: an open /dev/kvm and what the kernel said about it when it was
// opened: capabilities, limits, the kvm_run mapping size and the guest
// physical address width. Shared (read-only) by the hypervisor and its VMs.
// The architecture's part (guest address width, VM type, its own
// capabilities) comes from kvm_device_<arch>.cc.
//
// Example:
//   ASSIGN_OR_RETURN(std::shared_ptr<const hv::KvmDevice> device,
//                    hv::KvmDevice::Open(sys, "/dev/kvm"));
//   if (device->caps.readonly_mem) { ... }
#ifndef HV_HYPERVISOR_KVM_KVM_DEVICE_H_
#define HV_HYPERVISOR_KVM_KVM_DEVICE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "hypervisor/kvm/kvm_fd.h"
#include "hypervisor/kvm/kvm_sys.h"
#include "hypervisor/x86_64/regs.h"

namespace hv {

// KvmDeviceCaps: KVM_CHECK_EXTENSION results on the device fd (0: absent).
struct KvmDeviceCaps {
  int user_memory = 0;
  int immediate_exit = 0;
  int readonly_mem = 0;
  int irqfd = 0;
  int ioeventfd = 0;
  int irqchip = 0;
  int split_irqchip = 0;
  int pit2 = 0;
  int xcrs = 0;
  int xsave = 0;
  int xsave2 = 0;  // bytes of the XSAVE image (0: only struct kvm_xsave)
  int vcpu_attributes = 0;
  int sync_regs = 0;
  int check_extension_vm = 0;
  int adjust_clock = 0;
  int nr_memslots = 0;
  int nr_vcpus = 0;
  int max_vcpus = 0;
  int mp_state = 0;
  int vcpu_events = 0;
  int guest_debug = 0;  // KVM_SET_GUEST_DEBUG
  // x86_64 (0 elsewhere).
  int tsc_control = 0;     // KVM_SET_TSC_KHZ on a vCPU
  int kvmclock_ctrl = 0;   // KVM_KVMCLOCK_CTRL
  int msr_features = 0;    // KVM_GET_MSR_FEATURE_INDEX_LIST
  // KVM_GET_MSR_INDEX_LIST is base API on x86 (api.rst names no
  // capability): 1 where QueryArch is x86_64's.
  int msr_index_list = 0;
  // The irqchip state calls (HypervisorCap::kIrqChipState), set by
  // QueryArch: x86 KVM_CAP_IRQCHIP and KVM_CAP_PIT2; aarch64 the vGICv3
  // register groups, part of every arm64 KVM's vGIC device (1).
  int irqchip_state = 0;
  // aarch64 only (kvm_device_aarch64.cc; 0 on x86_64).
  int arm_vm_ipa_size = 0;  // bits of guest-physical address (0: 40)
  int arm_psci_0_2 = 0;
  int arm_pmu_v3 = 0;
  int arm_sve = 0;
  int arm_ptrauth_address = 0;
  int arm_ptrauth_generic = 0;
  int steal_time = 0;  // PVTIME (KVM_ARM_VCPU_PVTIME_CTRL)
  int counter_offset = 0;  // KVM_ARM_SET_COUNTER_OFFSET
  int arm_hw_breakpoints = 0;  // KVM_CAP_GUEST_DEBUG_HW_BPS: how many
};

struct KvmDevice {
  // KvmDevice::Open(): opens `path`, checks KVM_GET_API_VERSION == 12 and
  // queries the capabilities and limits below.
  static absl::StatusOr<std::shared_ptr<const KvmDevice>> Open(
      KvmSys* sys, absl::string_view path);

  // KvmDevice::GetSupportedCpuid(): KVM_GET_SUPPORTED_CPUID, retried with a
  // doubled buffer while the kernel answers E2BIG. x86_64 builds only.
  absl::StatusOr<std::vector<CpuidEntry>> GetSupportedCpuid() const;

  // KvmDevice::QueryArch(): the architecture's part of Open()
  // (kvm_device_<arch>.cc): fills guest_address_limit, vm_type and the
  // architecture's capabilities of a device whose common part is set.
  static absl::Status QueryArch(KvmDevice& device);

  // KvmDevice::TscOffsetHonoured(): whether a vCPU's KVM_VCPU_TSC_OFFSET
  // attribute really moves its TSC. Some KVMs accept the attribute and
  // ignore it (kvm_pvm: the offset reads back 0 and the guest's rdtsc does
  // not move), so KVM_CAP_VCPU_ATTRIBUTES alone proves nothing. Probed once,
  // on first use, on a scratch VM and vCPU: set an offset, read it back.
  // Any failure of the probe counts as "not honoured". Always false on
  // aarch64. (kvm_device_probes_x86_64.cc)
  bool TscOffsetHonoured() const;
  // KvmDevice::XcrsHonoured(): whether XCR0 set through KVM_SET_XCRS is what
  // the guest's XGETBV reads. kvm_pvm accepts the write, reads it back, and
  // its guests still see the host's XCR0; probed once, on first use, by
  // running XGETBV on a scratch vCPU. Always false on aarch64.
  bool XcrsHonoured() const;

  KvmSys* sys = nullptr;
  KvmFd fd;
  KvmDeviceCaps caps;
  // KVM_CAP_MAX_VCPUS, else KVM_CAP_NR_VCPUS, else 4 (api.rst's default).
  uint32_t max_vcpus = 0;
  // KVM_GET_VCPU_MMAP_SIZE: bytes of the per-vCPU kvm_run mapping.
  uint64_t vcpu_mmap_size = 0;
  // x86_64: 1 << MAXPHYADDR from the supported CPUID leaf 0x80000008
  // (EAX[7:0]); 1 << 36 when the leaf is missing (the SDM's value for CPUs
  // without it). aarch64: 1 << the IPA size the VMs are created with.
  uint64_t guest_address_limit = 0;
  // The machine type KVM_CREATE_VM takes: 0 on x86_64; on aarch64 the IPA
  // size (KVM_VM_TYPE_ARM_IPA_SIZE) when KVM_CAP_ARM_VM_IPA_SIZE offers one.
  unsigned long vm_type = 0;

 private:
  // The probes' results, each computed once.
  mutable std::once_flag tsc_offset_probe_once_;
  mutable bool tsc_offset_honoured_ = false;
  mutable std::once_flag xcrs_probe_once_;
  mutable bool xcrs_honoured_ = false;
};

// SetCpuid2(): KVM_SET_CPUID2 on `vcpu_fd` with `entries` (at most
// kvm_abi::kMaxCpuidEntries, else INVALID_ARGUMENT); the inverse of
// KvmDevice::GetSupportedCpuid's conversion. x86_64 builds only.
absl::Status SetCpuid2(KvmSys* sys, int vcpu_fd,
                       absl::Span<const CpuidEntry> entries);

// GetKvmMsrs(): KVM_GET_MSRS of `indices` on `fd` (a vCPU, or the system fd
// for feature MSRs). KVM reads in order and stops at the first MSR it
// cannot read, so the result holds the first `read` entries only; the
// caller says what a short read means. An ioctl error names `operation`.
// x86_64 builds only.
absl::StatusOr<std::vector<MsrEntry>> GetKvmMsrs(
    KvmSys* sys, int fd, absl::Span<const uint32_t> indices,
    absl::string_view operation);

}  // namespace hv

#endif  // HV_HYPERVISOR_KVM_KVM_DEVICE_H_
