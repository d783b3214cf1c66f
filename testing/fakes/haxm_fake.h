// HaxmFake: an ABI-faithful fake of the Intel HAXM driver, behind the
// HaxmSys seam (hypervisor/haxm/haxm_sys.h), for tests on hosts without
// HAXM (every host here: HAXM is retired and needs VT-x on bare metal).
//
// It speaks one platform's device interface -- the POSIX port's _IOx numbers
// and errno values, or Windows' CTL_CODE numbers and Win32 errors -- and
// checks every request as the driver does: the ioctl number for the device
// level (system, VM, vCPU), buffer sizes (Windows' InputBufferLength /
// OutputBufferLength checks; on POSIX the size in the number against the
// caller's buffer), flags, reserved fields, alignment, ids and overlaps,
// returning the driver's error. It models VMs (ids, devices, refcounts),
// RAM blocks (ALLOC_RAM / ADD_RAMBLOCK, and the stand-alone blocks SET_RAM2
// creates and drops), guest mappings (ROM, INVALID), vCPUs (vcpu_state_t,
// fx_layout, MSRs, CPUID, injected vectors) and each vCPU's tunnel page and
// I/O buffer, which it fills for scripted exits exactly where HAXM writes
// them. It records every call (name and input bytes) and can fail any one.
//
// As a ScriptedGuest it plays the guest of the most recently created VM:
// queued port I/O (string I/O too), fast MMIO, HLT, vCPU panics, host
// interrupts, interrupt windows. HAX_VCPU_IOCTL_RUN with nothing queued
// returns HAX_EXIT_PAUSED when the tunnel asks for it, HAX_EXIT_INTERRUPT
// when user_event_pending is set or the thread is signalled, and otherwise
// blocks until one of those or a new script entry. HAXM reports no system
// events (QueueSystemEvent() is false) and has no irqfd or irq line
// (InterruptsDelivered() counts nothing; see InjectedVectors()).
//
// Thread safe (one std::mutex); SignalThread() may come from any thread.
//
// Example:
//   auto fake = std::make_shared<hv::testing::HaxmFake>();
//   ASSERT_OK_AND_ASSIGN(auto haxm, hv::HaxmHypervisor::Create("/dev/HAX", fake.get()));
//   fake->QueueIo(0, 0x3f8, /*is_write=*/true, {'h'});
#ifndef HV_TESTING_FAKES_HAXM_FAKE_H_
#define HV_TESTING_FAKES_HAXM_FAKE_H_

#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hypervisor/haxm/haxm_abi.h"
#include "hypervisor/haxm/haxm_sys.h"
#include "testing/fakes/call_log.h"
#include "testing/fakes/guest_memory.h"
#include "testing/scripted_guest.h"

namespace hv::testing {

struct HaxmFakeOptions {
  // Which device interface the fake speaks.
  const haxm_abi::Platform* platform = &haxm_abi::PosixPlatform();
  // What HAX_IOCTL_VERSION reports (HAXM 7.x: compat 1, current 4).
  haxm_abi::hax_module_version version = {1, 4};
  // What HAX_IOCTL_CAPABILITY reports (HAXM 7.6 on a VT-x host with EPT).
  uint16_t wstatus = haxm_abi::kCapStatusWorking;
  uint16_t winfo = haxm_abi::kCapEpt | haxm_abi::kCapFastMmio |
                   haxm_abi::kCapUg | haxm_abi::kCap64BitRamblock |
                   haxm_abi::kCap64BitSetRam | haxm_abi::kCapTunnelPage |
                   haxm_abi::kCapRamProtection | haxm_abi::kCapDebug |
                   haxm_abi::kCapImplicitRamblock | haxm_abi::kCapCpuid;
};

// HaxmCall: one call through the seam, as the fake saw it.
struct HaxmCall {
  std::string name;  // "HAX_VM_IOCTL_SET_RAM2", "open /dev/HAX", "close", ...
  std::vector<uint8_t> input;  // the bytes handed to the driver
  int error = 0;               // what the call returned
};

// HaxmGuestMapping: one guest-physical range mapped by SET_RAM2.
struct HaxmGuestMapping {
  uint64_t gpa = 0;
  uint64_t size = 0;
  uint64_t va = 0;
  bool rom = false;
};

class HaxmFake final : public HaxmSys, public ScriptedGuest {
 public:
  explicit HaxmFake(HaxmFakeOptions options = {});
  ~HaxmFake() override;
  HaxmFake(const HaxmFake&) = delete;
  HaxmFake& operator=(const HaxmFake&) = delete;

