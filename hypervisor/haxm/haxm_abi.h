// The Intel HAXM driver's user-space ABI, as hv's own definitions: the
// structures exchanged through ioctls and the vCPU tunnel (packed exactly as
// HAXM packs them, checked below with static_asserts on sizes and offsets),
// the capability and flag bits, the exit statuses, and BOTH numberings of the
// ioctls: Windows DeviceIoControl codes (CTL_CODE on device type 0x4000) and
// the POSIX port's _IOx numbers (Linux encoding, type 0). Internal to
// hypervisor/haxm and its fake; no SDK or driver header is included.
//
// Sources (facts only, written here from scratch): Intel's haxm repository,
// include/hax_interface.h, include/hax_vcpu_state.h,
// include/windows/hax_interface_windows.h, include/linux/hax_interface_linux.h,
// core/include/vm.h (enum exit_status), docs/api.md; crosvm's
// hypervisor/src/haxm/haxm_sys.
//
// Which numbering a process uses is a property of the seam (HaxmSys::platform)
// so one binary can talk to either; the real seams pick the host's, the fake
// can be built with either and checks codes against it.
//
// Example:
//   const hv::haxm_abi::Platform& p = hv::haxm_abi::PosixPlatform();
//   hv::haxm_abi::hax_set_ram_info2 info = {};
//   info.pa_start = 0x100000; info.size = 0x10000; info.va = host;
//   info.flags = hv::haxm_abi::kRamInfoStandalone;
//   sys->Ioctl(vm, p.codes.vm_set_ram2, &info, sizeof(info), 0);
#ifndef HV_HYPERVISOR_HAXM_HAXM_ABI_H_
#define HV_HYPERVISOR_HAXM_HAXM_ABI_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace hv::haxm_abi {

// ---------------------------------------------------------------------------
// Versions and limits.

// API versions (HAX_IOCTL_VERSION). v4 adds HAX_RAM_INFO_INVALID unmapping,
// which the backend needs to remove regions.
inline constexpr uint32_t kApiVersionRequired = 4;
// What the backend tells HAX_VM_IOCTL_NOTIFY_QEMU_VERSION: it handles fast
// MMIO with directions 0/1 only (v2). Announcing v4 would let pre-7.3
// drivers hand out MMIO-to-MMIO moves (directions 2/3), which hv's one-access
// MMIO exit cannot express.
inline constexpr uint32_t kUserApiVersion = 2;

inline constexpr uint32_t kMaxVcpus = 16;         // core/include/config.h
inline constexpr uint32_t kMaxVms = 64;           // (8 on NetBSD)
inline constexpr uint32_t kIoBufferSize = 64;     // IOS_MAX_BUFFER
inline constexpr uint32_t kPageSize = 4096;       // HAX_PAGE_SIZE
inline constexpr uint32_t kMaxMsrs = 0x20;        // HAX_MAX_MSR_ARRAY
inline constexpr uint32_t kMaxCpuidEntries = 0x40;

// ---------------------------------------------------------------------------
// Capabilities (HAX_IOCTL_CAPABILITY).

// wstatus bits.
inline constexpr uint16_t kCapStatusWorking = 1 << 0;
inline constexpr uint16_t kCapMemQuota = 1 << 1;
// winfo bits when not working.
inline constexpr uint16_t kCapFailReasonVt = 1 << 0;
inline constexpr uint16_t kCapFailReasonNx = 1 << 1;
// winfo bits when working.
inline constexpr uint16_t kCapEpt = 1 << 0;
inline constexpr uint16_t kCapFastMmio = 1 << 1;
inline constexpr uint16_t kCapUg = 1 << 2;
inline constexpr uint16_t kCap64BitRamblock = 1 << 3;
inline constexpr uint16_t kCap64BitSetRam = 1 << 4;
inline constexpr uint16_t kCapTunnelPage = 1 << 5;
inline constexpr uint16_t kCapRamProtection = 1 << 6;
inline constexpr uint16_t kCapDebug = 1 << 7;
inline constexpr uint16_t kCapImplicitRamblock = 1 << 8;
inline constexpr uint16_t kCapCpuid = 1 << 9;

// ---------------------------------------------------------------------------
// Memory flags (hax_set_ram_info2.flags).

inline constexpr uint32_t kRamInfoRom = 1 << 0;
inline constexpr uint32_t kRamInfoStandalone = 1 << 6;
inline constexpr uint32_t kRamInfoInvalid = 1 << 7;

