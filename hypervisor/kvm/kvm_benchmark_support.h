// What the KVM benchmarks share: the guest loops of kvm_benchmark_guest.S,
// a VM driven with raw ioctls (the baseline every hv path is measured
// against, opened by the benchmark itself in the same process), the same
// guest set up through hv, and a counting KvmSys seam for checking that an
// hv operation makes no system call the raw path does not.
//
// Internal to the benchmarks in hypervisor/kvm (testonly); it includes the
// kernel's <linux/kvm.h> because the raw path reads kvm_run itself.
//
// Example:
//   ASSIGN_OR_RETURN(auto raw, hv::bench::CreateRawGuest(GuestLoop::kPioOut));
//   ioctl(raw->vcpu->fd(), KVM_RUN, 0);   // one exit: raw->vcpu->run()->io
//   ASSIGN_OR_RETURN(auto guest, hv::bench::CreateHvGuest(GuestLoop::kPioOut));
//   ASSIGN_OR_RETURN(hv::VcpuExit exit, guest->vcpu->Run());
#ifndef HV_HYPERVISOR_KVM_KVM_BENCHMARK_SUPPORT_H_
#define HV_HYPERVISOR_KVM_KVM_BENCHMARK_SUPPORT_H_

#include <linux/kvm.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/kvm/kvm_fault_injection.h"
#include "hypervisor/kvm/kvm_sys.h"
#include "hypervisor/vm.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"

namespace hv::bench {

// Guest-physical layout of the benchmark guests (both paths): 2 MiB of RAM
// at 0, boot tables at kGuestTables, the loop at kGuestCode.
inline constexpr uint64_t kGuestRamSize = 0x200000;
inline constexpr uint64_t kGuestTables = 0x1000;   // 8 pages
inline constexpr uint64_t kGuestCode = 0x10000;
inline constexpr uint64_t kGuestStack = 0x80000;
// The port and MMIO address of the loops (no RAM and no in-kernel device).
inline constexpr uint16_t kGuestPort = 0xec;
inline constexpr uint64_t kGuestMmioAddress = 0xd0000000;
// What the guest writes (in %al) and what the host answers to reads.
inline constexpr uint8_t kGuestValue = 0x5a;

// The loops of kvm_benchmark_guest.S; each makes one exit per iteration.
enum class GuestLoop { kPioOut, kPioIn, kMmioWrite, kMmioRead, kHlt };

// GuestLoopCode(): the assembled bytes of `loop`.
absl::Span<const uint8_t> GuestLoopCode(GuestLoop loop);
// GuestLoopUserMode(): whether `loop` runs at CPL3 (all but kHlt, which is
// privileged). On a nested PVM host only CPL3 code runs natively.
bool GuestLoopUserMode(GuestLoop loop);

// RawVm: /dev/kvm and one VM, opened with plain open(2)/ioctl(2).
class RawVm {
 public:
  // RawVm::Create(): opens /dev/kvm and issues KVM_CREATE_VM.
  static absl::StatusOr<std::unique_ptr<RawVm>> Create();
  RawVm(const RawVm&) = delete;
  RawVm& operator=(const RawVm&) = delete;
  ~RawVm();

  int kvm_fd() const { return kvm_fd_; }
  int vm_fd() const { return vm_fd_; }
  // KVM_GET_VCPU_MMAP_SIZE.
  size_t vcpu_mmap_size() const { return vcpu_mmap_size_; }

  // RawVm::SetRegion(): KVM_SET_USER_MEMORY_REGION (size 0 deletes).
  absl::Status SetRegion(uint32_t slot, uint64_t guest_address, uint64_t size,
                         void* host, uint32_t flags = 0);

 private:
  RawVm(int kvm_fd, int vm_fd, size_t vcpu_mmap_size)
      : kvm_fd_(kvm_fd), vm_fd_(vm_fd), vcpu_mmap_size_(vcpu_mmap_size) {}

  const int kvm_fd_;
  const int vm_fd_;
  const size_t vcpu_mmap_size_;
};

// RawVcpu: KVM_CREATE_VCPU and the mmap of its kvm_run page.
class RawVcpu {
 public:
  static absl::StatusOr<std::unique_ptr<RawVcpu>> Create(const RawVm& vm,
                                                         uint32_t id);
  RawVcpu(const RawVcpu&) = delete;
  RawVcpu& operator=(const RawVcpu&) = delete;
  ~RawVcpu();

  int fd() const { return fd_; }
  kvm_run* run() const { return run_; }
  size_t run_size() const { return run_size_; }

