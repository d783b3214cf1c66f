// GunyahFake: an ABI-faithful fake of /dev/gunyah behind the Gunyah
// backend's GunyahSys seam, which also plays the guest (ScriptedGuest).
//
// It implements the ioctls of the revision hypervisor/gunyah/gunyah_abi.h
// describes as that revision's kernel driver does (drivers/virt/gunyah:
// vm_mgr.c, vm_mgr_mm.c, gunyah_vcpu.c, gunyah_irqfd.c, gunyah_ioeventfd.c):
// every request number and struct is checked (argument sizes, flag bits,
// function types and their argument sizes, alignment, overlap), the fake
// keeps its own model of each VM (not started -> running -> exited, or
// failed to start), its memory regions by label, its VM functions (vCPUs,
// irqfds, ioeventfds) and their eventfds, and answers bad requests with the
// kernel's errno (EFAULT, EINVAL, EEXIST, ENOENT, ENODEV, EOVERFLOW, ENOTTY,
// EBADF). A vCPU's run struct is a real page (a memfd) that the backend
// maps through Mmap(), so the backend reads exactly what the fake wrote.
//
// Modelled, and so observable: GH_VM_START fails with EINVAL unless the
// devicetree range overlaps an added region, and the VM is then dead
// (ENODEV); GH_VCPU_RUN is ENODEV before the start; an MMIO read is
// completed on the next GH_VCPU_RUN; guest MMIO writes that match an
// ioeventfd signal it without an exit; once the VM has exited every vCPU
// keeps returning the same status exit; irqfd writes before the start are
// dropped ("premature injection"); memory added after the start is never
// shared with the guest.
//
// Not modelled (said so where it matters): the resource manager (the fake
// accepts any devicetree bytes and creates every vCPU the VM asks for),
// page pinning (GuestRead/GuestWrite go through the host mapping as it is
// now, where a real Gunyah keeps the pages pinned at
// GH_VM_SET_USER_MEM_REGION), and signals (a blocked GH_VCPU_RUN returns
// when immediate_exit is set or the script gives it an exit, polled every
// millisecond; hv's Kick() always sets immediate_exit first).
//
// Every call is recorded (name, fd, argument bytes, result, errno) and any
// call can be made to fail (FailCall / FailIoctl). Thread safe: Kick() may
// set immediate_exit from another thread while GH_VCPU_RUN waits.
//
// Example:
//   auto fake = std::make_shared<hv::testing::GunyahFake>();
//   ASSERT_OK_AND_ASSIGN(auto gunyah, hv::GunyahHypervisor::Create("/dev/gunyah", fake.get()));
//   ASSERT_OK_AND_ASSIGN(auto vm, gunyah->CreateVm());
//   ... vm->AddMemoryRegion(...); vm->AsAArch64()->InitArch(...);
//   ASSERT_OK_AND_ASSIGN(auto vcpu, vm->AsAArch64()->CreateVcpuAArch64(0));
//   ASSERT_OK(vcpu->Init({hv::VcpuFeature::kPsci0_2}));
//   fake->QueueMmio(0, 0x9000000, /*is_write=*/true, {'h'});
//   ASSERT_OK_AND_ASSIGN(hv::VcpuExit exit, vcpu->Run());
//   EXPECT_EQ(fake->Calls().back().name, "GH_VCPU_RUN");
#ifndef HV_TESTING_FAKES_GUNYAH_FAKE_H_
#define HV_TESTING_FAKES_GUNYAH_FAKE_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "hypervisor/gunyah/gunyah_abi.h"
#include "hypervisor/gunyah/gunyah_sys.h"
#include "hypervisor/os/unique_fd.h"
#include "testing/fakes/call_log.h"
#include "testing/fakes/guest_memory.h"
#include "testing/scripted_guest.h"

namespace hv::testing {

class GunyahFake final : public GunyahSys, public ScriptedGuest {
 public:
  // One call made through the seam, as the fake saw it.
  struct Call {
    std::string name;  // "open", "GH_CREATE_VM", "mmap", "close", ...
    int fd = -1;
    unsigned long request = 0;  // ioctls only
    uintptr_t int_arg = 0;      // the raw ioctl argument
    std::vector<uint8_t> arg;   // the struct the ioctl pointed to
    std::vector<uint8_t> fn_arg;  // GH_VM_*_FUNCTION: the function's arg
    int result = 0;
    int error = 0;  // errno when result < 0 (or MAP_FAILED)
  };