// ---------------------------------------------------------------------------
// Exit statuses (hax_tunnel._exit_status; enum exit_status in core/include/vm.h).

inline constexpr uint32_t kExitIo = 1;
inline constexpr uint32_t kExitMmio = 2;  // slow MMIO: user space emulates
inline constexpr uint32_t kExitRealMode = 3;
inline constexpr uint32_t kExitInterrupt = 4;
inline constexpr uint32_t kExitUnknown = 5;
inline constexpr uint32_t kExitHlt = 6;
inline constexpr uint32_t kExitStateChange = 7;  // the vCPU panicked
inline constexpr uint32_t kExitPaused = 8;
inline constexpr uint32_t kExitFastMmio = 9;
inline constexpr uint32_t kExitPageFault = 10;
inline constexpr uint32_t kExitDebug = 11;

// hax_tunnel.io._direction.
inline constexpr uint8_t kIoOut = 0;
inline constexpr uint8_t kIoIn = 1;
// hax_tunnel.io._flags: bit 0 set for string I/O (INS/OUTS).
inline constexpr uint8_t kIoFlagString = 1;
// hax_fastmmio.direction.
inline constexpr uint8_t kMmioRead = 0;
inline constexpr uint8_t kMmioWrite = 1;

// ---------------------------------------------------------------------------
// Structures. HAXM declares them packed; #pragma pack(1) gives the same
// layout with gcc, clang, mingw and MSVC.

#pragma pack(push, 1)

struct hax_module_version {
  uint32_t compat_version;
  uint32_t cur_version;
};

struct hax_capabilityinfo {
  uint16_t wstatus;
  uint16_t winfo;
  uint32_t win_refcount;
  uint64_t mem_quota;
};

struct hax_tunnel_info {
  uint64_t va;
  uint64_t io_va;
  uint16_t size;
  uint16_t pad[3];
};

struct hax_set_memlimit {
  uint8_t enable_memlimit;
  uint8_t pad[7];
  uint64_t memory_limit;
};

struct hax_alloc_ram_info {
  uint32_t size;
  uint32_t pad;
  uint64_t va;
};

struct hax_ramblock_info {
  uint64_t start_va;
  uint64_t size;
  uint64_t reserved;
};

struct hax_set_ram_info {
  uint64_t pa_start;
  uint32_t size;
  uint8_t flags;
  uint8_t pad[3];
  uint64_t va;
};

struct hax_set_ram_info2 {
  uint64_t pa_start;
  uint64_t size;
  uint64_t va;
  uint32_t flags;
  uint32_t reserved1;
  uint64_t reserved2;
};

struct hax_protect_ram_info {
  uint64_t pa_start;
  uint64_t size;
  uint32_t flags;
  uint32_t reserved;
};

struct hax_qemu_version {
  uint32_t cur_version;
  uint32_t least_version;
};

struct vmx_msr {
  uint64_t entry;
  uint64_t value;
};

struct hax_msr_data {
  uint16_t nr_msr;
  uint16_t done;
  uint16_t pad[2];
  vmx_msr entries[kMaxMsrs];
};

// The vCPU tunnel: one page HAXM maps into the process at
// HAX_VCPU_IOCTL_SETUP_TUNNEL. The union member is selected by _exit_status.
struct hax_tunnel {
  uint32_t exit_reason;  // VMX basic exit reason; user writes kExitPaused
  uint32_t pad0;
  uint32_t exit_status;  // kExit*
  uint32_t user_event_pending;  // bit 0: exit at the next resumable VM exit
  int32_t ready_for_interrupt_injection;
  int32_t request_interrupt_window;
  union {
    struct {
      uint8_t direction;  // kIoOut / kIoIn
      uint8_t df;         // string I/O went downwards (EFLAGS.DF)
      uint16_t size;      // bytes per access: 1, 2 or 4
      uint16_t port;
      uint16_t count;     // accesses in the I/O buffer
      uint8_t flags;      // kIoFlagString; owned by HAXM
      uint8_t pad0;
      uint16_t pad1;
      uint32_t pad2;
      uint64_t vaddr;     // owned by HAXM
    } io;
    struct {
      uint64_t gla;
    } mmio;
    struct {
      uint64_t gpa;
      uint32_t flags;
      uint32_t reserved1;
      uint64_t reserved2;
    } pagefault;
    struct {
      uint64_t dummy;
    } state;
    struct {
      uint64_t rip;
      uint64_t dr6;
      uint64_t dr7;
    } debug;
  };
  uint64_t apic_base;
};