  // HaxmSys.
  const haxm_abi::Platform& platform() const override { return *platform_; }
  int Open(const std::string& path, HaxmHandle* handle) override;
  int Ioctl(HaxmHandle handle, uint32_t code, void* buffer, uint32_t in_size,
            uint32_t out_size) override;
  int MapTunnel(HaxmHandle vcpu, const haxm_abi::hax_tunnel_info& info,
                HaxmTunnel* tunnel) override;
  void UnmapTunnel(HaxmHandle vcpu, const HaxmTunnel& tunnel) override;
  int Close(HaxmHandle handle) override;
  absl::Status PrepareKick() override { return absl::OkStatus(); }
  uint64_t CurrentThread() override;
  int SignalThread(uint64_t thread) override;

  // ScriptedGuest.
  HV_SCRIPTED_GUEST_OVERRIDES

  // More of the guest: INS/OUTS of `count` elements of `size` bytes (`data`
  // holds them for OUTS), with EFLAGS.DF set when `downwards`.
  void QueueStringIo(uint32_t vcpu, uint16_t port, bool is_write,
                     uint8_t size, uint16_t count, bool downwards,
                     std::vector<uint8_t> data);
  // A host interrupt that takes the CPU out of the guest (HAX_EXIT_INTERRUPT
  // with no event pending).
  void QueueHostInterrupt(uint32_t vcpu);
  // The interrupt window opens: HAX_EXIT_INTERRUPT with
  // ready_for_interrupt_injection set, as HAXM reports it when
  // request_interrupt_window is set (otherwise it is a host interrupt).
  void QueueInterruptWindow(uint32_t vcpu);
  // Any other exit status (HAX_EXIT_STATECHANGE, _REALMODE, _PAGEFAULT, ...)
  // with the tunnel's exit_reason set to `reason`.
  void QueueExit(uint32_t vcpu, uint32_t status, uint32_t reason = 0);

  // Fault injection: the call with index `call` (FaultPlan's meaning:
  // 0-based, every seam call since the fake's creation, see call_count())
  // fails with `error` and has no effect (a failed Close still releases
  // the handle).
  void FailCall(size_t call, int error);
  // The next call named `name` (an ioctl's name, "close", ...) fails with
  // `error`.
  void FailNextIoctl(const std::string& name, int error);

  // Inspection.
  size_t call_count();
  std::vector<HaxmCall> Calls();
  // The names of the calls, in order.
  std::vector<std::string> CallNames();
  void ClearCalls();
  size_t OpenHandles();
  size_t MappedTunnels();
  size_t LiveVms();
  size_t LiveVcpus();
  // The latest VM's guest mappings (by address) and RAM blocks.
  std::vector<HaxmGuestMapping> Mappings();
  size_t RamBlocks();
  // HAX_VM_IOCTL_NOTIFY_QEMU_VERSION as the latest VM received it.
  std::optional<haxm_abi::hax_qemu_version> QemuVersion();
  // Vectors HAX_VCPU_IOCTL_INTERRUPT queued on vCPU `vcpu`, in order.
  std::vector<uint8_t> InjectedVectors(uint32_t vcpu);
  // The vCPU's state as the driver holds it.
  absl::StatusOr<haxm_abi::vcpu_state_t> VcpuState(uint32_t vcpu);
  absl::StatusOr<haxm_abi::fx_layout> VcpuFpu(uint32_t vcpu);
  absl::StatusOr<uint64_t> VcpuMsr(uint32_t vcpu, uint32_t index);
  std::vector<haxm_abi::hax_cpuid_entry> VcpuCpuid(uint32_t vcpu);
  // Misuse of the ABI that the real driver would not report but that would
  // hurt there (e.g. closing a vCPU whose tunnel is still in use).
  std::vector<std::string> Violations();

 private:
  struct Event {
    uint32_t status = 0;
    uint32_t reason = 0;
    // kExitIo.
    uint8_t direction = 0;
    uint8_t df = 0;
    uint16_t size = 0;
    uint16_t port = 0;
    uint16_t count = 0;
    uint8_t flags = 0;
    // kExitFastMmio.
    uint64_t gpa = 0;
    uint8_t mmio_direction = 0;
    std::vector<uint8_t> data;
    int32_t ready = 1;  // ready_for_interrupt_injection after the exit
    bool needs_window = false;
  };
  struct PageDeleter {
    void operator()(uint8_t* page) const;
  };
  using Page = std::unique_ptr<uint8_t, PageDeleter>;
  struct VcpuModel {
    uint32_t vm_id = 0;
    uint32_t id = 0;
    bool opened = false;
    bool closed = false;
    int tunnel_maps = 0;
    Page tunnel;
    Page io_buffer;
    haxm_abi::vcpu_state_t state = {};
    haxm_abi::fx_layout fpu = {};
    std::map<uint32_t, uint64_t> msrs;
    std::vector<haxm_abi::hax_cpuid_entry> cpuid;
    std::deque<Event> script;
    std::vector<uint8_t> completed_read;
    std::vector<uint8_t> vectors;
    bool running = false;
    uint64_t run_thread = 0;
    bool signalled = false;
  };
  struct Block {
    uint64_t start = 0;
    uint64_t size = 0;
    bool standalone = false;
    int refs = 0;
  };
  struct Mapping {
    uint64_t gpa = 0;
    uint64_t size = 0;
    uint64_t va = 0;
    uint32_t flags = 0;
    uint64_t block_start = 0;  // the block the pages come from
  };
  struct VmModel {
    uint32_t id = 0;
    bool opened = false;
    bool closed = false;
    std::map<uint32_t, std::unique_ptr<VcpuModel>> vcpus;
    std::vector<Block> blocks;
    std::map<uint64_t, Mapping> mappings;  // by gpa
    std::optional<haxm_abi::hax_qemu_version> qemu_version;
  };
  struct HandleModel {
    haxm_abi::DeviceLevel level = haxm_abi::DeviceLevel::kSystem;
    uint32_t vm_id = 0;
    uint32_t vcpu_id = 0;
  };

