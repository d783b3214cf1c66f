// The KVM ABI as the KVM backend uses it: the system's <linux/kvm.h> (Debian
// 12: linux-libc-dev 6.1), checked by static_asserts against the layouts the
// kernel documents (Documentation/virt/kvm/api.rst), plus the few numbers
// that header does not define.
//
// Internal to hypervisor/kvm: public headers never include this file.
//
// Example:
//   kvm_userspace_memory_region region = {};
//   region.slot = slot;
//   sys->IoctlPtr(vm_fd, KVM_SET_USER_MEMORY_REGION, &region);
#ifndef HV_HYPERVISOR_KVM_KVM_ABI_H_
#define HV_HYPERVISOR_KVM_KVM_ABI_H_

#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hv::kvm_abi {

// The only stable KVM API version (KVM_GET_API_VERSION).
inline constexpr int kApiVersion = 12;

// ChromeOS kernels carry a memslot flag that makes KVM honour the guest's
// memory type for the slot, announced by their own capability. crosvm's
// kvm_sys names them KVM_MEM_NON_COHERENT_DMA = 1 << 3 and
// KVM_CAP_USER_CONFIGURE_NONCOHERENT_DMA = 236. Upstream never merged them
// and has since given 236 to KVM_CAP_PRE_FAULT_MEMORY (233 is
// KVM_CAP_MEMORY_ATTRIBUTES), so a non-zero 236 alone proves nothing: the
// backend also checks that the kernel accepts the flag (see KvmVm).
inline constexpr uint32_t kMemNonCoherentDma = 1u << 3;
inline constexpr int kCapUserConfigureNoncoherentDma = 236;

// KVM_GET_SUPPORTED_CPUID: the first buffer size tried; doubled on E2BIG up
// to kMaxCpuidEntries.
inline constexpr uint32_t kInitialCpuidEntries = 64;
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

// The same mistake reaches the ioctl numbers, which encode the struct size:
// under g++ KVM_GET_MSRS & co. come out with 16 or 12 where the kernel
// expects 8, and the kernel rejects them (EINVAL). hv uses these instead.
inline constexpr unsigned long kGetSupportedCpuid =
    _IOWR(KVMIO, 0x05, Cpuid2Header);
inline constexpr unsigned long kGetMsrs = _IOWR(KVMIO, 0x88, MsrsHeader);
inline constexpr unsigned long kSetMsrs = _IOW(KVMIO, 0x89, MsrsHeader);
inline constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, Cpuid2Header);
// The kernel's values (as a C compiler computes them).
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

// FlexBuffer<Header, Entry>: zeroed, 8-byte aligned storage for a header
// followed by `count` entries, as the kernel expects it.
template <typename Header, typename Entry>
class FlexBuffer {
 public:
  explicit FlexBuffer(size_t count)
      : storage_((sizeof(Header) + count * sizeof(Entry) + 7) / 8, 0) {
    static_assert(alignof(Header) <= 8 && alignof(Entry) <= 8);
    static_assert(sizeof(Header) % alignof(Entry) == 0);
  }
  // SAFETY (both accessors): storage_ holds sizeof(Header) + count entries,
  // is 8-byte aligned (enough for Header and Entry) and zero-initialised;
  // Header and Entry are C structs with no invariants.
  Header* header() { return reinterpret_cast<Header*>(storage_.data()); }
  Entry* entries() {
    return reinterpret_cast<Entry*>(
        reinterpret_cast<uint8_t*>(storage_.data()) + sizeof(Header));
  }
  void* data() { return storage_.data(); }

 private:
  std::vector<uint64_t> storage_;
};

// Layouts from api.rst; the kernel's ABI never changes them.
static_assert(sizeof(kvm_userspace_memory_region) == 32);
static_assert(offsetof(kvm_userspace_memory_region, guest_phys_addr) == 8);
static_assert(offsetof(kvm_userspace_memory_region, userspace_addr) == 24);
static_assert(sizeof(kvm_dirty_log) == 16);
static_assert(sizeof(kvm_ioeventfd) == 64);
static_assert(offsetof(kvm_ioeventfd, fd) == 20);
static_assert(sizeof(kvm_irqfd) == 32);
static_assert(sizeof(kvm_irq_level) == 8);
static_assert(sizeof(kvm_enable_cap) == 104);
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
static_assert(sizeof(kvm_device_attr) == 24);
// kvm_run: the shared page. Offsets of the fields the backend reads/writes.
static_assert(offsetof(kvm_run, request_interrupt_window) == 0);
static_assert(offsetof(kvm_run, immediate_exit) == 1);
static_assert(offsetof(kvm_run, exit_reason) == 8);
static_assert(offsetof(kvm_run, ready_for_interrupt_injection) == 12);
static_assert(offsetof(kvm_run, if_flag) == 13);
static_assert(offsetof(kvm_run, io) == 32);
static_assert(offsetof(kvm_run, io.data_offset) == 40);
static_assert(offsetof(kvm_run, mmio.data) == 40);
static_assert(offsetof(kvm_run, mmio.len) == 48);
static_assert(offsetof(kvm_run, mmio.is_write) == 52);
static_assert(offsetof(kvm_run, system_event.flags) == 40);
static_assert(sizeof(kvm_run) == 2352);

}  // namespace hv::kvm_abi

#endif  // HV_HYPERVISOR_KVM_KVM_ABI_H_
