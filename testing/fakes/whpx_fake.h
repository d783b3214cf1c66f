// WhpxFake: a fake Windows Hypervisor Platform behind hv's WhpxApi table
// (hypervisor/whpx/whpx_api.h), so the WHPX backend is tested natively on
// any x86_64 host (and under wine, which has no WHPX).
//
// Its table's functions are plain ms_abi functions that dispatch to the one
// live fake. Every call is checked the way WHPX checks it (handles, pointers,
// sizes, flags, register names, call order: properties only before
// WHvSetupPartition, vCPUs, mappings and interrupt requests only after it;
// interrupt requests and APIC state only with the LocalApicEmulationMode
// property set) and answered with the
// HRESULT WHPX gives (E_INVALIDARG, E_HANDLE, WHV_E_*). The fake keeps a
// model of partitions, GPA mappings over the backend's host memory (with
// dirty bits), vCPUs with their registers, and emulators; it records every
// call with its arguments and can fail any chosen call. Its emulator does
// what Windows' emulator does for the accesses the fake scripts: reads the
// registers through the GetVirtualProcessorRegisters callback, hands the
// access to the IoPort / Memory callback, and writes the result and the
// next rip through the SetVirtualProcessorRegisters callback.
//
// As a ScriptedGuest it plays the guest of the most recently created
// partition: a queued port access is an `in`/`out ..., dx` at the vCPU's
// rip, an MMIO access a `mov` between rax and [rbx] (8A/8B/88/89 with 66/48
// prefixes), a halt a HLT exit. A vCPU whose rip was not moved past the
// instruction re-executes it, i.e. the exit is delivered again. Thread safe;
// a Run() with nothing queued blocks until WHvCancelRunVirtualProcessor (a
// cancel before the run is kept for it, as Hyper-V does), or fails after a
// generous timeout instead of hanging a test.
//
// Example:
//   auto fake = hv::testing::WhpxFake::Create();
//   ASSERT_OK_AND_ASSIGN(auto whpx, hv::WhpxHypervisor::Create(fake->api()));
//   ASSERT_OK_AND_ASSIGN(auto vm, whpx->CreateVm());
//   EXPECT_EQ(fake->LivePartitions(), 1);
#ifndef HV_TESTING_FAKES_WHPX_FAKE_H_
#define HV_TESTING_FAKES_WHPX_FAKE_H_

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
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hypervisor/whpx/whpx_abi.h"
#include "hypervisor/whpx/whpx_api.h"
#include "testing/fakes/call_log.h"
#include "testing/fakes/guest_memory.h"
#include "testing/scripted_guest.h"

namespace hv::testing {

class WhpxFake final : public ScriptedGuest {
 public:
  using HRESULT = whpx_abi::HRESULT;

  // What the fake host reports through WHvGetCapability.
  struct Options {
    bool hypervisor_present = true;
    uint64_t features = whpx_abi::kFeaturePartialUnmap |
                        whpx_abi::kFeatureLocalApicEmulation |
                        whpx_abi::kFeatureXsave |
                        whpx_abi::kFeatureDirtyPageTracking;
    uint64_t extended_vm_exits = whpx_abi::kExtendedExitX64Cpuid |
                                 whpx_abi::kExtendedExitX64Msr |
                                 whpx_abi::kExtendedExitException;
    uint64_t processor_clock_hz = 2'400'000'000;
    // Whether the table has WHv{Get,Set}VirtualProcessorXsaveState (Windows
    // 10 2004+); without them it has nullptr there, as LoadWhpxApi() leaves
    // for an older winhvplatform.dll.
    bool xsave_state_calls = true;
    // Whether the table has
    // WHv{Get,Set}VirtualProcessorInterruptControllerState2 (Windows 10
    // 2004+; nullptr without them).
    bool interrupt_controller_state_calls = true;
    // The XSAVE state components (bits 2..62) the vCPUs' compacted images
    // hold: these and the host's XCR0-capable ones (CPUID leaf 0xd, whose
    // sizes and alignments the images use, as WHPX's on this CPU).
    uint64_t xsave_components = ~uint64_t{0};
    // How long a Run() with nothing queued waits for a cancel.
    int run_timeout_ms = 20'000;
  };

