// GeniezoneFake: an ABI-faithful fake of MediaTek's Geniezone driver
// (/dev/gzvm) behind the Geniezone backend's GeniezoneSys seam, and the guest
// of its VMs for the API conformance suite (hv::testing::ScriptedGuest).
//
// It plays the kernel as the vendor's driver (patch series v13,
// drivers/virt/geniezone) does: it accepts only the ioctl numbers each kind
// of descriptor knows (ENOTTY otherwise), copies every argument in and out
// of the caller's memory as copy_from_user/copy_to_user would (EFAULT for
// memory that is not there), checks sizes, flags and reserved fields, and
// keeps its own model of VMs, memory slots (GZVM_MAX_MEM_REGION = 10; guest
// memory is the backend's host mapping at userspace_addr), vCPUs (ids
// 0..7), GICv3 devices, one-reg register values, irqfds and ioeventfds.
// GZVM_RUN reads and writes the caller's struct gzvm_vcpu_run, returns
// EINTR when its immediate_exit byte is 1, and otherwise produces the next
// exit a test queued for that vCPU; with none queued it blocks until the
// vCPU is kicked (immediate_exit set while it waits, the byte every hv kick
// stores before signalling). An MMIO write that matches an ioeventfd is
// handled "in the kernel", as the driver does: the eventfd is signalled and
// the vCPU runs on.
//
// Where the driver leaves a decision to the hypervisor (a duplicate vCPU id
// or memory slot, an overlapping guest range, an unknown device type), the
// fake refuses with the error KVM gives for the same (EEXIST, EINVAL). The
// driver also requires memory_size to equal the size of the host VMA at
// userspace_addr; the fake checks that the whole range is mapped (EFAULT
// otherwise), not how the kernel split it into VMAs.
//
// Descriptors the fake hands out are numbers of its own (from 1000 up),
// never real ones; mmap/munmap of real memory are forwarded to the kernel
// and the fake keeps count of the mappings made through it, so a test can
// check nothing leaked. Every seam call is recorded (with a copy of an
// ioctl's argument struct), and any call can be made to fail.
//
// Thread safe: Kick()ing a vCPU blocked in GZVM_RUN from another thread,
// queueing work for it and reading the model all take one std::mutex.
//
// Example:
//   auto fake = hv::testing::GeniezoneFake::Create();
//   ASSERT_OK_AND_ASSIGN(auto gz, hv::GeniezoneHypervisor::Create(
//                                     "/dev/gzvm", fake.get()));
//   ASSERT_OK_AND_ASSIGN(auto vm, gz->CreateVm());
//   ASSERT_OK_AND_ASSIGN(auto vcpu, vm->CreateVcpu(0));
//   fake->QueueMmio(0, 0x9000000, /*is_write=*/true, {'h'});
//   ASSERT_OK_AND_ASSIGN(hv::VcpuExit exit, vcpu->Run());  // kMmio
#ifndef HV_TESTING_FAKES_GENIEZONE_FAKE_H_
#define HV_TESTING_FAKES_GENIEZONE_FAKE_H_

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hypervisor/geniezone/geniezone_abi.h"
#include "hypervisor/geniezone/geniezone_sys.h"
#include "testing/fakes/call_log.h"
#include "testing/fakes/guest_memory.h"
#include "testing/scripted_guest.h"

namespace hv::testing {

class GeniezoneFake final : public GeniezoneSys, public ScriptedGuest {
 public:
  struct Options {
    // The only path Open() accepts (ENOENT otherwise).
    std::string device_path = "/dev/gzvm";
    // GZVM_CHECK_EXTENSION(GZVM_CAP_VM_GPA_SIZE)'s answer; 0: EOPNOTSUPP.
    uint32_t gpa_bits = 40;
    // Whether GZVM_GET_ONE_REG reads registers, as early driver revisions
    // did; the v13 driver answers it with EOPNOTSUPP (the default).
    bool get_one_reg = false;
  };

  // One seam call, as recorded.
  struct Call {
    enum class Kind { kOpen, kIoctl, kMmap, kMunmap, kClose };
    Kind kind = Kind::kIoctl;
    int fd = -1;                 // kIoctl / kClose / kMmap: the descriptor
    unsigned long request = 0;   // kIoctl
    uintptr_t arg = 0;           // kIoctl: the integer or pointer argument
    std::vector<uint8_t> data;   // kIoctl: the struct the pointer named
    int result = 0;              // what the call returned (-1: failed)
    int error = 0;               // errno when it failed
    std::string name;            // "GZVM_RUN", "mmap", "close", ...

    // Call::As<T>(): the recorded argument struct as a T.
    template <typename T>
    T As() const {
      T value{};
      std::memcpy(&value, data.data(), std::min(sizeof(T), data.size()));
      return value;
    }
  };

  // A GZVM_CREATE_DEVICE the fake accepted.
  struct Device {
    uint32_t dev_type = 0;
    uint64_t dev_addr = 0;
    uint64_t dev_reg_size = 0;
  };

  static std::shared_ptr<GeniezoneFake> Create(Options options);
  static std::shared_ptr<GeniezoneFake> Create() { return Create(Options()); }

  GeniezoneFake(const GeniezoneFake&) = delete;
  GeniezoneFake& operator=(const GeniezoneFake&) = delete;
  ~GeniezoneFake() override;

  // GeniezoneSys.
  HV_IOCTL_SEAM_OVERRIDES