  // What the fake knows about the most recently created VM.
  struct VmState {
    enum class Status { kNotStarted, kRunning, kStartFailed, kExited };
    Status status = Status::kNotStarted;
    bool fd_open = false;
    std::vector<gunyah_abi::UserspaceMemoryRegion> regions;  // by label
    std::optional<gunyah_abi::VmDtbConfig> dtb;
    std::map<uint32_t, uint64_t> boot_context;  // reg -> value
    std::vector<uint32_t> vcpus;                // bound vCPU functions
    std::vector<uint32_t> irqfd_labels;
    std::vector<gunyah_abi::FnIoeventfdArg> ioeventfds;  // as handlers
    uint64_t premature_injections = 0;  // irqfd rings before the start
  };

  explicit GunyahFake(std::string device_path = "/dev/gunyah");
  GunyahFake(const GunyahFake&) = delete;
  GunyahFake& operator=(const GunyahFake&) = delete;
  ~GunyahFake() override;

  // GunyahSys.
  HV_IOCTL_SEAM_OVERRIDES

  // ScriptedGuest (for the most recently created VM).
  // QueueIo: false (Gunyah guests are aarch64: no port I/O).
  // QueueSystemEvent: kShutdown is PSCI SYSTEM_OFF, kReset PSCI
  // SYSTEM_RESET, kCrash a watchdog bite; false for other kinds, and once
  // the VM has exited (its guest runs no more code). QueueHalt: false
  // (Gunyah keeps a waiting (WFI) vCPU in the kernel). InterruptsDelivered:
  // doorbell rings of label `gsi` since the VM started (eventfd writes are
  // collected when this is called).
  HV_SCRIPTED_GUEST_OVERRIDES

  // Inspection: the seam calls recorded (since ClearCalls()), or their
  // names.
  std::vector<Call> Calls() const;
  std::vector<std::string> CallNames() const;
  void ClearCalls();
  // Seam calls so far (the index FailCall counts in).
  uint64_t call_count() const;
  // Descriptors the fake handed out and mappings it made that are still
  // open / mapped (0 after everything was released).
  size_t open_fds() const;
  size_t mappings() const;
  std::optional<VmState> LatestVm() const;

  // Fault injection: call number `index` (FaultPlan's meaning: 0-based,
  // every seam call since creation) fails with `error`; or the next ioctl
  // `request` after `skip` matching ones. A failed close/munmap still releases (as Linux does);
  // every other failed call changes nothing.
  void FailCall(uint64_t index, int error);
  void FailIoctl(unsigned long request, int error, int skip = 0);

 private:
  struct Vm;
  struct Vcpu;
  struct FdEntry;
  struct Event;

  // The error call `name` is to fail with (log_'s plan), or 0.
  int FailOrZero(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  int Record(Call call, int result, int error)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  int NewFd(FdEntry entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  std::shared_ptr<Vm> LatestVmLocked() const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  // Returns the ioctl result or -errno.
  int DeviceIoctl(unsigned long request, uintptr_t arg, Call& call)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  int VmIoctl(const std::shared_ptr<Vm>& vm, unsigned long request,
              uintptr_t arg, Call& call) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  int SetUserMemRegion(Vm& vm, const gunyah_abi::UserspaceMemoryRegion& r)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  int Start(Vm& vm) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  int AddFunction(const std::shared_ptr<Vm>& vm, const gunyah_abi::FnDesc& f,
                  const std::vector<uint8_t>& arg)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  int RemoveFunction(Vm& vm, const gunyah_abi::FnDesc& f,
                     const std::vector<uint8_t>& arg)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  int VcpuIoctl(const std::shared_ptr<Vm>& vm,
                const std::shared_ptr<Vcpu>& vcpu, unsigned long request,
                std::unique_lock<std::mutex>& lock)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  int RunVcpu(Vm& vm, Vcpu& vcpu, std::unique_lock<std::mutex>& lock)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // gh_vcpu_check_system(): false (and a status exit written) unless the VM
  // runs.
  bool CheckSystem(Vm& vm, Vcpu& vcpu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // An MMIO write the ioeventfds take: true when one matched (signalled).
  bool IoeventfdWrite(Vm& vm, uint64_t address,
                      absl::Span<const uint8_t> data)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  std::deque<Event>& QueueFor(Vm& vm, uint32_t vcpu)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // `vm`'s memory as its guest sees it (GuestRead/GuestWrite).
  GuestMemory Memory(const Vm& vm) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const std::string device_path_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  CallLog<Call> log_;
  int next_fd_ ABSL_GUARDED_BY(mutex_) = 1000;
  std::map<int, std::unique_ptr<FdEntry>> fds_ ABSL_GUARDED_BY(mutex_);
  std::map<void*, size_t> mappings_ ABSL_GUARDED_BY(mutex_);
  std::weak_ptr<Vm> latest_vm_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace hv::testing

#endif  // HV_TESTING_FAKES_GUNYAH_FAKE_H_