  // One recorded call.
  struct Call {
    std::string name;  // "WHvMapGpaRange"
    std::string args;  // its arguments, as text
    HRESULT result = 0;
  };

  struct Mapping {
    uint64_t gpa = 0;
    uint64_t size = 0;
    uint8_t* host = nullptr;
    uint32_t flags = 0;
  };

  // WhpxFake::Create(): the fake; there may be one at a time (its table's
  // functions reach it through a process-wide pointer).
  static std::shared_ptr<WhpxFake> Create();
  static std::shared_ptr<WhpxFake> Create(const Options& options);

  WhpxFake(const WhpxFake&) = delete;
  WhpxFake& operator=(const WhpxFake&) = delete;
  ~WhpxFake() override;

  // The table to hand the backend.
  const WhpxApi* api() const;

  // --- Calls and faults ---
  std::vector<Call> calls() const;
  std::vector<std::string> CallNames() const;
  void ClearCalls();
  // Makes call number `index` (FaultPlan's meaning: 0-based, counted from
  // creation or the last ClearCalls(), which drops pending FailCalls)
  // return `hr` without any effect.
  void FailCall(int index, HRESULT hr);
  // Makes the next call of `name` return `hr` without any effect.
  void FailNext(const std::string& name, HRESULT hr);
  // Things WHPX tolerates but a correct backend never does (deleting a
  // partition that still has vCPUs or mappings, leaking emulators).
  std::vector<std::string> violations() const;

  // --- The model ---
  int LivePartitions() const;
  int LiveVps() const;  // in all partitions
  int LiveEmulators() const;
  // The latest partition's mappings, by guest address.
  std::vector<Mapping> Mappings() const;
  // The latest partition's properties and state.
  bool IsSetUp() const;
  uint32_t ProcessorCount() const;
  uint64_t ExtendedVmExits() const;
  // Its LocalApicEmulationMode property (0: none).
  uint32_t LocalApicEmulationMode() const;
  // Every WHV_INTERRUPT_CONTROL WHvRequestInterrupt accepted for the latest
  // partition, in order.
  std::vector<whpx_abi::WHV_INTERRUPT_CONTROL> RequestedInterrupts() const;
  // vCPU `vp`'s local APIC page (empty until the partition's emulated APIC
  // was first read or written).
  absl::StatusOr<std::vector<uint8_t>> LapicPage(uint32_t vp) const;
  // A register of vCPU `vp` of the latest partition.
  absl::StatusOr<whpx_abi::WHV_REGISTER_VALUE> Register(
      uint32_t vp, whpx_abi::WHV_REGISTER_NAME name) const;
  absl::Status SetRegister(uint32_t vp, whpx_abi::WHV_REGISTER_NAME name,
                           const whpx_abi::WHV_REGISTER_VALUE& value);
  // Queues an exit context verbatim (CPUID, MSR, exception, ... exits);
  // VpContext.Rip is filled from the vCPU's rip when 0.
  void QueueRawExit(uint32_t vp, const whpx_abi::WHV_RUN_VP_EXIT_CONTEXT& exit);

  // --- ScriptedGuest ---
  HV_SCRIPTED_GUEST_OVERRIDES