// What the I/O buffer holds after a kExitFastMmio exit.
struct hax_fastmmio {
  uint64_t gpa;
  union {
    uint64_t value;
    uint64_t gpa2;  // directions 2/3 (MMIO-to-MMIO moves, API v4 users)
  };
  uint8_t size;
  uint8_t direction;  // kMmioRead / kMmioWrite
  uint16_t reg_index;  // obsolete
  uint32_t pad0;
  uint64_t cr0;
  uint64_t cr2;
  uint64_t cr3;
  uint64_t cr4;
};

// A segment register as the VMCS holds it. `ar` is the VMCS access-rights
// word (Intel SDM Vol. 3, Section 24.4.1, Table 24-2): type 0-3, S 4,
// DPL 5-6, P 7, AVL 12, L 13, D/B 14, G 15, unusable ("null") 16.
struct segment_desc_t {
  uint16_t selector;
  uint16_t dummy;
  uint32_t limit;
  uint64_t base;
  uint32_t ar;
  uint32_t ipad;
};

// General registers are in _regs order rax, rcx, rdx, rbx, rsp, rbp, rsi,
// rdi, r8-r15 (the x86 encoding order).
struct vcpu_state_t {
  uint64_t regs[16];
  uint64_t rip;
  uint64_t rflags;
  segment_desc_t cs;
  segment_desc_t ss;
  segment_desc_t ds;
  segment_desc_t es;
  segment_desc_t fs;
  segment_desc_t gs;
  segment_desc_t ldt;
  segment_desc_t tr;
  segment_desc_t gdt;
  segment_desc_t idt;
  uint64_t cr0;
  uint64_t cr2;
  uint64_t cr3;
  uint64_t cr4;
  uint64_t dr0;
  uint64_t dr1;
  uint64_t dr2;
  uint64_t dr3;
  uint64_t dr6;
  uint64_t dr7;
  uint64_t pde;
  uint32_t efer;
  uint32_t sysenter_cs;
  uint64_t sysenter_eip;
  uint64_t sysenter_esp;
  uint32_t activity_state;
  uint32_t pad;
  uint64_t interruptibility_state;  // a union of uint32 bits and uint64 pad
};

struct hax_debug_t {
  uint32_t control;
  uint32_t reserved;
  uint64_t dr[8];
};

struct hax_cpuid_entry {
  uint32_t function;
  uint32_t index;
  uint32_t flags;
  uint32_t eax;
  uint32_t ebx;
  uint32_t ecx;
  uint32_t edx;
  uint32_t pad[3];
};

struct hax_cpuid {
  uint32_t total;
  uint32_t pad;
  // Followed by `total` hax_cpuid_entry.
};

#pragma pack(pop)

// fx_layout: the 512-byte FXSAVE image (Intel SDM Vol. 1, Table 10-2),
// 16-byte aligned and naturally laid out (HAXM does not pack it).
struct alignas(16) fx_layout {
  uint16_t fcw;
  uint16_t fsw;
  uint8_t ftw;
  uint8_t res1;
  uint16_t fop;
  uint64_t fpu_ip;  // fip, fcs, res2 in 32-bit form
  uint64_t fpu_dp;  // fdp, fds, res3 in 32-bit form
  uint32_t mxcsr;
  uint32_t mxcsr_mask;
  uint8_t st_mm[8][16];
  uint8_t mmx_1[8][16];  // XMM0-7
  uint8_t mmx_2[8][16];  // XMM8-15
  uint8_t pad[96];
};