  // Records the call and returns the injected error, if any (0: proceed).
  int BeginCall(const std::string& name, const void* input, size_t input_size)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EndCall(int error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Buffer checks as the driver (or the POSIX ioctl number) imposes them.
  int CheckBuffer(uint32_t code, const void* buffer, uint32_t in_size,
                  uint32_t out_size, size_t need_in, size_t need_out,
                  bool too_small_error = false) const;
  // CheckBuffer() for an ioctl that takes a T in, then the T into `*in`.
  template <typename T>
  int ReadIn(uint32_t code, const void* buffer, uint32_t in_size,
             uint32_t out_size, T* in) const {
    if (int error =
            CheckBuffer(code, buffer, in_size, out_size, sizeof(T), 0)) {
      return error;
    }
    std::memcpy(in, buffer, sizeof(T));
    return 0;
  }
  // CheckBuffer() for an ioctl that hands a T out, then `out` into it.
  template <typename T>
  int WriteOut(uint32_t code, void* buffer, uint32_t in_size,
               uint32_t out_size, const T& out) const {
    if (int error =
            CheckBuffer(code, buffer, in_size, out_size, 0, sizeof(T))) {
      return error;
    }
    std::memcpy(buffer, &out, sizeof(T));
    return 0;
  }
  int SystemIoctl(uint32_t code, void* buffer, uint32_t in_size,
                  uint32_t out_size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int VmIoctl(VmModel& vm, uint32_t code, void* buffer, uint32_t in_size,
              uint32_t out_size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int VcpuIoctl(VcpuModel& vcpu, uint32_t code, void* buffer,
                uint32_t in_size, uint32_t out_size,
                std::unique_lock<std::mutex>& lock)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int AddBlock(VmModel& vm, uint64_t start, uint64_t size, bool standalone)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int SetRam2(VmModel& vm, const haxm_abi::hax_set_ram_info2& info)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes [gpa, gpa + size) from the mappings, dropping block references.
  void Unmap(VmModel& vm, uint64_t gpa, uint64_t size)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropBlockRef(VmModel& vm, uint64_t block_start)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int Run(VcpuModel& vcpu, std::unique_lock<std::mutex>& lock)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FillExit(VcpuModel& vcpu, const Event& event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int MsrIoctl(VcpuModel& vcpu, bool set, void* buffer, uint32_t in_size)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int SetCpuid(VcpuModel& vcpu, void* buffer, uint32_t in_size)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeDestroyVm(uint32_t vm_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  VmModel* LatestVm() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  VcpuModel* LatestVcpu(uint32_t vcpu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A copy of `field` of the latest VM's vCPU `vcpu`, or NOT_FOUND.
  template <typename T>
  absl::StatusOr<T> OfVcpu(uint32_t vcpu, T VcpuModel::*field)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Queue(uint32_t vcpu, Event event);
  // The mapping covering `gpa` in the latest VM.
  const Mapping* FindMapping(uint64_t gpa) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The latest VM's memory as its guest sees it (GuestRead/GuestWrite).
  GuestMemory Memory() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const haxm_abi::Platform* const platform_;
  const HaxmFakeOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  CallLog<HaxmCall> log_;
  HaxmHandle next_handle_ ABSL_GUARDED_BY(mu_) = 100;
  std::map<HaxmHandle, HandleModel> handles_ ABSL_GUARDED_BY(mu_);
  std::map<uint32_t, std::unique_ptr<VmModel>> vms_ ABSL_GUARDED_BY(mu_);
  // The latest VM whose queue the guest script feeds, and vCPU scripts
  // queued before their vCPU exists.
  std::optional<uint32_t> latest_vm_ ABSL_GUARDED_BY(mu_);
  std::map<uint32_t, std::deque<Event>> early_script_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> violations_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hv::testing

#endif  // HV_TESTING_FAKES_HAXM_FAKE_H_