  // --- The WHPX calls (reached through api()) ---
  HRESULT GetCapability(whpx_abi::WHV_CAPABILITY_CODE code, void* buffer,
                        uint32_t size, uint32_t* written);
  HRESULT CreatePartition(whpx_abi::WHV_PARTITION_HANDLE* partition);
  HRESULT SetupPartition(whpx_abi::WHV_PARTITION_HANDLE partition);
  HRESULT DeletePartition(whpx_abi::WHV_PARTITION_HANDLE partition);
  HRESULT GetPartitionProperty(whpx_abi::WHV_PARTITION_HANDLE partition,
                               whpx_abi::WHV_PARTITION_PROPERTY_CODE code,
                               void* buffer, uint32_t size, uint32_t* written);
  HRESULT SetPartitionProperty(whpx_abi::WHV_PARTITION_HANDLE partition,
                               whpx_abi::WHV_PARTITION_PROPERTY_CODE code,
                               const void* buffer, uint32_t size);
  HRESULT MapGpaRange(whpx_abi::WHV_PARTITION_HANDLE partition, void* source,
                      uint64_t gpa, uint64_t size, uint32_t flags);
  HRESULT UnmapGpaRange(whpx_abi::WHV_PARTITION_HANDLE partition, uint64_t gpa,
                        uint64_t size);
  HRESULT QueryGpaRangeDirtyBitmap(whpx_abi::WHV_PARTITION_HANDLE partition,
                                   uint64_t gpa, uint64_t size,
                                   uint64_t* bitmap, uint32_t bitmap_size);
  HRESULT TranslateGva(whpx_abi::WHV_PARTITION_HANDLE partition, uint32_t vp,
                       uint64_t gva, uint32_t flags,
                       whpx_abi::WHV_TRANSLATE_GVA_RESULT* result,
                       uint64_t* gpa);
  HRESULT CreateVirtualProcessor(whpx_abi::WHV_PARTITION_HANDLE partition,
                                 uint32_t vp, uint32_t flags);
  HRESULT DeleteVirtualProcessor(whpx_abi::WHV_PARTITION_HANDLE partition,
                                 uint32_t vp);
  HRESULT RunVirtualProcessor(whpx_abi::WHV_PARTITION_HANDLE partition,
                              uint32_t vp, void* exit_context, uint32_t size);
  HRESULT CancelRunVirtualProcessor(whpx_abi::WHV_PARTITION_HANDLE partition,
                                    uint32_t vp, uint32_t flags);
  HRESULT GetRegisters(whpx_abi::WHV_PARTITION_HANDLE partition, uint32_t vp,
                       const whpx_abi::WHV_REGISTER_NAME* names,
                       uint32_t count, whpx_abi::WHV_REGISTER_VALUE* values);
  HRESULT SetRegisters(whpx_abi::WHV_PARTITION_HANDLE partition, uint32_t vp,
                       const whpx_abi::WHV_REGISTER_NAME* names,
                       uint32_t count,
                       const whpx_abi::WHV_REGISTER_VALUE* values);
  HRESULT RequestInterrupt(whpx_abi::WHV_PARTITION_HANDLE partition,
                           const whpx_abi::WHV_INTERRUPT_CONTROL* interrupt,
                           uint32_t size);
  HRESULT GetXsaveState(whpx_abi::WHV_PARTITION_HANDLE partition,
                        uint32_t vp, void* buffer, uint32_t size,
                        uint32_t* written);
  HRESULT SetXsaveState(whpx_abi::WHV_PARTITION_HANDLE partition,
                        uint32_t vp, const void* buffer, uint32_t size);
  HRESULT GetInterruptControllerState2(
      whpx_abi::WHV_PARTITION_HANDLE partition, uint32_t vp, void* state,
      uint32_t size, uint32_t* written);
  HRESULT SetInterruptControllerState2(
      whpx_abi::WHV_PARTITION_HANDLE partition, uint32_t vp,
      const void* state, uint32_t size);
  // The compacted image's XCOMP_BV (bit 63 set) and size for every vCPU.
  uint64_t XsaveXcompBv() const { return xsave_held_ | (1ull << 63); }
  uint32_t XsaveImageSize() const { return xsave_size_; }
  HRESULT EmulatorCreate(const whpx_abi::WHV_EMULATOR_CALLBACKS* callbacks,
                         whpx_abi::WHV_EMULATOR_HANDLE* emulator);
  HRESULT EmulatorDestroy(whpx_abi::WHV_EMULATOR_HANDLE emulator);
  HRESULT EmulatorTryIo(whpx_abi::WHV_EMULATOR_HANDLE emulator, void* context,
                        const whpx_abi::WHV_VP_EXIT_CONTEXT* vp_context,
                        const whpx_abi::WHV_X64_IO_PORT_ACCESS_CONTEXT* io,
                        whpx_abi::WHV_EMULATOR_STATUS* status);
  HRESULT EmulatorTryMmio(whpx_abi::WHV_EMULATOR_HANDLE emulator,
                          void* context,
                          const whpx_abi::WHV_VP_EXIT_CONTEXT* vp_context,
                          const whpx_abi::WHV_MEMORY_ACCESS_CONTEXT* mmio,
                          whpx_abi::WHV_EMULATOR_STATUS* status);

