// The Gunyah userspace ABI (/dev/gunyah) as the Gunyah backend and its fake
// use it: ioctl numbers, argument structs and constants, written by hv from
// the layouts documented in the Gunyah kernel patch series'
// include/uapi/linux/gunyah.h, at the revision crosvm's gunyah_sys binds
// (hypervisor/src/gunyah/gunyah_sys/bindings.rs: "gh_" names, no
// GH_MEM_LENT flag, enum gh_vm_status, 8-byte exit reasons; the revision
// carried by Android's android14-6.1 kernels), plus GH_VM_SET_BOOT_CONTEXT,
// which crosvm binds by hand from the later revision.
//
// No kernel header is included: Debian's linux-libc-dev has no gunyah.h.
// Every layout is checked below by static_asserts, so the header compiles
// (and means the same) on x86_64 and aarch64 hosts.
//
// Internal to hypervisor/gunyah and testing/fakes:gunyah_fake; public
// headers never include it.
//
// Example:
//   hv::gunyah_abi::UserspaceMemoryRegion region = {};
//   region.label = slot;
//   region.flags = hv::gunyah_abi::kMemAllowRead | hv::gunyah_abi::kMemAllowWrite;
//   sys->IoctlPtr(vm_fd, hv::gunyah_abi::kVmSetUserMemRegion, &region);
#ifndef HV_HYPERVISOR_GUNYAH_GUNYAH_ABI_H_
#define HV_HYPERVISOR_GUNYAH_GUNYAH_ABI_H_

#include <cstddef>
#include <cstdint>