  // ScriptedGuest (of the most recently created VM).
  // QueueIo: false (no port I/O). QueueHalt: false (the driver waits
  // itself). InterruptsDelivered: counts SPI `gsi` raised by GZVM_IRQ_LINE
  // (level 1) and by irqfds; an irqfd's eventfd is observed when this is
  // called, each unit of its counter (one EventFd::Write(1)) counting as
  // one injection.
  HV_SCRIPTED_GUEST_OVERRIDES

  // GeniezoneFake::GuestEoi(): the guest of the most recent VM ends SPI
  // `gsi` (an EOI the driver finds in the vGIC list registers after a
  // GZVM_RUN, gzvm_sync_vgic_state): as the driver's irqfd resampler does,
  // each resample irqfd on `gsi` has its line lowered and its resamplefd
  // signalled (one count each). Returns how many were signalled.
  int GuestEoi(uint32_t gsi);

  // GeniezoneFake::QueueRawExit(): the next Run() of `vcpu` returns `run` as
  // the driver would copy it out (exit_reason and union as given), to test exit
  // decoding of reasons the script has no verb for.
  void QueueRawExit(uint32_t vcpu, const geniezone_abi::VcpuRun& run);

  // Fault injection: seam call number `index` (FaultPlan's meaning:
  // 0-based, every seam call since creation; call_count() is the next one)
  // fails with `error` and changes nothing; a failed close or munmap still
  // releases its resource, as Linux's close does.
  void FailCall(uint64_t index, int error);
  // Seam calls made since creation (or ClearCalls()), or their names.
  std::vector<Call> calls() const;
  std::vector<std::string> CallNames() const;
  uint64_t call_count() const;
  void ClearCalls();

  // The model, for tests.
  size_t OpenFdCount() const;      // descriptors handed out and not closed
  size_t LiveMappingCount() const;  // mmaps (not MAP_FIXED) not unmapped
  // The latest VM's memory slots (by slot number) and devices.
  std::map<uint32_t, geniezone_abi::UserspaceMemoryRegion> Slots() const;
  std::vector<Device> Devices() const;
  // The value GZVM_SET_ONE_REG last stored in register `id` of `vcpu`.
  std::optional<uint64_t> RegisterValue(uint32_t vcpu, uint64_t id) const;
  size_t IoeventfdCount() const;
  size_t IrqfdCount() const;
  // The last GZVM_IRQ_LINE level of SPI `spi` (0 when never set).
  uint32_t IrqLineLevel(uint32_t spi) const;
  // The latest VM's last GZVM_SET_DTB_CONFIG (none when never set).
  std::optional<geniezone_abi::DtbConfig> DtbConfig() const;

 private:
  struct Action;
  struct IoEvent;
  struct IrqfdEntry;
  struct VmModel;
  struct VcpuModel;
  enum class FdKind { kDevice, kVm, kVcpu };
  struct FdEntry {
    FdKind kind;
    std::shared_ptr<VmModel> vm;      // kVm, kVcpu
    std::shared_ptr<VcpuModel> vcpu;  // kVcpu
  };

  explicit GeniezoneFake(Options options);

  // Counts call `name`; true (and errno set) when it is to fail.
  bool Faulted(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Record(Call call) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records `call` with `result` and, when it is negative, errno (which
  // stays as it was); returns `result`.
  int RecordErrno(Call call, int result) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int NewFd(FdEntry entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseVm(VmModel& vm) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // ioctl handlers: return 0 / a new fd, or -errno.
  int DeviceIoctl(unsigned long request, uintptr_t arg, Call& call)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int VmIoctl(const std::shared_ptr<VmModel>& vm, unsigned long request,
              uintptr_t arg, Call& call) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int VcpuIoctl(VcpuModel& vcpu, unsigned long request, uintptr_t arg,
                Call& call, std::unique_lock<std::mutex>& lock)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int SetUserMemoryRegion(VmModel& vm,
                          const geniezone_abi::UserspaceMemoryRegion& r)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int IrqLineIoctl(VmModel& vm, const geniezone_abi::IrqLevel& level)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int IoeventfdIoctl(VmModel& vm, const geniezone_abi::Ioeventfd& args)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int IrqfdIoctl(VmModel& vm, const geniezone_abi::Irqfd& args)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int CreateDeviceIoctl(VmModel& vm, const geniezone_abi::CreateDevice& args)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int OneRegIoctl(VcpuModel& vcpu, uintptr_t arg, bool write, Call& call)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int Run(VcpuModel& vcpu, uintptr_t arg, std::unique_lock<std::mutex>& lock)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // An MMIO write the driver hands to an ioeventfd instead of user space.
  bool SignalIoevent(VmModel& vm, uint64_t address,
                     absl::Span<const uint8_t> data)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DrainIrqfds(VmModel& vm) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues `action` for `vcpu` of the latest VM (a VM model of its own
  // until the first GZVM_CREATE_VM) and wakes a waiting GZVM_RUN.
  void Enqueue(uint32_t vcpu, Action action) ABSL_LOCKS_EXCLUDED(mu_);
  // The latest VM's memory slots as the guest sees them (GuestRead/Write).
  std::optional<GuestRange> SlotAt(uint64_t gpa) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  GuestMemory Memory() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, FdEntry> fds_ ABSL_GUARDED_BY(mu_);
  int next_fd_ ABSL_GUARDED_BY(mu_) = 1000;
  std::map<uintptr_t, size_t> mappings_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<VmModel> latest_vm_ ABSL_GUARDED_BY(mu_);
  CallLog<Call> log_;
};

}  // namespace hv::testing

#endif  // HV_TESTING_FAKES_GENIEZONE_FAKE_H_