 private:
  explicit WhpxFake(const Options& options);

  // What a vCPU's guest does next.
  struct Script {
    enum class Kind { kIo, kMmio, kHalt, kRaw } kind = Kind::kHalt;
    uint64_t address = 0;
    bool is_write = false;
    std::vector<uint8_t> data;
    whpx_abi::WHV_RUN_VP_EXIT_CONTEXT raw = {};
  };
  // An I/O or MMIO exit waiting for the backend to complete it.
  struct Pending {
    whpx_abi::WHV_RUN_VP_EXIT_CONTEXT exit = {};
    uint64_t next_rip = 0;
    bool is_read = false;
    uint32_t size = 0;
    whpx_abi::WHV_REGISTER_NAME target = 0;  // the register a read fills
  };
  struct Vp {
    std::map<uint32_t, whpx_abi::WHV_REGISTER_VALUE> registers;
    bool running = false;
    bool cancel_pending = false;
    std::optional<Pending> pending;
    std::vector<uint8_t> completed_read;
    // XSAVE state beyond the legacy region (which is the FP and XMM
    // registers): XSTATE_BV's bits 2..62 and the compacted image's bytes
    // from 576 on.
    uint64_t xstate_extended = 0;
    std::vector<uint8_t> xsave_extended;
    // The emulated local APIC's page (kLapicStateSize bytes once used).
    std::vector<uint8_t> lapic;
  };
  struct RangeState {
    uint8_t* host = nullptr;
    uint64_t size = 0;
    uint32_t flags = 0;
    std::vector<bool> dirty;  // one per page
  };
  struct Partition {
    uint64_t id = 0;
    bool setup = false;
    // The properties WHvSetPartitionProperty set (the others read as 0).
    std::map<whpx_abi::WHV_PARTITION_PROPERTY_CODE, uint64_t> properties;
    uint64_t Property(whpx_abi::WHV_PARTITION_PROPERTY_CODE code) const {
      auto it = properties.find(code);
      return it == properties.end() ? 0 : it->second;
    }
    std::map<uint64_t, RangeState> ranges;  // by gpa
    std::map<uint32_t, Vp> vps;
  };
  struct Emulator {
    whpx_abi::WHV_EMULATOR_CALLBACKS callbacks = {};
  };

