// FakeVm: a recording fake of hv::Vm for tests of code above the API.
//
// Memory behaves as the API promises: regions are checked and given slots
// by hv::MemorySlotTable (lowest free slot, overlaps, limits), regions are
// real host mappings (so AddFdMapping really maps the file into an arena and
// a test can read what the guest would read with ReadGuest()), and
// kCacheNonCoherent is refused with UNIMPLEMENTED unless the fake is given
// VmCap::kMemNoncoherentDma. Every call is recorded, in order, with its
// arguments and result. Any method can be made to fail: FailNext() queues an
// error that the next call of that method returns before doing anything
// (like a failing ioctl, the Vm is then unchanged). No guest code runs:
// CreateVcpu() is UNIMPLEMENTED and no page is ever dirty. Interrupts are
// recorded, not delivered: given VmCap::kGsiRouting, kSignalMsi or
// kIrqfdResample, the matching calls are checked as a backend checks them
// (GSI routes by the backends' own rules), recorded, and their state kept
// (GsiRoutes(), the irqfds); without the capability they are UNIMPLEMENTED
// and not recorded, as on a backend without it. Thread safe.
//
// Example:
//   FakeVm::Options options;
//   options.capabilities.insert(hv::VmCap::kMemNoncoherentDma);
//   ASSERT_OK_AND_ASSIGN(auto vm, FakeVm::Create(options));
//   vm->FailNext(FakeVm::Method::kAddFdMapping,
//                absl::InternalError("injected"));
//   ... exercise code that takes an hv::Vm* ...
//   EXPECT_THAT(vm->Calls(), ElementsAre(Field(&FakeVm::Call::method,
//                                              FakeVm::Method::kAddMemoryRegion), ...));
#ifndef HV_TESTING_FAKES_FAKE_VM_H_
#define HV_TESTING_FAKES_FAKE_VM_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/memory.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/memory_slot_table.h"
#include "hypervisor/vm.h"

namespace hv::testing {

class FakeVm : public Vm {
 public:
  struct Options {
    uint32_t max_slots = 509;
    uint64_t address_limit = uint64_t{1} << 40;
    // MaxGsiRoutes() where VmCap::kGsiRouting is offered (KVM's x86 limit).
    uint32_t max_gsi_routes = 4096;
    std::set<VmCap> capabilities = {VmCap::kReadOnlyMemoryRegion,
                                    VmCap::kDirtyLog, VmCap::kIrqfd,
                                    VmCap::kIoEventfd};
  };

  enum class Method {
    kAddMemoryRegion,
    kRemoveMemoryRegion,
    kAddFdMapping,
    kRemoveMapping,
    kGetDirtyLog,
    kRegisterIoEvent,
    kUnregisterIoEvent,
    kRegisterIrqfd,
    kUnregisterIrqfd,
    kSetIrqLine,
    kRegisterResampleIrqfd,
    kSetGsiRouting,
    kSignalMsi,
    kCreateVcpu,
  };

  // One recorded call. Fields a method does not take stay at their defaults.
  struct Call {
    Method method = Method::kAddMemoryRegion;
    MemSlot slot = 0;  // the slot acted on (or returned by AddMemoryRegion)
    GuestAddress guest_address = 0;
    uint64_t offset = 0;
    uint64_t size = 0;
    int fd = -1;
    uint64_t fd_offset = 0;
    Protection prot;
    MemoryRegionOptions options;
    uint64_t value = 0;  // gsi, irq line level, vCPU id
    int resample_fd = -1;            // RegisterResampleIrqfd
    MsiMessage msi;                  // SignalMsi
    std::vector<IrqRoute> routes;    // SetGsiRouting
    absl::Status result;

    std::string ToString() const;
  };

  static absl::StatusOr<std::unique_ptr<FakeVm>> Create(const Options& options);
  static absl::StatusOr<std::unique_ptr<FakeVm>> Create() {
    return Create(Options());
  }

  FakeVm(const FakeVm&) = delete;
  FakeVm& operator=(const FakeVm&) = delete;

  // Test controls.
  void SetCapability(VmCap cap, bool offered);
  // FakeVm::FailNext(): after `skip` more calls of `method` succeed (or
  // fail for their own reasons), the next one returns `status` (not OK) and
  // changes nothing. Several queued errors are returned in order.
  void FailNext(Method method, absl::Status status, int skip = 0);
  std::vector<Call> Calls() const;
  // FakeVm::CallsOf(): the recorded calls of one method.
  std::vector<Call> CallsOf(Method method) const;
  void ClearCalls();
  // FakeVm::GsiRoutes(): the table the last successful SetGsiRouting set.
  std::vector<IrqRoute> GsiRoutes() const;
  // Stop or resume recording (benchmarks with many calls).
  void set_recording(bool recording);
  // FakeVm::ReadGuest(): the bytes the guest would read at `address`, or
  // NOT_FOUND when no region covers the whole range (the guest would see an
  // MMIO exit), or PERMISSION_DENIED for an fd-backed region mapped without
  // read permission or any page the host mapping cannot read.
  absl::StatusOr<std::vector<uint8_t>> ReadGuest(GuestAddress address,
                                                 uint64_t size) const;

