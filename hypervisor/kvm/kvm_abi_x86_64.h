// The x86_64 part of the KVM ABI as the backend uses it: the structs and
// ioctl numbers only x86_64 has, checked by static_asserts against
// Documentation/virt/kvm/api.rst (and the flexible-array workarounds).
//
// Internal to hypervisor/kvm, x86_64 builds only (kvm_*_x86_64.cc).
//
// Example:
//   hv::kvm_abi::FlexBuffer<hv::kvm_abi::MsrsHeader, kvm_msr_entry> msrs(2);
//   sys->IoctlPtr(vcpu_fd, hv::kvm_abi::kGetMsrs, msrs.data());
#ifndef HV_HYPERVISOR_KVM_KVM_ABI_X86_64_H_
#define HV_HYPERVISOR_KVM_KVM_ABI_X86_64_H_

#include "hypervisor/kvm/kvm_abi.h"

namespace hv::kvm_abi {

// KVM_GET_SUPPORTED_CPUID: the first buffer size tried; doubled on E2BIG up
// to kMaxCpuidEntries. 256 is the kernel's own limit (KVM_MAX_CPUID_ENTRIES
// since Linux 5.12, 80 before), so one call does: a call answered E2BIG has
// already run the host CPUID instructions it needed, which in a VM trap to
// the outer hypervisor (with 64, 75 entries on an AMD host took two calls,
// ~0.3 ms of hvrun's ~3 ms start-up on this kvm_pvm host).
inline constexpr uint32_t kInitialCpuidEntries = 256;
inline constexpr uint32_t kMaxCpuidEntries = 4096;

// Headers of the ioctl structs that end in a flexible array. The 6.1 uapi
// declares those arrays with __DECLARE_FLEX_ARRAY, which under C++ wraps
// them in a struct holding an empty struct; C++ gives that one byte, so
// g++ puts kvm_msrs::entries at offset 16 and kvm_cpuid2::entries at 12,
// while the kernel reads them at 8. hv therefore never uses those members:
// it lays out the header itself and the entries right after it.
struct MsrsHeader {
  uint32_t nmsrs;
  uint32_t pad;
};
struct Cpuid2Header {
  uint32_t nent;
  uint32_t padding;
};
static_assert(sizeof(MsrsHeader) == 8 && sizeof(Cpuid2Header) == 8);
// struct kvm_msr_list: nmsrs, then the u32 indices at offset 4.
struct MsrListHeader {
  uint32_t nmsrs;
};
static_assert(sizeof(MsrListHeader) == 4);

// The same mistake reaches the ioctl numbers, which encode the struct size:
// under g++ KVM_GET_MSRS & co. come out with 16 or 12 where the kernel
// expects 8, and the kernel rejects them (EINVAL). hv uses these instead.
inline constexpr unsigned long kGetSupportedCpuid =
    _IOWR(KVMIO, 0x05, Cpuid2Header);
inline constexpr unsigned long kGetMsrs = _IOWR(KVMIO, 0x88, MsrsHeader);
inline constexpr unsigned long kSetMsrs = _IOW(KVMIO, 0x89, MsrsHeader);
inline constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, Cpuid2Header);
inline constexpr unsigned long kGetMsrIndexList =
    _IOWR(KVMIO, 0x02, MsrListHeader);
inline constexpr unsigned long kGetMsrFeatureIndexList =
    _IOWR(KVMIO, 0x0a, MsrListHeader);
// The kernel's values (as a C compiler computes them).
static_assert(kGetMsrIndexList == 0xc004ae02);
static_assert(kGetMsrFeatureIndexList == 0xc004ae0a);
static_assert(kGetSupportedCpuid == 0xc008ae05);
static_assert(kGetMsrs == 0xc008ae88);
static_assert(kSetMsrs == 0x4008ae89);
static_assert(kSetCpuid2 == 0x4008ae90);