  // Records the call; returns the injected failure for it, if any.
  std::optional<HRESULT> Begin(const std::string& name,
                               const std::string& args)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  HRESULT End(HRESULT hr) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Begin() for a call on partition `handle`: std::nullopt with `*partition`
  // set to go on, or the HRESULT to return at once (an injected failure;
  // E_HANDLE for an unknown handle).
  std::optional<HRESULT> BeginOn(const std::string& name,
                                 const std::string& args,
                                 whpx_abi::WHV_PARTITION_HANDLE handle,
                                 Partition** partition)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // BeginOn() for a call on vCPU `index` of the partition as well
  // (WHV_E_VP_DOES_NOT_EXIST when it has none).
  std::optional<HRESULT> BeginOnVp(const std::string& name,
                                   const std::string& args,
                                   whpx_abi::WHV_PARTITION_HANDLE handle,
                                   uint32_t index, Partition** partition,
                                   Vp** vp)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The start of WHvEmulatorTry*Emulation: records the call and takes the
  // emulator's callbacks; or the HRESULT to return at once (an injected
  // failure, an unknown emulator, a null pointer: `pointers_given` false).
  // The call's arguments are recorded as "<emulator>, <address_kind>
  // <address>, info <access_info>".
  std::optional<HRESULT> BeginEmulation(
      const std::string& name, whpx_abi::WHV_EMULATOR_HANDLE emulator,
      const char* address_kind, uint64_t address, uint32_t access_info,
      bool pointers_given, whpx_abi::WHV_EMULATOR_CALLBACKS* callbacks)
      ABSL_LOCKS_EXCLUDED(mutex_);
  // BeginOnVp() for WHv{Get,Set}VirtualProcessorRegisters, with their
  // argument checks (`set`: `values` are the registers' new values).
  std::optional<HRESULT> BeginRegisters(
      const std::string& name, whpx_abi::WHV_PARTITION_HANDLE handle,
      uint32_t index, const whpx_abi::WHV_REGISTER_NAME* names,
      uint32_t count, const void* values, bool set, Vp** vp)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // BeginOnVp() for WHv{Get,Set}VirtualProcessorInterruptControllerState2:
  // also WHV_E_INVALID_PARTITION_CONFIG without local APIC emulation; the
  // vCPU's page is made on first use.
  std::optional<HRESULT> BeginLapic(const std::string& name,
                                    whpx_abi::WHV_PARTITION_HANDLE handle,
                                    uint32_t index, uint32_t size, Vp** vp)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  bool PropertyValueValid(whpx_abi::WHV_PARTITION_PROPERTY_CODE code,
                          uint64_t value) const;
  Partition* FindPartition(whpx_abi::WHV_PARTITION_HANDLE handle)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  Partition* Latest() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The ranges covering [gpa, gpa + size) exactly, or empty.
  std::vector<std::pair<uint64_t, RangeState*>> Cover(Partition& partition,
                                                      uint64_t gpa,
                                                      uint64_t size)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Cover() for a call on whole pages: std::nullopt with `*cover` set, or
  // the HRESULT to return (E_INVALIDARG for no or partial pages,
  // WHV_E_GPA_RANGE_NOT_FOUND for a hole).
  std::optional<HRESULT> CoverPages(
      Partition& partition, uint64_t gpa, uint64_t size,
      std::vector<std::pair<uint64_t, RangeState*>>* cover)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // `partition`'s memory as its guest sees it (GuestRead/GuestWrite).
  GuestMemory Memory(Partition& partition)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void ResetVp(Vp& vp, uint32_t index);
  // Builds the exit for `script` at the vCPU's current state.
  whpx_abi::WHV_RUN_VP_EXIT_CONTEXT BuildExit(Vp& vp, const Script& script)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Enqueue(uint32_t vp, Script script);
  uint64_t Reg(const Vp& vp, whpx_abi::WHV_REGISTER_NAME name) const;
  void SetReg(Vp& vp, whpx_abi::WHV_REGISTER_NAME name, uint64_t value);

  const Options options_;
  WhpxApi api_;  // the table, without the calls `options_` leaves out
  uint64_t xsave_held_ = 0;   // extended components of the images
  uint32_t xsave_size_ = 0;   // compacted size
  mutable std::mutex mutex_;
  std::condition_variable wake_;  // a script arrived or a cancel came
  CallLog<Call> log_;  // ClearCalls() resets its plan too
  std::vector<std::string> violations_ ABSL_GUARDED_BY(mutex_);
  std::map<uintptr_t, std::unique_ptr<Partition>> partitions_
      ABSL_GUARDED_BY(mutex_);
  uint64_t next_partition_ ABSL_GUARDED_BY(mutex_) = 1;
  uint64_t latest_id_ ABSL_GUARDED_BY(mutex_) = 0;
  std::map<uintptr_t, Emulator> emulators_ ABSL_GUARDED_BY(mutex_);
  uint64_t next_emulator_ ABSL_GUARDED_BY(mutex_) = 1;
  // The latest partition's scripts, by vCPU (reset with each partition).
  std::map<uint32_t, std::deque<Script>> scripts_ ABSL_GUARDED_BY(mutex_);
  std::map<uint32_t, uint64_t> interrupts_ ABSL_GUARDED_BY(mutex_);
  std::vector<whpx_abi::WHV_INTERRUPT_CONTROL> requested_
      ABSL_GUARDED_BY(mutex_);
};

}  // namespace hv::testing

#endif  // HV_TESTING_FAKES_WHPX_FAKE_H_
