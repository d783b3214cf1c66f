// The KVM ABI as the KVM backend uses it: the system's <linux/kvm.h> (Debian
// 12: linux-libc-dev 6.1), checked by static_asserts against the layouts the
// kernel documents (Documentation/virt/kvm/api.rst), plus the few numbers
// that header does not define.
//
// Internal to hypervisor/kvm: public headers never include this file. What
// only one architecture uses lives in kvm_abi_x86_64.h / kvm_abi_aarch64.h.
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
// backend also checks that the kernel accepts the flag (kvm_vm.cc).
inline constexpr uint32_t kMemNonCoherentDma = 1u << 3;
inline constexpr int kCapUserConfigureNoncoherentDma = 236;

// Capabilities <linux/kvm.h> defines only on x86 (behind __KVM_HAVE_PIT and
// __KVM_HAVE_XSAVE/XCRS). KvmDevice asks for them on every architecture, in
// one place; other architectures answer 0. kvm_abi_x86_64.h checks them.
inline constexpr int kCapPit2 = 33;
inline constexpr int kCapXsave = 55;
inline constexpr int kCapXcrs = 56;

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

// Layouts from api.rst that every architecture shares; the kernel's ABI
// never changes them.
static_assert(sizeof(kvm_userspace_memory_region) == 32);
static_assert(offsetof(kvm_userspace_memory_region, guest_phys_addr) == 8);
static_assert(offsetof(kvm_userspace_memory_region, userspace_addr) == 24);
static_assert(sizeof(kvm_dirty_log) == 16);
static_assert(sizeof(kvm_ioeventfd) == 64);
static_assert(offsetof(kvm_ioeventfd, fd) == 20);
static_assert(sizeof(kvm_irqfd) == 32);
static_assert(offsetof(kvm_irqfd, resamplefd) == 12);
static_assert(sizeof(kvm_irq_level) == 8);
// GSI routing (KVM_SET_GSI_ROUTING) and MSIs (KVM_SIGNAL_MSI).
// kvm_irq_routing ends in a flexible array, which the 6.1 uapi declares with
// __DECLARE_FLEX_ARRAY: under C++ that puts `entries` at offset 16 (not 8)
// and makes KVM_SET_GSI_ROUTING encode size 16, a number the kernel does
// not know (see kvm_abi_x86_64.h). hv lays out the header itself.
struct IrqRoutingHeader {
  uint32_t nr;
  uint32_t flags;
};
inline constexpr unsigned long kSetGsiRouting =
    _IOW(KVMIO, 0x6a, IrqRoutingHeader);
static_assert(kSetGsiRouting == 0x4008ae6a);
static_assert(sizeof(kvm_irq_routing_entry) == 48);
static_assert(offsetof(kvm_irq_routing_entry, type) == 4);
static_assert(offsetof(kvm_irq_routing_entry, flags) == 8);
static_assert(offsetof(kvm_irq_routing_entry, u) == 16);
static_assert(offsetof(kvm_irq_routing_msi, data) == 8);
static_assert(offsetof(kvm_irq_routing_msi, devid) == 12);
static_assert(sizeof(kvm_msi) == 32);
static_assert(offsetof(kvm_msi, flags) == 12);
static_assert(offsetof(kvm_msi, devid) == 16);
static_assert(KVM_IRQ_ROUTING_IRQCHIP == 1 && KVM_IRQ_ROUTING_MSI == 2);
static_assert(KVM_IRQFD_FLAG_RESAMPLE == 2 && KVM_MSI_VALID_DEVID == 1);
static_assert(KVM_CAP_IRQ_ROUTING == 25 && KVM_CAP_SIGNAL_MSI == 77 &&
              KVM_CAP_IRQFD_RESAMPLE == 82 && KVM_CAP_MSI_DEVID == 131);
static_assert(KVM_SIGNAL_MSI == 0x4020aea5);
static_assert(sizeof(kvm_enable_cap) == 104);
// Manual dirty-log protection: KVM_ENABLE_CAP of
// KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 (168; 166 is the obsolete first version)
// with args[0] the flags its KVM_CHECK_EXTENSION answer allows, then
// KVM_CLEAR_DIRTY_LOG = _IOWR(KVMIO, 0xc0, struct kvm_clear_dirty_log), a
// struct without a flexible array, so the header's macro is right under C++.
static_assert(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 == 168);
static_assert(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE == 1 &&
              KVM_DIRTY_LOG_INITIALLY_SET == 2);
static_assert(sizeof(kvm_clear_dirty_log) == 24);
static_assert(offsetof(kvm_clear_dirty_log, num_pages) == 4);
static_assert(offsetof(kvm_clear_dirty_log, first_page) == 8);
static_assert(offsetof(kvm_clear_dirty_log, dirty_bitmap) == 16);
static_assert(KVM_CLEAR_DIRTY_LOG == 0xc018aec0);
static_assert(KVM_GET_DIRTY_LOG == 0x4010ae42);
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

// UserMemoryRegion(): the kvm_userspace_memory_region KVM_SET_USER_MEMORY_REGION
// takes to map `size` bytes at `host` as `slot` at `guest_address` with
// `flags` (size 0: delete the slot).
inline kvm_userspace_memory_region UserMemoryRegion(uint32_t slot,
                                                    uint32_t flags,
                                                    uint64_t guest_address,
                                                    uint64_t size,
                                                    const void* host) {
  kvm_userspace_memory_region region = {};
  region.slot = slot;
  region.flags = flags;
  region.guest_phys_addr = guest_address;
  region.memory_size = size;
  region.userspace_addr = reinterpret_cast<uintptr_t>(host);
  return region;
}

// DeviceAttr(): the kvm_device_attr KVM_{HAS,SET,GET}_DEVICE_ATTR take for
// attribute `attr` of `group`, on a device, VM or vCPU fd; the kernel reads
// or writes the attribute's value at `value` (nullptr: none, address 0).
inline kvm_device_attr DeviceAttr(uint32_t group, uint64_t attr,
                                  const void* value) {
  kvm_device_attr request = {};
  request.group = group;
  request.attr = attr;
  request.addr = reinterpret_cast<uintptr_t>(value);
  return request;
}

// ArchIoctlName(): the name of an ioctl only one architecture's half of the
// backend uses (kvm_sys_<arch>.cc), nullptr for any other request.
const char* ArchIoctlName(unsigned long request);

// HV_KVM_IOCTL_NAME(KVM_X): the IoctlName entry (os/ioctl_seam.h) that
// names request KVM_X "KVM_X" (KvmIoctlName, ArchIoctlName).
#define HV_KVM_IOCTL_NAME(name) \
  { name, #name }

}  // namespace hv::kvm_abi

#endif  // HV_HYPERVISOR_KVM_KVM_ABI_H_