static_assert(sizeof(hax_module_version) == 8);
static_assert(sizeof(hax_capabilityinfo) == 16);
static_assert(offsetof(hax_capabilityinfo, mem_quota) == 8);
static_assert(sizeof(hax_tunnel_info) == 24);
static_assert(offsetof(hax_tunnel_info, size) == 16);
static_assert(sizeof(hax_set_memlimit) == 16);
static_assert(sizeof(hax_alloc_ram_info) == 16);
static_assert(offsetof(hax_alloc_ram_info, va) == 8);
static_assert(sizeof(hax_ramblock_info) == 24);
static_assert(sizeof(hax_set_ram_info) == 24);
static_assert(offsetof(hax_set_ram_info, flags) == 12);
static_assert(offsetof(hax_set_ram_info, va) == 16);
static_assert(sizeof(hax_set_ram_info2) == 40);
static_assert(offsetof(hax_set_ram_info2, va) == 16);
static_assert(offsetof(hax_set_ram_info2, flags) == 24);
static_assert(offsetof(hax_set_ram_info2, reserved1) == 28);
static_assert(offsetof(hax_set_ram_info2, reserved2) == 32);
static_assert(sizeof(hax_protect_ram_info) == 24);
static_assert(sizeof(hax_qemu_version) == 8);
static_assert(sizeof(vmx_msr) == 16);
static_assert(sizeof(hax_msr_data) == 8 + 16 * kMaxMsrs);
static_assert(offsetof(hax_msr_data, entries) == 8);
static_assert(offsetof(hax_tunnel, exit_status) == 8);
static_assert(offsetof(hax_tunnel, user_event_pending) == 12);
static_assert(offsetof(hax_tunnel, ready_for_interrupt_injection) == 16);
static_assert(offsetof(hax_tunnel, request_interrupt_window) == 20);
static_assert(offsetof(hax_tunnel, io) == 24);
static_assert(offsetof(hax_tunnel, io.size) == 26);
static_assert(offsetof(hax_tunnel, io.port) == 28);
static_assert(offsetof(hax_tunnel, io.count) == 30);
static_assert(offsetof(hax_tunnel, io.flags) == 32);
static_assert(offsetof(hax_tunnel, io.vaddr) == 40);
static_assert(offsetof(hax_tunnel, apic_base) == 48);
static_assert(sizeof(hax_tunnel) == 56);
static_assert(sizeof(hax_fastmmio) == 56);
static_assert(offsetof(hax_fastmmio, value) == 8);
static_assert(offsetof(hax_fastmmio, size) == 16);
static_assert(offsetof(hax_fastmmio, direction) == 17);
static_assert(offsetof(hax_fastmmio, cr0) == 24);
static_assert(sizeof(hax_fastmmio) <= kIoBufferSize);
static_assert(sizeof(segment_desc_t) == 24);
static_assert(offsetof(segment_desc_t, base) == 8);
static_assert(offsetof(segment_desc_t, ar) == 16);
static_assert(offsetof(vcpu_state_t, rip) == 128);
static_assert(offsetof(vcpu_state_t, rflags) == 136);
static_assert(offsetof(vcpu_state_t, cs) == 144);
static_assert(offsetof(vcpu_state_t, tr) == 312);
static_assert(offsetof(vcpu_state_t, gdt) == 336);
static_assert(offsetof(vcpu_state_t, idt) == 360);
static_assert(offsetof(vcpu_state_t, cr0) == 384);
static_assert(offsetof(vcpu_state_t, dr0) == 416);
static_assert(offsetof(vcpu_state_t, dr7) == 456);
static_assert(offsetof(vcpu_state_t, efer) == 472);
static_assert(offsetof(vcpu_state_t, sysenter_eip) == 480);
static_assert(offsetof(vcpu_state_t, activity_state) == 496);
static_assert(offsetof(vcpu_state_t, interruptibility_state) == 504);
static_assert(sizeof(vcpu_state_t) == 512);
static_assert(sizeof(hax_debug_t) == 72);
static_assert(sizeof(hax_cpuid_entry) == 40);
static_assert(sizeof(hax_cpuid) == 8);
static_assert(sizeof(fx_layout) == 512);
static_assert(alignof(fx_layout) == 16);
static_assert(offsetof(fx_layout, fpu_ip) == 8);
static_assert(offsetof(fx_layout, fpu_dp) == 16);
static_assert(offsetof(fx_layout, mxcsr) == 24);
static_assert(offsetof(fx_layout, mxcsr_mask) == 28);
static_assert(offsetof(fx_layout, st_mm) == 32);
static_assert(offsetof(fx_layout, mmx_1) == 160);
static_assert(offsetof(fx_layout, mmx_2) == 288);
static_assert(offsetof(fx_layout, pad) == 416);