// struct kvm_xsave ends in a flexible array too, so under g++ its size (and
// with it KVM_GET_XSAVE & co.) is 4100 instead of 4096. XsaveImage is the
// fixed 4 KiB image those ioctls move; KVM_GET_XSAVE2 moves as many bytes
// as KVM_CAP_XSAVE2 reports, into a buffer at least that large.
struct XsaveImage {
  uint32_t region[1024];
};
static_assert(sizeof(XsaveImage) == 4096);
inline constexpr unsigned long kGetXsave = _IOR(KVMIO, 0xa4, XsaveImage);
inline constexpr unsigned long kSetXsave = _IOW(KVMIO, 0xa5, XsaveImage);
inline constexpr unsigned long kGetXsave2 = _IOR(KVMIO, 0xcf, XsaveImage);
static_assert(kGetXsave == 0x9000aea4);
static_assert(kSetXsave == 0x5000aea5);
static_assert(kGetXsave2 == 0x9000aecf);

static_assert(kCapPit2 == KVM_CAP_PIT2);
static_assert(kCapXsave == KVM_CAP_XSAVE);
static_assert(kCapXcrs == KVM_CAP_XCRS);

// x86_64 layouts from api.rst.
static_assert(sizeof(kvm_pit_config) == 64);
static_assert(sizeof(kvm_clock_data) == 48);
static_assert(sizeof(kvm_regs) == 18 * 8);
static_assert(offsetof(kvm_regs, rip) == 16 * 8);
static_assert(sizeof(kvm_segment) == 24);
static_assert(sizeof(kvm_dtable) == 16);
static_assert(sizeof(kvm_sregs) == 312);
static_assert(offsetof(kvm_sregs, efer) == 264);
static_assert(sizeof(kvm_fpu) == 416);
static_assert(offsetof(kvm_fpu, xmm) == 152);
static_assert(sizeof(kvm_debugregs) == 128);
static_assert(sizeof(kvm_xcr) == 16);
static_assert(sizeof(kvm_xcrs) == 8 + 16 * 16 + 16 * 8);
static_assert(sizeof(kvm_msr_entry) == 16);
static_assert(sizeof(kvm_cpuid_entry2) == 40);
static_assert(sizeof(kvm_lapic_state) == 1024);
static_assert(sizeof(kvm_interrupt) == 4);
static_assert(sizeof(kvm_vcpu_events) == 64);
static_assert(offsetof(kvm_vcpu_events, flags) == 20);
static_assert(offsetof(kvm_vcpu_events, smi) == 24);
static_assert(sizeof(kvm_mp_state) == 4);
static_assert(sizeof(kvm_irqchip) == 8 + 512);
static_assert(sizeof(kvm_pic_state) == 16);
static_assert(sizeof(kvm_ioapic_state) == 24 + 24 * 8);
static_assert(sizeof(kvm_pit_channel_state) == 24);
static_assert(sizeof(kvm_pit_state2) == 3 * 24 + 40);
// KVM_X86_SET_MSR_FILTER: flags, then 16 ranges of {flags, nmsrs, base,
// bitmap pointer}; no flexible array, so the ioctl number is the kernel's.
static_assert(sizeof(kvm_msr_filter_range) == 24);
static_assert(offsetof(kvm_msr_filter, ranges) == 8);
static_assert(sizeof(kvm_msr_filter) == 8 + 16 * 24);
static_assert(KVM_X86_SET_MSR_FILTER == 0x4188aec6);
static_assert(KVM_MSR_FILTER_MAX_RANGES == 16);

// TscOffsetAttr(): the vCPU attribute KVM_{HAS,SET,GET}_DEVICE_ATTR take
// for the TSC offset (api.rst, 4.2 KVM_VCPU_TSC_CTRL); the kernel reads or
// writes the u64 at `value`.
inline kvm_device_attr TscOffsetAttr(uint64_t* value) {
  return DeviceAttr(KVM_VCPU_TSC_CTRL, KVM_VCPU_TSC_OFFSET, value);
}

}  // namespace hv::kvm_abi

#endif  // HV_HYPERVISOR_KVM_KVM_ABI_X86_64_H_