namespace hv::gunyah_abi {

// --- ioctl request numbers -------------------------------------------------
//
// Linux's generic ioctl encoding (include/uapi/asm-generic/ioctl.h, used by
// both x86_64 and arm64): bits 0-7 the number, 8-15 the type ("magic"),
// 16-29 the argument size, 30-31 the direction (0 none, 1 write, 2 read).
inline constexpr uint32_t kIocNone = 0;
inline constexpr uint32_t kIocWrite = 1;
inline constexpr uint32_t kIocRead = 2;

constexpr unsigned long Ioc(uint32_t dir, uint32_t type, uint32_t nr,
                            uint32_t size) {
  return (static_cast<unsigned long>(dir) << 30) |
         (static_cast<unsigned long>(size & 0x3fff) << 16) |
         (static_cast<unsigned long>(type & 0xff) << 8) |
         static_cast<unsigned long>(nr & 0xff);
}
// _IO(type, nr): no argument (or an integer argument).
constexpr unsigned long Io(uint32_t type, uint32_t nr) {
  return Ioc(kIocNone, type, nr, 0);
}
// _IOW(type, nr, T): user space passes a pointer to a T the kernel reads.
template <typename T>
constexpr unsigned long Iow(uint32_t type, uint32_t nr) {
  return Ioc(kIocWrite, type, nr, sizeof(T));
}

// The ioctl type of /dev/gunyah and its VM and vCPU fds: 'G'.
inline constexpr uint32_t kIoctlType = 'G';

// --- structs ---------------------------------------------------------------

// GH_MEM_ALLOW_*: the guest's access to a memory region (the kernel rejects
// any other flag bit with EINVAL).
inline constexpr uint32_t kMemAllowRead = 1u << 0;
inline constexpr uint32_t kMemAllowWrite = 1u << 1;
inline constexpr uint32_t kMemAllowExec = 1u << 2;
inline constexpr uint32_t kMemAllowAll =
    kMemAllowRead | kMemAllowWrite | kMemAllowExec;

// struct gh_userspace_memory_region: `memory_size` bytes of the caller's
// memory at `userspace_addr` become guest memory at `guest_phys_addr`.
// `label` names the region (unique per VM); all three addresses/sizes must
// be page aligned and the size non-zero.
struct UserspaceMemoryRegion {
  uint32_t label;
  uint32_t flags;
  uint64_t guest_phys_addr;
  uint64_t memory_size;
  uint64_t userspace_addr;
};

// struct gh_vm_dtb_config: where the VM's devicetree lies in guest memory
// (the resource manager configures the VM from it when it starts).
struct VmDtbConfig {
  uint64_t guest_phys_addr;
  uint64_t size;
};

// GH_FN_*: the VM function types (struct gh_fn_desc.type).
inline constexpr uint32_t kFnVcpu = 1;
inline constexpr uint32_t kFnIrqfd = 2;
inline constexpr uint32_t kFnIoeventfd = 3;
// GH_FN_MAX_ARG_SIZE: the largest gh_fn_desc.arg_size the kernel accepts.
inline constexpr uint32_t kFnMaxArgSize = 256;

// struct gh_fn_vcpu_arg: GH_FN_VCPU; returns the vCPU's fd.
struct FnVcpuArg {
  uint32_t id;
};

// GH_IRQFD_LEVEL: the doorbell behaves as a level-triggered interrupt.
inline constexpr uint32_t kIrqfdLevel = 1u << 0;

// struct gh_fn_irqfd_arg: GH_FN_IRQFD; writing eventfd `fd` rings the
// doorbell `label` (the guest's devicetree maps it to an interrupt).
struct FnIrqfdArg {
  uint32_t fd;
  uint32_t label;
  uint32_t flags;
  uint32_t padding;
};

// GH_IOEVENTFD_DATAMATCH: signal only for writes of `datamatch`. (crosvm
// passes 1 << GH_IOEVENTFD_DATAMATCH, i.e. 2, which the kernel rejects as a
// reserved bit; the documented value is bit 0.)
inline constexpr uint32_t kIoeventfdDatamatch = 1u << 0;

// struct gh_fn_ioeventfd_arg: GH_FN_IOEVENTFD; a guest write of `len`
// bytes (1, 2, 4, 8; 0: any) at MMIO address `addr` signals eventfd `fd`
// instead of exiting to user space.
struct FnIoeventfdArg {
  uint64_t datamatch;
  uint64_t addr;
  uint32_t len;
  int32_t fd;
  uint32_t flags;
  uint32_t padding;
};

// struct gh_fn_desc: GH_VM_ADD_FUNCTION / GH_VM_REMOVE_FUNCTION; `arg`
// carries a pointer to `arg_size` bytes of the type's argument struct.
struct FnDesc {
  uint32_t type;
  uint32_t arg_size;
  uint64_t arg;
};

// enum gh_vm_status: why a VM no longer runs (gh_vcpu_run.status.status).
inline constexpr uint32_t kVmStatusLoadFailed = 1;
inline constexpr uint32_t kVmStatusExited = 2;
inline constexpr uint32_t kVmStatusCrashed = 3;

// GH_VM_MAX_EXIT_REASON_SIZE.
inline constexpr uint32_t kVmMaxExitReasonSize = 8;

// The resource manager's VM exit types (gh_vm_exit_info.type), as crosvm's
// gunyah/mod.rs lists them (GH_RM_EXIT_TYPE_*).
inline constexpr uint16_t kExitTypeVmExit = 0;
inline constexpr uint16_t kExitTypePsciPowerOff = 1;
inline constexpr uint16_t kExitTypePsciSystemReset = 2;
inline constexpr uint16_t kExitTypePsciSystemReset2 = 3;
inline constexpr uint16_t kExitTypeWatchdogBite = 4;
inline constexpr uint16_t kExitTypeHypervisorError = 5;
inline constexpr uint16_t kExitTypeAsyncExternalAbort = 6;
inline constexpr uint16_t kExitTypeVmForceStopped = 7;

// struct gh_vm_exit_info: how an exited VM exited.
struct VmExitInfo {
  uint16_t type;
  uint16_t padding;
  uint32_t reason_size;
  uint8_t reason[kVmMaxExitReasonSize];
};

// GH_VCPU_EXIT_*: gh_vcpu_run.exit_reason.
inline constexpr uint32_t kVcpuExitUnknown = 0;
inline constexpr uint32_t kVcpuExitMmio = 1;
inline constexpr uint32_t kVcpuExitStatus = 2;

// struct gh_vcpu_run: the vCPU fd's mapping at offset 0 (one page, whose
// size GH_VCPU_MMAP_SIZE returns). `immediate_exit` is read by the kernel
// before each entry into the guest (non-zero: GH_VCPU_RUN fails with
// EINTR); the rest is written by the kernel when GH_VCPU_RUN returns 0.
struct VcpuRun {
  uint8_t immediate_exit;
  uint8_t padding[7];
  uint32_t exit_reason;
  union {
    // exit_reason == GH_VCPU_EXIT_MMIO: an access to guest memory that no
    // region backs. For a write `data` holds the bytes; for a read user
    // space fills `data` and the next GH_VCPU_RUN hands it to the guest.
    struct {
      uint64_t phys_addr;
      uint8_t data[8];
      uint32_t len;
      uint8_t is_write;
    } mmio;
    // exit_reason == GH_VCPU_EXIT_STATUS: the VM no longer runs.
    struct {
      uint32_t status;  // enum gh_vm_status
      VmExitInfo exit_info;
    } status;
  };
};

// GH_VM_SET_BOOT_CONTEXT (later revision; crosvm binds it by hand and
// tolerates ENOTTY): an initial register value of the boot vCPU, before
// the VM starts. `reg` is (set << 8) | index.
inline constexpr uint32_t kBootContextRegShift = 8;
inline constexpr uint32_t kBootContextSetX = 0;   // index 0-31: x0..x30
inline constexpr uint32_t kBootContextSetPc = 1;  // index 0
inline constexpr uint32_t kBootContextSetSp = 2;  // index 0-2
constexpr uint32_t BootContextReg(uint32_t set, uint32_t index) {
  return ((set & 0xff) << kBootContextRegShift) | (index & 0xff);
}

struct VmBootContext {
  uint32_t reg;
  uint32_t reserved;
  uint64_t value;
};

// --- ioctls ----------------------------------------------------------------

// /dev/gunyah: GH_CREATE_VM (argument 0, reserved) returns a VM fd.
inline constexpr unsigned long kCreateVm = Io(kIoctlType, 0x0);
// VM fds.
inline constexpr unsigned long kVmSetUserMemRegion =
    Iow<UserspaceMemoryRegion>(kIoctlType, 0x1);
inline constexpr unsigned long kVmSetDtbConfig =
    Iow<VmDtbConfig>(kIoctlType, 0x2);
inline constexpr unsigned long kVmStart = Io(kIoctlType, 0x3);
inline constexpr unsigned long kVmAddFunction = Iow<FnDesc>(kIoctlType, 0x4);
inline constexpr unsigned long kVmRemoveFunction =
    Iow<FnDesc>(kIoctlType, 0x7);
inline constexpr unsigned long kVmSetBootContext =
    Iow<VmBootContext>(kIoctlType, 0xa);
// vCPU fds.
inline constexpr unsigned long kVcpuRun = Io(kIoctlType, 0x5);
inline constexpr unsigned long kVcpuMmapSize = Io(kIoctlType, 0x6);

// --- layout checks ---------------------------------------------------------

static_assert(sizeof(UserspaceMemoryRegion) == 32);
static_assert(offsetof(UserspaceMemoryRegion, flags) == 4);
static_assert(offsetof(UserspaceMemoryRegion, guest_phys_addr) == 8);
static_assert(offsetof(UserspaceMemoryRegion, memory_size) == 16);
static_assert(offsetof(UserspaceMemoryRegion, userspace_addr) == 24);
static_assert(sizeof(VmDtbConfig) == 16);
static_assert(sizeof(FnVcpuArg) == 4);
static_assert(sizeof(FnIrqfdArg) == 16);
static_assert(offsetof(FnIrqfdArg, label) == 4);
static_assert(offsetof(FnIrqfdArg, flags) == 8);
static_assert(sizeof(FnIoeventfdArg) == 32);
static_assert(offsetof(FnIoeventfdArg, addr) == 8);
static_assert(offsetof(FnIoeventfdArg, len) == 16);
static_assert(offsetof(FnIoeventfdArg, fd) == 20);
static_assert(offsetof(FnIoeventfdArg, flags) == 24);
static_assert(sizeof(FnDesc) == 16);
static_assert(offsetof(FnDesc, arg) == 8);
static_assert(sizeof(VmExitInfo) == 16);
static_assert(offsetof(VmExitInfo, reason_size) == 4);
static_assert(offsetof(VmExitInfo, reason) == 8);
static_assert(sizeof(VcpuRun) == 40);
static_assert(offsetof(VcpuRun, exit_reason) == 8);
static_assert(offsetof(VcpuRun, mmio.phys_addr) == 16);
static_assert(offsetof(VcpuRun, mmio.data) == 24);
static_assert(offsetof(VcpuRun, mmio.len) == 32);
static_assert(offsetof(VcpuRun, mmio.is_write) == 36);
static_assert(offsetof(VcpuRun, status.status) == 16);
static_assert(offsetof(VcpuRun, status.exit_info) == 20);
static_assert(sizeof(VmBootContext) == 16);
// The numbers the kernel's _IO/_IOW macros give (checked by hand against
// the generic encoding).
static_assert(kCreateVm == 0x4700);
static_assert(kVmSetUserMemRegion == 0x40204701);
static_assert(kVmSetDtbConfig == 0x40104702);
static_assert(kVmStart == 0x4703);
static_assert(kVmAddFunction == 0x40104704);
static_assert(kVcpuRun == 0x4705);
static_assert(kVcpuMmapSize == 0x4706);
static_assert(kVmRemoveFunction == 0x40104707);
static_assert(kVmSetBootContext == 0x4010470a);

}  // namespace hv::gunyah_abi

#endif  // HV_HYPERVISOR_GUNYAH_GUNYAH_ABI_H_