// Segment access-rights bits (segment_desc_t.ar).
inline constexpr uint32_t kArTypeMask = 0xf;
inline constexpr uint32_t kArS = 1u << 4;
inline constexpr uint32_t kArDplShift = 5;
inline constexpr uint32_t kArPresent = 1u << 7;
inline constexpr uint32_t kArAvl = 1u << 12;
inline constexpr uint32_t kArL = 1u << 13;
inline constexpr uint32_t kArDb = 1u << 14;
inline constexpr uint32_t kArG = 1u << 15;
inline constexpr uint32_t kArUnusable = 1u << 16;

// ---------------------------------------------------------------------------
// Ioctl numbers.

// Windows: CTL_CODE(0x4000, function, METHOD_BUFFERED, FILE_ANY_ACCESS).
constexpr uint32_t WindowsCode(uint32_t function) {
  return (0x4000u << 16) | (0u << 14) | (function << 2) | 0u;
}

// Linux asm-generic encoding: dir << 30 | size << 16 | type << 8 | nr, with
// type 0 for HAXM. (Darwin and NetBSD use the BSD encoding of the same
// numbers; hv builds the POSIX port for Linux only.)
constexpr uint32_t LinuxCode(uint32_t dir, uint32_t nr, uint32_t size) {
  return (dir << 30) | (size << 16) | (0u << 8) | nr;
}
inline constexpr uint32_t kLinuxNone = 0, kLinuxWrite = 1, kLinuxRead = 2,
                          kLinuxReadWrite = 3;

// One platform's ioctl numbers. 0 marks an ioctl the platform lacks.
struct IoctlCodes {
  // System (\\.\HAX, /dev/HAX).
  uint32_t version;
  uint32_t create_vm;
  uint32_t capability;
  uint32_t set_memlimit;
  // VM.
  uint32_t vm_vcpu_create;
  uint32_t vm_alloc_ram;
  uint32_t vm_set_ram;
  uint32_t vm_add_ramblock;
  uint32_t vm_set_ram2;
  uint32_t vm_protect_ram;
  uint32_t vm_notify_qemu_version;
  // vCPU.
  uint32_t vcpu_run;
  uint32_t vcpu_set_msrs;
  uint32_t vcpu_get_msrs;
  uint32_t vcpu_set_fpu;
  uint32_t vcpu_get_fpu;
  uint32_t vcpu_setup_tunnel;
  uint32_t vcpu_interrupt;
  uint32_t vcpu_set_regs;
  uint32_t vcpu_get_regs;
  uint32_t vcpu_kickoff;  // Windows only: IPI the CPU running the vCPU
  uint32_t vcpu_debug;
  uint32_t vcpu_set_cpuid;
};

inline constexpr IoctlCodes kWindowsCodes = {
    WindowsCode(0x900), WindowsCode(0x901), WindowsCode(0x910),
    WindowsCode(0x911), WindowsCode(0x902), WindowsCode(0x903),
    WindowsCode(0x904), WindowsCode(0x913), WindowsCode(0x914),
    WindowsCode(0x915), WindowsCode(0x910), WindowsCode(0x906),
    WindowsCode(0x907), WindowsCode(0x908), WindowsCode(0x909),
    WindowsCode(0x90a), WindowsCode(0x90b), WindowsCode(0x90c),
    WindowsCode(0x90d), WindowsCode(0x90e), WindowsCode(0x90f),
    WindowsCode(0x916), WindowsCode(0x917),
};