  // hv::Vm.
  bool CheckCapability(VmCap cap) const override;
  uint32_t MaxMemorySlots() const override;
  uint64_t GuestAddressLimit() const override;
  absl::StatusOr<MemSlot> AddMemoryRegion(
      GuestAddress guest_address, std::unique_ptr<MemoryRegion> region,
      const MemoryRegionOptions& options) override;
  absl::StatusOr<std::unique_ptr<MemoryRegion>> RemoveMemoryRegion(
      MemSlot slot) override;
  std::vector<MemoryRegionInfo> MemoryRegions() const override;
  absl::Status AddFdMapping(MemSlot slot, uint64_t offset, uint64_t size,
                            int fd, uint64_t fd_offset,
                            Protection prot) override;
  absl::Status RemoveMapping(MemSlot slot, uint64_t offset,
                             uint64_t size) override;
  absl::StatusOr<std::vector<uint64_t>> GetDirtyLog(MemSlot slot) override;
  // SetDirtyLogging, EnableDirtyLogManualProtect, ClearDirtyLog:
  // UNIMPLEMENTED (FakeVm never reports kDirtyLogSwitch or
  // kDirtyLogManualProtect), not recorded.
  absl::Status SetDirtyLogging(MemSlot slot, bool enabled) override;
  absl::Status EnableDirtyLogManualProtect() override;
  absl::Status ClearDirtyLog(MemSlot slot, uint64_t first_page,
                             uint64_t num_pages,
                             absl::Span<const uint64_t> bitmap) override;
  absl::Status RegisterIoEvent(const EventFd& event,
                               const IoEventAddress& address) override;
  absl::Status UnregisterIoEvent(const EventFd& event,
                                 const IoEventAddress& address) override;
  absl::Status RegisterIrqfd(const EventFd& event, uint32_t gsi) override;
  absl::Status UnregisterIrqfd(const EventFd& event, uint32_t gsi) override;
  absl::Status SetIrqLine(uint32_t irq, bool level) override;
  // Recorded where the capability is offered (see the file comment); a
  // signalled MSI is reported delivered.
  absl::Status RegisterResampleIrqfd(const EventFd& event, uint32_t gsi,
                                     const EventFd& resample) override;
  absl::Status SetGsiRouting(absl::Span<const IrqRoute> routes) override;
  uint32_t MaxGsiRoutes() const override;
  absl::StatusOr<bool> SignalMsi(const MsiMessage& msi) override;
  absl::StatusOr<std::unique_ptr<Vcpu>> CreateVcpu(uint32_t id) override;

 private:
  using IoEventKey = std::tuple<int, int, uint64_t, uint32_t, bool, uint64_t>;

  explicit FakeVm(const Options& options);

  // Takes the injected error for `method`, if one is queued.
  std::optional<absl::Status> TakeInjected(Method method)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records `call` with `result` and returns `result`.
  absl::Status Record(Call call, absl::Status result)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `body` for `call` unless an error is injected for its method (that
  // error is then the result), records the call with the result (`body`
  // may fill in fields) and returns the result.
  absl::Status Recorded(Call call, absl::FunctionRef<absl::Status(Call&)> body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Register/UnregisterIoEvent (`assign` or not) and the same for irqfds.
  absl::Status IoEvent(const EventFd& event, const IoEventAddress& address,
                       bool assign);
  absl::Status Irqfd(const EventFd& event, uint32_t gsi, bool assign);
  // An fd-mapping call (AddFdMapping, RemoveMapping) of (slot, offset,
  // size) in an arena, `fill` adding its other fields: Recorded() with its
  // guest address filled in, `body` run on the arena. NOT_FOUND for an
  // unknown slot, FAILED_PRECONDITION for a region that is not an arena.
  absl::Status ArenaCall(Method method, MemSlot slot, uint64_t offset,
                         uint64_t size, absl::FunctionRef<void(Call&)> fill,
                         absl::FunctionRef<absl::Status(MemoryRegion&)> body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<MemSlot> AddMemoryRegionLocked(
      GuestAddress guest_address, std::unique_ptr<MemoryRegion> region,
      const MemoryRegionOptions& options) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static IoEventKey KeyOf(const EventFd& event, const IoEventAddress& address);

  const uint32_t max_slots_;
  const uint64_t address_limit_;
  const uint32_t max_gsi_routes_;
  // std::mutex rather than absl::Mutex: Debian's Abseil is not built with
  // TSan, which then cannot see absl::Mutex's synchronisation.
  mutable std::mutex mu_;
  std::set<VmCap> capabilities_ ABSL_GUARDED_BY(mu_);
  // mutable: ReadGuest() looks regions up through MemorySlotTable::Find.
  mutable MemorySlotTable table_ ABSL_GUARDED_BY(mu_);
  // The fd mappings inside each arena: slot -> offset -> (size, prot).
  std::map<MemSlot, std::map<uint64_t, std::pair<uint64_t, Protection>>>
      arena_mappings_ ABSL_GUARDED_BY(mu_);
  struct Injected {
    int skip = 0;
    absl::Status status;
  };
  std::map<Method, std::deque<Injected>> injected_ ABSL_GUARDED_BY(mu_);
  std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  bool recording_ ABSL_GUARDED_BY(mu_) = true;
  std::set<IoEventKey> io_events_ ABSL_GUARDED_BY(mu_);
  std::set<std::pair<int, uint32_t>> irqfds_ ABSL_GUARDED_BY(mu_);
  std::map<uint32_t, bool> irq_lines_ ABSL_GUARDED_BY(mu_);
  std::vector<IrqRoute> gsi_routes_ ABSL_GUARDED_BY(mu_);
};

const char* FakeVmMethodName(FakeVm::Method method);

inline std::ostream& operator<<(std::ostream& os, const FakeVm::Call& call) {
  return os << call.ToString();
}

}  // namespace hv::testing

#endif  // HV_TESTING_FAKES_FAKE_VM_H_
