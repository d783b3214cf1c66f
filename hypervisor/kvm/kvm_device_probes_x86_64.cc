// KvmDevice's probes of x86_64 settings that a KVM may accept and ignore.
//
// kvm_pvm (a nested, paravirtual KVM some hosts have) takes
// KVM_SET_DEVICE_ATTR(KVM_VCPU_TSC_OFFSET) and KVM_SET_XCRS without an error
// and then ignores them: the offset reads back 0, and the guest's XGETBV
// returns the host's XCR0 whatever was set. A capability built on either is
// therefore reported only after a probe on a scratch VM showed the setting
// reach the guest. Each probe runs once per KvmDevice, on first use, and any
// failure along the way counts as "not honoured".
#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "hypervisor/kvm/kvm_abi_x86_64.h"
#include "hypervisor/kvm/kvm_device.h"
#include "hypervisor/kvm/kvm_fd.h"
#include "hypervisor/x86_64/arch_bits.h"

namespace hv {
namespace {

// The offset the TSC probe writes: large, and not a value a kernel would
// produce by rounding.
constexpr uint64_t kProbeTscOffset = (uint64_t{1} << 40) + 0x1234567;

// The XCR0 values the XCR probe sets in turn: x87 plus SSE, then x87 alone
// (SDM Vol. 1, Section 13.3: every XSAVE CPU allows both). No single value
// a kernel might leave in place -- KVM's reset value 0x1, or a host's own
// XCR0 -- equals both.
constexpr uint64_t kProbeXcr0s[] = {0x3, 0x1};

// Real-mode code the XCR probe runs at guest address 0 (CS base 0):
//   66 31 c9   xor ecx, ecx
//   0f 01 d0   xgetbv          ; EDX:EAX = XCR0 (SDM Vol. 1, Section 13.3)
//   f4         hlt             ; KVM_EXIT_HLT (no in-kernel irqchip)
constexpr uint8_t kXgetbvCode[] = {0x66, 0x31, 0xc9, 0x0f, 0x01, 0xd0, 0xf4};

// A VM with one vCPU, closed on destruction.
struct ScratchVcpu {
  ScratchVcpu(KvmSys* sys, const KvmDevice& device)
      : vm(sys, sys->Ioctl(device.fd.get(), KVM_CREATE_VM, device.vm_type)),
        vcpu(sys, vm.valid() ? sys->Ioctl(vm.get(), KVM_CREATE_VCPU, 0) : -1) {}
  bool valid() const { return vm.valid() && vcpu.valid(); }

  KvmFd vm;
  KvmFd vcpu;
};

// An anonymous mapping through the seam, unmapped on destruction.
struct ScratchMapping {
  ScratchMapping(KvmSys* sys, size_t size, int prot, int flags, int fd)
      : sys(sys), size(size),
        address(sys->Mmap(nullptr, size, prot, flags, fd, 0)) {}
  ~ScratchMapping() {
    if (valid()) sys->Munmap(address, size);
  }
  bool valid() const { return address != MAP_FAILED; }

  KvmSys* const sys;
  const size_t size;
  void* const address;
};

bool TscOffsetReadsBack(KvmSys* sys, const KvmDevice& device) {
  ScratchVcpu scratch(sys, device);
  if (!scratch.valid()) return false;
  uint64_t value = kProbeTscOffset;
  const kvm_device_attr attr = kvm_abi::TscOffsetAttr(&value);
  const int fd = scratch.vcpu.get();
  if (sys->IoctlPtr(fd, KVM_HAS_DEVICE_ATTR, &attr) < 0) return false;
  if (sys->IoctlPtr(fd, KVM_SET_DEVICE_ATTR, &attr) < 0) return false;
  value = 0;
  if (sys->IoctlPtr(fd, KVM_GET_DEVICE_ATTR, &attr) < 0) return false;
  return value == kProbeTscOffset;
}

// Sets XCR0 to each of kProbeXcr0s and runs XGETBV in the guest. A KVM whose guest
// CPL0 code is emulated without XGETBV (kvm_pvm) ends the run with an
// internal error instead, which is also "not honoured".
bool GuestSeesXcr0(KvmSys* sys, const KvmDevice& device) {
  ScratchVcpu scratch(sys, device);
  if (!scratch.valid()) return false;
  constexpr size_t kPage = 4096;
  ScratchMapping ram(sys, kPage, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1);
  if (!ram.valid()) return false;
  std::memcpy(ram.address, kXgetbvCode, sizeof(kXgetbvCode));
  const kvm_userspace_memory_region region =
      kvm_abi::UserMemoryRegion(0, 0, 0, kPage, ram.address);
  if (sys->IoctlPtr(scratch.vm.get(), KVM_SET_USER_MEMORY_REGION, &region) < 0) {
    return false;
  }
  const int fd = scratch.vcpu.get();
  ScratchMapping run(sys, device.vcpu_mmap_size, PROT_READ | PROT_WRITE,
                     MAP_SHARED, fd);
  if (!run.valid()) return false;

  // The guest's CPUID must offer XSAVE before CR4.OSXSAVE or XCR0 can be
  // set; the supported CPUID, unchanged, does.
  absl::StatusOr<std::vector<CpuidEntry>> cpuid = device.GetSupportedCpuid();
  if (!cpuid.ok() || !SetCpuid2(sys, fd, *cpuid).ok()) return false;
  kvm_sregs sregs = {};
  if (sys->IoctlPtr(fd, KVM_GET_SREGS, &sregs) < 0) return false;
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  sregs.cr4 |= x86::kCr4Osxsave;  // XGETBV faults without it
  if (sys->IoctlPtr(fd, KVM_SET_SREGS, &sregs) < 0) return false;
  for (uint64_t xcr0 : kProbeXcr0s) {
    kvm_regs regs = {};
    regs.rip = 0;
    regs.rflags = 0x2;  // bit 1 is reserved as 1 (SDM Vol. 1, Section 3.4.3)
    if (sys->IoctlPtr(fd, KVM_SET_REGS, &regs) < 0) return false;
    kvm_xcrs xcrs = {};
    xcrs.nr_xcrs = 1;
    xcrs.xcrs[0].xcr = 0;
    xcrs.xcrs[0].value = xcr0;
    if (sys->IoctlPtr(fd, KVM_SET_XCRS, &xcrs) < 0) return false;
    if (sys->Ioctl(fd, KVM_RUN, 0) < 0) return false;
    // SAFETY: the kernel writes kvm_run only during KVM_RUN, which returned
    // on this thread; the mapping holds a whole kvm_run (KvmDevice::Open
    // checked its size).
    const auto* run_state = static_cast<const kvm_run*>(run.address);
    if (run_state->exit_reason != KVM_EXIT_HLT) return false;
    if (sys->IoctlPtr(fd, KVM_GET_REGS, &regs) < 0) return false;
    const uint64_t guest_xcr0 =
        ((regs.rdx & 0xffffffff) << 32) | (regs.rax & 0xffffffff);
    if (guest_xcr0 != xcr0) return false;
  }
  return true;
}

}  // namespace

bool KvmDevice::TscOffsetHonoured() const {
  std::call_once(tsc_offset_probe_once_, [this] {
    tsc_offset_honoured_ =
        caps.vcpu_attributes > 0 && TscOffsetReadsBack(sys, *this);
  });
  return tsc_offset_honoured_;
}

bool KvmDevice::XcrsHonoured() const {
  std::call_once(xcrs_probe_once_, [this] {
    xcrs_honoured_ = caps.xcrs > 0 && GuestSeesXcr0(sys, *this);
  });
  return xcrs_honoured_;
}

}  // namespace hv