inline constexpr IoctlCodes kLinuxCodes = {
    LinuxCode(kLinuxReadWrite, 0x20, sizeof(hax_module_version)),
    LinuxCode(kLinuxReadWrite, 0x21, sizeof(uint32_t)),
    LinuxCode(kLinuxRead, 0x23, sizeof(hax_capabilityinfo)),
    LinuxCode(kLinuxReadWrite, 0x24, sizeof(hax_set_memlimit)),
    LinuxCode(kLinuxReadWrite, 0x80, sizeof(uint32_t)),
    LinuxCode(kLinuxReadWrite, 0x81, sizeof(hax_alloc_ram_info)),
    LinuxCode(kLinuxReadWrite, 0x82, sizeof(hax_set_ram_info)),
    LinuxCode(kLinuxWrite, 0x85, sizeof(hax_ramblock_info)),
    LinuxCode(kLinuxReadWrite, 0x86, sizeof(hax_set_ram_info2)),
    LinuxCode(kLinuxReadWrite, 0x87, sizeof(hax_protect_ram_info)),
    LinuxCode(kLinuxWrite, 0x84, sizeof(hax_qemu_version)),
    LinuxCode(kLinuxNone, 0xc0, 0),
    LinuxCode(kLinuxReadWrite, 0xc1, sizeof(hax_msr_data)),
    LinuxCode(kLinuxReadWrite, 0xc2, sizeof(hax_msr_data)),
    LinuxCode(kLinuxWrite, 0xc3, sizeof(fx_layout)),
    LinuxCode(kLinuxRead, 0xc4, sizeof(fx_layout)),
    LinuxCode(kLinuxReadWrite, 0xc5, sizeof(hax_tunnel_info)),
    LinuxCode(kLinuxReadWrite, 0xc6, sizeof(uint32_t)),
    LinuxCode(kLinuxReadWrite, 0xc7, sizeof(vcpu_state_t)),
    LinuxCode(kLinuxReadWrite, 0xc8, sizeof(vcpu_state_t)),
    0,
    LinuxCode(kLinuxWrite, 0xc9, sizeof(hax_debug_t)),
    LinuxCode(kLinuxWrite, 0xca, sizeof(void*)),
};

// Spot checks against the numbers the headers' macros expand to.
static_assert(kWindowsCodes.version == 0x40002400);
static_assert(kWindowsCodes.vm_set_ram2 == 0x40002450);
static_assert(kWindowsCodes.vcpu_run == 0x40002418);
static_assert(kWindowsCodes.capability == kWindowsCodes.vm_notify_qemu_version,
              "HAXM reuses 0x910 on the system and VM devices");
static_assert(kLinuxCodes.version == 0xc0080020);
static_assert(kLinuxCodes.vm_set_ram2 == 0xc0280086);
static_assert(kLinuxCodes.vcpu_run == 0xc0);
static_assert(kLinuxCodes.vcpu_set_msrs == 0xc20800c1);
static_assert(kLinuxCodes.vcpu_get_fpu == 0x820000c4);

// Error numbers the driver's failures arrive as in user space: errno values
// on POSIX; on Windows the Win32 errors the I/O manager maps the driver's
// NTSTATUS to (STATUS_INVALID_PARAMETER -> 87, STATUS_UNSUCCESSFUL -> 31,
// STATUS_BUFFER_TOO_SMALL -> 122, STATUS_INVALID_DEVICE_REQUEST -> 1,
// STATUS_INVALID_HANDLE -> 6).
struct DriverErrors {
  int invalid_parameter;  // a bad size, flag, reserved field or argument
  int unsuccessful;       // the core refused (STATUS_UNSUCCESSFUL)
  int buffer_too_small;
  int unknown_ioctl;
  int no_memory;
  int fault;              // POSIX: copy_from_user failed
  int no_device;          // no such device path
  int bad_handle;
};

enum class PlatformKind { kPosix, kWindows };

// Platform: everything that differs between the two device interfaces.
struct Platform {
  PlatformKind kind;
  const char* name;  // "posix" or "windows"
  IoctlCodes codes;
  DriverErrors errors;
};

const Platform& PosixPlatform();
const Platform& WindowsPlatform();

// Device paths: \\.\HAX, \\.\hax_vmNN, \\.\hax_vmNN_vcpuMM on Windows;
// /dev/HAX, /dev/hax_vm/vmNN, /dev/hax_vmNN/vcpuMM on the POSIX port.
std::string SystemDevicePath(const Platform& platform);
std::string VmDevicePath(const Platform& platform, uint32_t vm_id);
std::string VcpuDevicePath(const Platform& platform, uint32_t vm_id,
                           uint32_t vcpu_id);

// IoctlName(): "HAX_VM_IOCTL_SET_RAM2" for a code of `platform` on a device
// of the given level ("ioctl 0x..." for an unknown code). 0x910 is both
// HAX_IOCTL_CAPABILITY (system) and HAX_VM_IOCTL_NOTIFY_QEMU_VERSION (VM) on
// Windows, so the level disambiguates.
enum class DeviceLevel { kSystem, kVm, kVcpu };
std::string IoctlName(const Platform& platform, DeviceLevel level,
                      uint32_t code);

// ExitStatusName(): "HAX_EXIT_IO" etc.
const char* ExitStatusName(uint32_t status);

}  // namespace hv::haxm_abi

#endif  // HV_HYPERVISOR_HAXM_HAXM_ABI_H_