  // RawVcpu::SetupLongMode(): writes a GDT and identity page tables for the
  // low 4 GiB (2 MiB pages, user accessible) into `ram` (guest RAM at
  // guest-physical 0) at kGuestTables, and enters 64-bit mode at `entry`
  // with %rax = `rax`, %rdi = `rdi`; at CPL3 with IOPL 3 if `user_mode`.
  absl::Status SetupLongMode(absl::Span<uint8_t> ram, uint64_t entry,
                             bool user_mode, uint64_t rax, uint64_t rdi);

 private:
  RawVcpu(int fd, kvm_run* run, size_t run_size)
      : fd_(fd), run_(run), run_size_(run_size) {}

  const int fd_;
  kvm_run* const run_;
  const size_t run_size_;
};

// RawGuest: a raw VM with 2 MiB of memfd RAM in slot 0, `loop` loaded and
// one vCPU about to run it.
struct RawGuest {
  RawGuest() = default;
  RawGuest(const RawGuest&) = delete;
  RawGuest& operator=(const RawGuest&) = delete;
  ~RawGuest();

  std::unique_ptr<RawVm> vm;
  uint8_t* ram = nullptr;
  std::unique_ptr<RawVcpu> vcpu;
};
absl::StatusOr<std::unique_ptr<RawGuest>> CreateRawGuest(GuestLoop loop);

// HvGuest: the same guest through hv's KVM backend (over `sys`): RAM from
// MemoryRegion::CreateShared, SetupX86Boot, one vCPU.
struct HvGuest {
  std::unique_ptr<Hypervisor> hypervisor;
  std::unique_ptr<Vm> vm;
  std::unique_ptr<VcpuX86_64> vcpu;  // destroyed first
};
absl::StatusOr<std::unique_ptr<HvGuest>> CreateHvGuest(
    GuestLoop loop, KvmSys* sys = RealKvmSys());

// CreateHvKvm(): hv's KVM backend on /dev/kvm over `sys`.
absl::StatusOr<std::unique_ptr<Hypervisor>> CreateHvKvm(
    KvmSys* sys = RealKvmSys());

// PairedTimes: per-operation medians from MeasurePaired().
struct PairedTimes {
  double hv_ns = 0;
  double raw_ns = 0;
};

// MeasurePaired(): runs `hv_op` and `raw_op` (callables returning bool,
// false on failure) alternately `rounds` times each, swapping which goes
// first every round, times every call on its own and returns the median of
// each side. On a shared, noisy machine (a TCG VM on two busy cores) the
// two sides then see the same load, and the medians ignore the calls that
// a host preemption stretched: the ratio is far steadier than that of two
// benchmarks run one after the other.
template <typename HvOp, typename RawOp>
absl::StatusOr<PairedTimes> MeasurePaired(int rounds, HvOp hv_op,
                                          RawOp raw_op) {
  using Clock = std::chrono::steady_clock;
  std::vector<double> hv(rounds), raw(rounds);
  auto timed = [](auto& op, double& ns) {
    const Clock::time_point start = Clock::now();
    const bool ok = op();
    ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
    return ok;
  };
  for (int i = 0; i < rounds; ++i) {
    const bool ok = (i % 2 == 0)
                        ? timed(hv_op, hv[i]) && timed(raw_op, raw[i])
                        : timed(raw_op, raw[i]) && timed(hv_op, hv[i]);
    if (!ok) return absl::InternalError("paired measurement: an operation failed");
  }
  auto median = [](std::vector<double>& v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  return PairedTimes{median(hv), median(raw)};
}

// CountingSys(): a process-wide seam that forwards every call to the kernel
// and counts it (FaultInjectingKvmSys with no faults). Benchmarks time hv
// over RealKvmSys() and use this one only in an untimed check beforehand.
hv::testing::FaultInjectingKvmSys& CountingSys();

// RawMapUnmap(): the raw limit of an fd mapping into an arena and its
// removal: mmap(MAP_FIXED) of `size` bytes of `fd` at `at`, then read-only
// anonymous pages back over them (what hv's AddFdMapping + RemoveMapping
// stand for).
absl::Status RawMapUnmap(uint8_t* at, size_t size, int fd);

// KernelDescription(): "uname -r; KVM module(s); CPU model" of the machine
// the benchmark runs on, for the report's context.
std::string KernelDescription();

}  // namespace hv::bench

#endif  // HV_HYPERVISOR_KVM_KVM_BENCHMARK_SUPPORT_H_
