#include "testing/fakes/whpx_fake.h"

#include <cpuid.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"

namespace hv::testing {

using namespace whpx_abi;  // NOLINT: the SDK's names

namespace {

// The one live fake, reached by the table's functions.
std::atomic<WhpxFake*> g_fake{nullptr};

WhpxFake* Fake() {
  WhpxFake* fake = g_fake.load();
  if (fake == nullptr) {
    // A backend outlived its fake: a test bug, not something to hide.
    std::fprintf(stderr, "WhpxFake: WHPX called with no live fake\n");
    std::abort();
  }
  return fake;
}

constexpr uintptr_t kPartitionBase = 0x57480000;  // "WH": not a pointer
constexpr uintptr_t kEmulatorBase = 0x454d0000;   // "EM"

uintptr_t Key(const void* handle) { return reinterpret_cast<uintptr_t>(handle); }

// The table: each entry forwards to the live fake with the Windows x64
// convention the backend calls it with.
HRESULT WHPX_CALL GetCapabilityFn(WHV_CAPABILITY_CODE c, void* b, uint32_t s,
                                  uint32_t* w) {
  return Fake()->GetCapability(c, b, s, w);
}
HRESULT WHPX_CALL CreatePartitionFn(WHV_PARTITION_HANDLE* p) {
  return Fake()->CreatePartition(p);
}
HRESULT WHPX_CALL SetupPartitionFn(WHV_PARTITION_HANDLE p) {
  return Fake()->SetupPartition(p);
}
HRESULT WHPX_CALL DeletePartitionFn(WHV_PARTITION_HANDLE p) {
  return Fake()->DeletePartition(p);
}
HRESULT WHPX_CALL GetPartitionPropertyFn(WHV_PARTITION_HANDLE p,
                                         WHV_PARTITION_PROPERTY_CODE c,
                                         void* b, uint32_t s, uint32_t* w) {
  return Fake()->GetPartitionProperty(p, c, b, s, w);
}
HRESULT WHPX_CALL SetPartitionPropertyFn(WHV_PARTITION_HANDLE p,
                                         WHV_PARTITION_PROPERTY_CODE c,
                                         const void* b, uint32_t s) {
  return Fake()->SetPartitionProperty(p, c, b, s);
}
HRESULT WHPX_CALL MapGpaRangeFn(WHV_PARTITION_HANDLE p, void* h, uint64_t g,
                                uint64_t s, uint32_t f) {
  return Fake()->MapGpaRange(p, h, g, s, f);
}
HRESULT WHPX_CALL UnmapGpaRangeFn(WHV_PARTITION_HANDLE p, uint64_t g,
                                  uint64_t s) {
  return Fake()->UnmapGpaRange(p, g, s);
}
HRESULT WHPX_CALL QueryDirtyFn(WHV_PARTITION_HANDLE p, uint64_t g, uint64_t s,
                               uint64_t* b, uint32_t bs) {
  return Fake()->QueryGpaRangeDirtyBitmap(p, g, s, b, bs);
}
HRESULT WHPX_CALL TranslateGvaFn(WHV_PARTITION_HANDLE p, uint32_t vp,
                                 uint64_t gva, uint32_t f,
                                 WHV_TRANSLATE_GVA_RESULT* r, uint64_t* gpa) {
  return Fake()->TranslateGva(p, vp, gva, f, r, gpa);
}
HRESULT WHPX_CALL CreateVpFn(WHV_PARTITION_HANDLE p, uint32_t vp, uint32_t f) {
  return Fake()->CreateVirtualProcessor(p, vp, f);
}
HRESULT WHPX_CALL DeleteVpFn(WHV_PARTITION_HANDLE p, uint32_t vp) {
  return Fake()->DeleteVirtualProcessor(p, vp);
}
HRESULT WHPX_CALL RunVpFn(WHV_PARTITION_HANDLE p, uint32_t vp, void* c,
                          uint32_t s) {
  return Fake()->RunVirtualProcessor(p, vp, c, s);
}
HRESULT WHPX_CALL CancelRunFn(WHV_PARTITION_HANDLE p, uint32_t vp,
                              uint32_t f) {
  return Fake()->CancelRunVirtualProcessor(p, vp, f);
}
HRESULT WHPX_CALL GetRegistersFn(WHV_PARTITION_HANDLE p, uint32_t vp,
                                 const WHV_REGISTER_NAME* n, uint32_t c,
                                 WHV_REGISTER_VALUE* v) {
  return Fake()->GetRegisters(p, vp, n, c, v);
}
HRESULT WHPX_CALL SetRegistersFn(WHV_PARTITION_HANDLE p, uint32_t vp,
                                 const WHV_REGISTER_NAME* n, uint32_t c,
                                 const WHV_REGISTER_VALUE* v) {
  return Fake()->SetRegisters(p, vp, n, c, v);
}
HRESULT WHPX_CALL RequestInterruptFn(WHV_PARTITION_HANDLE p,
                                     const WHV_INTERRUPT_CONTROL* i,
                                     uint32_t s) {
  return Fake()->RequestInterrupt(p, i, s);
}
HRESULT WHPX_CALL GetXsaveStateFn(WHV_PARTITION_HANDLE p, uint32_t vp,
                                  void* b, uint32_t s, uint32_t* w) {
  return Fake()->GetXsaveState(p, vp, b, s, w);
}
HRESULT WHPX_CALL SetXsaveStateFn(WHV_PARTITION_HANDLE p, uint32_t vp,
                                  const void* b, uint32_t s) {
  return Fake()->SetXsaveState(p, vp, b, s);
}
HRESULT WHPX_CALL GetLapicStateFn(WHV_PARTITION_HANDLE p, uint32_t vp,
                                  void* b, uint32_t s, uint32_t* w) {
  return Fake()->GetInterruptControllerState2(p, vp, b, s, w);
}
HRESULT WHPX_CALL SetLapicStateFn(WHV_PARTITION_HANDLE p, uint32_t vp,
                                  const void* b, uint32_t s) {
  return Fake()->SetInterruptControllerState2(p, vp, b, s);
}
HRESULT WHPX_CALL EmulatorCreateFn(const WHV_EMULATOR_CALLBACKS* c,
                                   WHV_EMULATOR_HANDLE* e) {
  return Fake()->EmulatorCreate(c, e);
}
HRESULT WHPX_CALL EmulatorDestroyFn(WHV_EMULATOR_HANDLE e) {
  return Fake()->EmulatorDestroy(e);
}
HRESULT WHPX_CALL EmulatorTryIoFn(WHV_EMULATOR_HANDLE e, void* c,
                                  const WHV_VP_EXIT_CONTEXT* vp,
                                  const WHV_X64_IO_PORT_ACCESS_CONTEXT* io,
                                  WHV_EMULATOR_STATUS* s) {
  return Fake()->EmulatorTryIo(e, c, vp, io, s);
}
HRESULT WHPX_CALL EmulatorTryMmioFn(WHV_EMULATOR_HANDLE e, void* c,
                                    const WHV_VP_EXIT_CONTEXT* vp,
                                    const WHV_MEMORY_ACCESS_CONTEXT* m,
                                    WHV_EMULATOR_STATUS* s) {
  return Fake()->EmulatorTryMmio(e, c, vp, m, s);
}

const WhpxApi kFakeApi = {
    GetCapabilityFn,   CreatePartitionFn,   SetupPartitionFn,
    DeletePartitionFn, GetPartitionPropertyFn, SetPartitionPropertyFn,
    MapGpaRangeFn,     UnmapGpaRangeFn,     QueryDirtyFn,
    TranslateGvaFn,    CreateVpFn,          DeleteVpFn,
    RunVpFn,           CancelRunFn,         GetRegistersFn,
    SetRegistersFn,    RequestInterruptFn,  EmulatorCreateFn,
    EmulatorDestroyFn, EmulatorTryIoFn,     EmulatorTryMmioFn,
    GetXsaveStateFn,   SetXsaveStateFn,     GetLapicStateFn,
    SetLapicStateFn,
};

// The register names the fake's WHPX accepts (what the SDK defines).
bool KnownRegister(WHV_REGISTER_NAME name) {
  if (name <= WHvX64RegisterXCr0) return true;
  if (name >= WHvX64RegisterXmm0 && name <= WHvX64RegisterXmmControlStatus) {
    return true;
  }
  if (name >= WHvX64RegisterTsc && name <= 0x200E) return true;  // .. MtrrDefType
  if (name == WHvX64RegisterTscAux || name == 0x2084 || name == 0x2085 ||
      name == 0x2087) {
    return true;
  }
  if (name >= 0x2010 && name <= 0x201F) return true;  // MTRR phys bases
  if (name >= 0x2040 && name <= 0x204F) return true;  // MTRR phys masks
  if (name >= 0x2070 && name <= 0x207A) return true;  // fixed MTRRs
  if (name == 0x3002 || name == 0x3003) return true;  // APIC id, version
  if (name == WHvRegisterPendingInterruption ||
      name == WHvRegisterInterruptState || name == WHvRegisterPendingEvent ||
      name == WHvX64RegisterDeliverabilityNotifications ||
      name == WHvRegisterInternalActivityState || name == 0x80000006) {
    return true;
  }
  return false;
}

bool IsSegment(WHV_REGISTER_NAME name) {
  return name >= WHvX64RegisterEs && name <= WHvX64RegisterTr;
}

uint64_t Low(uint64_t value, uint32_t size) {
  return size >= 8 ? value : value & ((uint64_t{1} << (size * 8)) - 1);
}

// The result of writing `size` bytes into a 64-bit register: 32-bit
// results zero-extend, 8- and 16-bit ones keep the upper bits (x86-64).
uint64_t MergeResult(uint64_t old, uint64_t value, uint32_t size) {
  if (size >= 8) return value;
  if (size == 4) return value & 0xffffffffu;
  const uint64_t mask = (uint64_t{1} << (size * 8)) - 1;
  return (old & ~mask) | (value & mask);
}

std::string Hex(const void* p) { return absl::StrFormat("%p", p); }

// The emulator's first step, through its callbacks: the register the
// instruction moves; false (and `*status` says why) when the callback fails.
bool GetRegisterForEmulation(const WHV_EMULATOR_CALLBACKS& callbacks,
                             void* context, WHV_REGISTER_NAME name,
                             WHV_REGISTER_VALUE* value,
                             WHV_EMULATOR_STATUS* status) {
  if (!Succeeded(callbacks.WHvEmulatorGetVirtualProcessorRegisters(
          context, &name, 1, value))) {
    *status = kEmulationGetRegistersCallbackFailed;
    return false;
  }
  return true;
}

// The emulator's last step, through its callbacks: rip past the
// instruction and, for a read, `result` into `target`. The status to report.
WHV_EMULATOR_STATUS CompleteEmulation(const WHV_EMULATOR_CALLBACKS& callbacks,
                                      void* context,
                                      const WHV_VP_EXIT_CONTEXT& vp_context,
                                      WHV_REGISTER_NAME target,
                                      uint64_t result, bool is_write) {
  const WHV_REGISTER_NAME names[] = {WHvX64RegisterRip, target};
  WHV_REGISTER_VALUE values[2] = {};
  values[0].Reg64 = vp_context.Rip + InstructionLength(vp_context);
  values[1].Reg64 = result;
  if (!Succeeded(callbacks.WHvEmulatorSetVirtualProcessorRegisters(
          context, names, is_write ? 1 : 2, values))) {
    return kEmulationSetRegistersCallbackFailed;
  }
  return kEmulationSuccessful;
}

}  // namespace

std::shared_ptr<WhpxFake> WhpxFake::Create() { return Create(Options()); }

std::shared_ptr<WhpxFake> WhpxFake::Create(const Options& options) {
  std::shared_ptr<WhpxFake> fake(new WhpxFake(options));
  WhpxFake* expected = nullptr;
  if (!g_fake.compare_exchange_strong(expected, fake.get())) {
    std::fprintf(stderr, "WhpxFake: only one fake may be live at a time\n");
    std::abort();
  }
  return fake;
}

WhpxFake::~WhpxFake() { g_fake.store(nullptr); }

const WhpxApi* WhpxFake::api() const { return &api_; }

WhpxFake::WhpxFake(const Options& options)
    : options_(options), api_(kFakeApi) {
  // An older winhvplatform.dll's table: the optional calls it lacks are
  // null, as LoadWhpxApi() leaves them.
  if (!options.xsave_state_calls) {
    api_.WHvGetVirtualProcessorXsaveState = nullptr;
    api_.WHvSetVirtualProcessorXsaveState = nullptr;
  }
  if (!options.interrupt_controller_state_calls) {
    api_.WHvGetVirtualProcessorInterruptControllerState2 = nullptr;
    api_.WHvSetVirtualProcessorInterruptControllerState2 = nullptr;
  }
  // The images' components and size from this CPU's CPUID leaf 0xd (Intel
  // SDM Vol. 1, Section 13.2 and 13.4.3): the XCR0-capable components of
  // bits 2..62 that the options keep, each after the previous one, rounded
  // up to 64 bytes where ECX[1] says so.
  xsave_size_ = 576;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_max(0, nullptr) < 0xd) return;
  __cpuid_count(0xd, 0, eax, ebx, ecx, edx);
  xsave_held_ = (eax | (uint64_t{edx} << 32)) & options.xsave_components &
                ~uint64_t{3} & ~(1ull << 63);
  for (int i = 2; i < 63; ++i) {
    if (((xsave_held_ >> i) & 1) == 0) continue;
    __cpuid_count(0xd, i, eax, ebx, ecx, edx);
    if ((ecx & 2) != 0) xsave_size_ = (xsave_size_ + 63) & ~uint32_t{63};
    xsave_size_ += eax;
  }
}

// ---- Calls and faults ----

std::optional<WhpxFake::HRESULT> WhpxFake::Begin(const std::string& name,
                                                 const std::string& args) {
  log_.Add(Call{name, args, kSOk});
  if (std::optional<int> hr = log_.Count(name)) return End(*hr);
  return std::nullopt;
}

WhpxFake::HRESULT WhpxFake::End(HRESULT hr) {
  log_.UpdateLast([hr](Call& call) { call.result = hr; });
  return hr;
}

std::optional<WhpxFake::HRESULT> WhpxFake::BeginOn(
    const std::string& name, const std::string& args,
    WHV_PARTITION_HANDLE handle, Partition** partition) {
  if (auto hr = Begin(name, args)) return *hr;
  *partition = FindPartition(handle);
  if (*partition == nullptr) return End(kEHandle);
  return std::nullopt;
}

std::optional<WhpxFake::HRESULT> WhpxFake::BeginOnVp(
    const std::string& name, const std::string& args,
    WHV_PARTITION_HANDLE handle, uint32_t index, Partition** partition,
    Vp** vp) {
  if (auto hr = BeginOn(name, args, handle, partition)) return *hr;
  auto it = (*partition)->vps.find(index);
  if (it == (*partition)->vps.end()) return End(kWhvEVpDoesNotExist);
  *vp = &it->second;
  return std::nullopt;
}

std::vector<WhpxFake::Call> WhpxFake::calls() const { return log_.Calls(); }

std::vector<std::string> WhpxFake::CallNames() const { return log_.Names(); }

void WhpxFake::ClearCalls() {
  std::lock_guard<std::mutex> lock(mutex_);
  log_.Clear();
  log_.plan().Reset();
}

void WhpxFake::FailCall(int index, HRESULT hr) {
  log_.plan().FailCall(index, hr);
}

void WhpxFake::FailNext(const std::string& name, HRESULT hr) {
  log_.plan().FailNext(name, hr);
}

std::vector<std::string> WhpxFake::violations() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return violations_;
}

// ---- The model ----

WhpxFake::Partition* WhpxFake::FindPartition(WHV_PARTITION_HANDLE handle) {
  auto it = partitions_.find(Key(handle));
  return it == partitions_.end() ? nullptr : it->second.get();
}

WhpxFake::Partition* WhpxFake::Latest() const {
  for (const auto& [key, partition] : partitions_) {
    if (partition->id == latest_id_) return partition.get();
  }
  return nullptr;
}

int WhpxFake::LivePartitions() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(partitions_.size());
}

int WhpxFake::LiveVps() const {
  std::lock_guard<std::mutex> lock(mutex_);
  int count = 0;
  for (const auto& [key, partition] : partitions_) {
    count += static_cast<int>(partition->vps.size());
  }
  return count;
}

int WhpxFake::LiveEmulators() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(emulators_.size());
}

std::vector<WhpxFake::Mapping> WhpxFake::Mappings() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Mapping> mappings;
  Partition* partition = Latest();
  if (partition == nullptr) return mappings;
  for (const auto& [gpa, range] : partition->ranges) {
    mappings.push_back(Mapping{gpa, range.size, range.host, range.flags});
  }
  return mappings;
}

bool WhpxFake::IsSetUp() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition = Latest();
  return partition != nullptr && partition->setup;
}

uint32_t WhpxFake::ProcessorCount() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition = Latest();
  return partition == nullptr
             ? 0
             : static_cast<uint32_t>(
                   partition->Property(WHvPartitionPropertyCodeProcessorCount));
}

uint64_t WhpxFake::ExtendedVmExits() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition = Latest();
  return partition == nullptr
             ? 0
             : partition->Property(WHvPartitionPropertyCodeExtendedVmExits);
}

uint64_t WhpxFake::Reg(const Vp& vp, WHV_REGISTER_NAME name) const {
  auto it = vp.registers.find(name);
  return it == vp.registers.end() ? 0 : it->second.Reg64;
}

void WhpxFake::SetReg(Vp& vp, WHV_REGISTER_NAME name, uint64_t value) {
  WHV_REGISTER_VALUE v = {};
  v.Reg64 = value;
  vp.registers[name] = v;
}

absl::StatusOr<WHV_REGISTER_VALUE> WhpxFake::Register(
    uint32_t vp, WHV_REGISTER_NAME name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition = Latest();
  if (partition == nullptr || partition->vps.count(vp) == 0) {
    return absl::NotFoundError(absl::StrFormat("WhpxFake: no vCPU %u", vp));
  }
  const Vp& v = partition->vps.at(vp);
  auto it = v.registers.find(name);
  return it == v.registers.end() ? WHV_REGISTER_VALUE{} : it->second;
}

absl::Status WhpxFake::SetRegister(uint32_t vp, WHV_REGISTER_NAME name,
                                   const WHV_REGISTER_VALUE& value) {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition = Latest();
  if (partition == nullptr || partition->vps.count(vp) == 0) {
    return absl::NotFoundError(absl::StrFormat("WhpxFake: no vCPU %u", vp));
  }
  partition->vps.at(vp).registers[name] = value;
  return absl::OkStatus();
}

// The architectural state after INIT (Intel SDM Vol. 3A, Table 9-1).
void WhpxFake::ResetVp(Vp& vp, uint32_t index) {
  vp.registers.clear();
  SetReg(vp, WHvX64RegisterRip, 0xfff0);
  SetReg(vp, WHvX64RegisterRflags, 0x2);
  SetReg(vp, WHvX64RegisterCr0, 0x60000010);
  SetReg(vp, WHvX64RegisterApicBase, 0xfee00000 | (index == 0 ? 0x900 : 0x800));
  for (WHV_REGISTER_NAME seg = WHvX64RegisterEs; seg <= WHvX64RegisterGs;
       ++seg) {
    WHV_REGISTER_VALUE v = {};
    v.Segment.Limit = 0xffff;
    v.Segment.Attributes = 0x93;  // present, data read/write, accessed
    if (seg == WHvX64RegisterCs) {
      v.Segment.Selector = 0xf000;
      v.Segment.Base = 0xffff0000;
      v.Segment.Attributes = 0x9b;  // present, code execute/read, accessed
    }
    vp.registers[seg] = v;
  }
  WHV_REGISTER_VALUE table = {};
  table.Table.Limit = 0xffff;
  vp.registers[WHvX64RegisterGdtr] = table;
  vp.registers[WHvX64RegisterIdtr] = table;
  WHV_REGISTER_VALUE fp = {};
  fp.FpControlStatus.FpControl = 0x40;
  vp.registers[WHvX64RegisterFpControlStatus] = fp;
  WHV_REGISTER_VALUE xmm = {};
  xmm.XmmControlStatus.XmmStatusControl = 0x1f80;
  xmm.XmmControlStatus.XmmStatusControlMask = 0xffff;
  vp.registers[WHvX64RegisterXmmControlStatus] = xmm;
  SetReg(vp, WHvX64RegisterXCr0, 1);
  vp.xstate_extended = 0;
  vp.xsave_extended.assign(xsave_size_ - 576, 0);
}

// ---- Capabilities and partitions ----

WhpxFake::HRESULT WhpxFake::GetCapability(WHV_CAPABILITY_CODE code,
                                          void* buffer, uint32_t size,
                                          uint32_t* written) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto hr = Begin("WHvGetCapability",
                      absl::StrFormat("code %#x, size %u", code, size))) {
    return *hr;
  }
  WHV_CAPABILITY capability = {};
  uint32_t needed = 8;
  switch (code) {
    case WHvCapabilityCodeHypervisorPresent:
      capability.HypervisorPresent = options_.hypervisor_present ? 1 : 0;
      needed = sizeof(BOOL);
      break;
    case WHvCapabilityCodeFeatures:
      capability.Features = options_.features;
      break;
    case WHvCapabilityCodeExtendedVmExits:
      capability.ExtendedVmExits = options_.extended_vm_exits;
      break;
    case WHvCapabilityCodeProcessorClockFrequency:
      capability.ProcessorClockFrequency = options_.processor_clock_hz;
      break;
    default:
      return End(kWhvEUnknownCapability);
  }
  if (buffer == nullptr) return End(kEPointer);
  if (size < needed) return End(kWhvEInsufficientBuffer);
  std::memcpy(buffer, &capability, needed);
  if (written != nullptr) *written = needed;
  return End(kSOk);
}

WhpxFake::HRESULT WhpxFake::CreatePartition(WHV_PARTITION_HANDLE* handle) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto hr = Begin("WHvCreatePartition", "")) return *hr;
  if (handle == nullptr) return End(kEPointer);
  if (!options_.hypervisor_present) return End(kWhvEUnsupportedHypervisorConfig);
  auto partition = std::make_unique<Partition>();
  partition->id = next_partition_++;
  const uintptr_t key = kPartitionBase + partition->id * 0x10;
  latest_id_ = partition->id;
  partitions_[key] = std::move(partition);
  scripts_.clear();
  interrupts_.clear();
  requested_.clear();
  *handle = reinterpret_cast<WHV_PARTITION_HANDLE>(key);
  log_.UpdateLast(
      [key](Call& call) { call.args = absl::StrFormat("-> %#x", key); });
  return End(kSOk);
}

WhpxFake::HRESULT WhpxFake::SetupPartition(WHV_PARTITION_HANDLE handle) {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition;
  if (auto hr = BeginOn("WHvSetupPartition", Hex(handle), handle, &partition)) {
    return *hr;
  }
  // WHPX: the processor count must be set first, and setup happens once.
  if (partition->setup ||
      partition->Property(WHvPartitionPropertyCodeProcessorCount) == 0) {
    return End(kWhvEInvalidPartitionConfig);
  }
  partition->setup = true;
  return End(kSOk);
}

WhpxFake::HRESULT WhpxFake::DeletePartition(WHV_PARTITION_HANDLE handle) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto hr = Begin("WHvDeletePartition", Hex(handle))) return *hr;
  auto it = partitions_.find(Key(handle));
  if (it == partitions_.end()) return End(kEHandle);
  if (!it->second->vps.empty()) {
    violations_.push_back(absl::StrFormat(
        "WHvDeletePartition with %u vCPUs still created",
        it->second->vps.size()));
  }
  if (!it->second->ranges.empty()) {
    violations_.push_back(absl::StrFormat(
        "WHvDeletePartition with %u GPA ranges still mapped",
        it->second->ranges.size()));
  }
  partitions_.erase(it);
  return End(kSOk);
}

namespace {

// Bytes each property's value has in WHV_PARTITION_PROPERTY; 0: unknown.
uint32_t PropertySize(WHV_PARTITION_PROPERTY_CODE code) {
  switch (code) {
    case WHvPartitionPropertyCodeProcessorCount:
    case WHvPartitionPropertyCodeLocalApicEmulationMode:
      return 4;
    case WHvPartitionPropertyCodeExtendedVmExits:
    case WHvPartitionPropertyCodeExceptionExitBitmap:
    case WHvPartitionPropertyCodeX64MsrExitBitmap:
      return 8;
    default:
      return 0;
  }
}

}  // namespace

// Whether WHPX takes `value` for property `code` on this host.
bool WhpxFake::PropertyValueValid(WHV_PARTITION_PROPERTY_CODE code,
                                  uint64_t value) const {
  switch (code) {
    case WHvPartitionPropertyCodeProcessorCount:
      return value != 0;
    case WHvPartitionPropertyCodeExtendedVmExits:
      return (value & ~options_.extended_vm_exits) == 0;  // offered exits only
    case WHvPartitionPropertyCodeLocalApicEmulationMode:
      return value <= 2 &&
             (value == 0 ||
              (options_.features & kFeatureLocalApicEmulation) != 0);
    default:
      return true;
  }
}

WhpxFake::HRESULT WhpxFake::SetPartitionProperty(
    WHV_PARTITION_HANDLE handle, WHV_PARTITION_PROPERTY_CODE code,
    const void* buffer, uint32_t size) {
  std::lock_guard<std::mutex> lock(mutex_);
  WHV_PARTITION_PROPERTY property = {};
  if (buffer != nullptr) {
    std::memcpy(&property, buffer, std::min<size_t>(size, sizeof(property)));
  }
  Partition* partition;
  if (auto hr = BeginOn("WHvSetPartitionProperty",
                        absl::StrFormat("%s, code %#x, value %#x, size %u",
                                        Hex(handle), code,
                                        property.ExtendedVmExits, size),
                        handle, &partition)) {
    return *hr;
  }
  const uint32_t needed = PropertySize(code);
  if (needed == 0) return End(kWhvEUnknownProperty);
  if (buffer == nullptr) return End(kEPointer);
  if (size < needed) return End(kEInvalidArg);
  // These properties configure the partition: only before setup.
  if (partition->setup) return End(kWhvEInvalidPartitionConfig);
  // Every property's value starts the union (x86: little-endian).
  uint64_t value = 0;
  std::memcpy(&value, &property, needed);
  if (!PropertyValueValid(code, value)) return End(kEInvalidArg);
  partition->properties[code] = value;
  return End(kSOk);
}

WhpxFake::HRESULT WhpxFake::GetPartitionProperty(
    WHV_PARTITION_HANDLE handle, WHV_PARTITION_PROPERTY_CODE code,
    void* buffer, uint32_t size, uint32_t* written) {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition;
  if (auto hr = BeginOn("WHvGetPartitionProperty",
                        absl::StrFormat("%s, code %#x, size %u", Hex(handle),
                                        code, size),
                        handle, &partition)) {
    return *hr;
  }
  const uint32_t needed = PropertySize(code);
  if (needed == 0) return End(kWhvEUnknownProperty);
  if (buffer == nullptr) return End(kEPointer);
  if (size < needed) return End(kWhvEInsufficientBuffer);
  const uint64_t value = partition->Property(code);
  std::memcpy(buffer, &value, needed);
  if (written != nullptr) *written = needed;
  return End(kSOk);
}

// ---- Memory ----

std::vector<std::pair<uint64_t, WhpxFake::RangeState*>> WhpxFake::Cover(
    Partition& partition, uint64_t gpa, uint64_t size) {
  std::vector<std::pair<uint64_t, RangeState*>> cover;
  uint64_t at = gpa;
  const uint64_t end = gpa + size;
  auto it = partition.ranges.upper_bound(gpa);
  if (it == partition.ranges.begin()) return {};
  --it;
  while (at < end) {
    if (it == partition.ranges.end() || it->first > at ||
        it->first + it->second.size <= at) {
      return {};
    }
    cover.emplace_back(it->first, &it->second);
    at = it->first + it->second.size;
    ++it;
  }
  return cover;
}

std::optional<WhpxFake::HRESULT> WhpxFake::CoverPages(
    Partition& partition, uint64_t gpa, uint64_t size,
    std::vector<std::pair<uint64_t, RangeState*>>* cover) {
  if (size == 0 || gpa % kPageSize != 0 || size % kPageSize != 0) {
    return End(kEInvalidArg);
  }
  *cover = Cover(partition, gpa, size);
  if (cover->empty()) return End(kWhvEGpaRangeNotFound);
  return std::nullopt;
}

WhpxFake::HRESULT WhpxFake::MapGpaRange(WHV_PARTITION_HANDLE handle,
                                        void* source, uint64_t gpa,
                                        uint64_t size, uint32_t flags) {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition;
  if (auto hr = BeginOn("WHvMapGpaRange",
                        absl::StrFormat("%s, host %p, gpa %#x, size %#x, "
                                        "flags %#x",
                                        Hex(handle), source, gpa, size, flags),
                        handle, &partition)) {
    return *hr;
  }
  if (!partition->setup) return End(kWhvEInvalidPartitionConfig);
  constexpr uint32_t kKnown = WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite |
                              WHvMapGpaRangeFlagExecute |
                              WHvMapGpaRangeFlagTrackDirtyPages;
  if (source == nullptr || size == 0 || gpa % kPageSize != 0 ||
      size % kPageSize != 0 || Key(source) % kPageSize != 0 ||
      (flags & ~kKnown) != 0 || gpa + size < gpa) {
    return End(kEInvalidArg);
  }
  // Write or execute access without read access is not a mapping WHPX makes.
  if ((flags & (WHvMapGpaRangeFlagWrite | WHvMapGpaRangeFlagExecute)) != 0 &&
      (flags & WHvMapGpaRangeFlagRead) == 0) {
    return End(kEInvalidArg);
  }
  if ((flags & WHvMapGpaRangeFlagTrackDirtyPages) != 0 &&
      (options_.features & kFeatureDirtyPageTracking) == 0) {
    return End(kEInvalidArg);
  }
  // No overlap with an existing range.
  auto next = partition->ranges.lower_bound(gpa);
  if (next != partition->ranges.end() && next->first < gpa + size) {
    return End(kEInvalidArg);
  }
  if (next != partition->ranges.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second.size > gpa) return End(kEInvalidArg);
  }
  RangeState range;
  range.host = static_cast<uint8_t*>(source);
  range.size = size;
  range.flags = flags;
  range.dirty.assign(size / kPageSize, false);
  partition->ranges[gpa] = std::move(range);
  return End(kSOk);
}

WhpxFake::HRESULT WhpxFake::UnmapGpaRange(WHV_PARTITION_HANDLE handle,
                                          uint64_t gpa, uint64_t size) {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition;
  if (auto hr = BeginOn("WHvUnmapGpaRange",
                        absl::StrFormat("%s, gpa %#x, size %#x", Hex(handle),
                                        gpa, size),
                        handle, &partition)) {
    return *hr;
  }
  std::vector<std::pair<uint64_t, RangeState*>> cover;
  if (auto hr = CoverPages(*partition, gpa, size, &cover)) return *hr;
  const bool partial = cover.front().first != gpa ||
                       cover.back().first + cover.back().second->size !=
                           gpa + size;
  if (partial && (options_.features & kFeaturePartialUnmap) == 0) {
    return End(kWhvEGpaRangeNotFound);
  }
  const uint64_t end = gpa + size;
  for (auto& [start, range] : cover) {
    RangeState old = *range;
    partition->ranges.erase(start);
    // Keep the parts of `old` outside [gpa, end).
    auto keep = [&](uint64_t from, uint64_t to) {
      if (from >= to) return;
      RangeState piece;
      piece.host = old.host + (from - start);
      piece.size = to - from;
      piece.flags = old.flags;
      piece.dirty.assign(old.dirty.begin() + (from - start) / kPageSize,
                         old.dirty.begin() + (to - start) / kPageSize);
      partition->ranges[from] = std::move(piece);
    };
    keep(start, std::max(start, std::min(gpa, start + old.size)));
    keep(std::max(start, end), start + old.size);
  }
  return End(kSOk);
}

WhpxFake::HRESULT WhpxFake::QueryGpaRangeDirtyBitmap(
    WHV_PARTITION_HANDLE handle, uint64_t gpa, uint64_t size, uint64_t* bitmap,
    uint32_t bitmap_size) {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition;
  if (auto hr = BeginOn(
          "WHvQueryGpaRangeDirtyBitmap",
          absl::StrFormat("%s, gpa %#x, size %#x, bitmap %u bytes",
                          Hex(handle), gpa, size, bitmap_size),
          handle, &partition)) {
    return *hr;
  }
  std::vector<std::pair<uint64_t, RangeState*>> cover;
  if (auto hr = CoverPages(*partition, gpa, size, &cover)) return *hr;
  for (auto& [start, range] : cover) {
    if ((range->flags & WHvMapGpaRangeFlagTrackDirtyPages) == 0) {
      return End(kWhvEGpaRangeNotFound);
    }
  }
  const uint64_t pages = size / kPageSize;
  const uint64_t needed = (pages + 63) / 64 * 8;
  // Size 0 with no bitmap: clear only (documented).
  if (bitmap_size != 0) {
    if (bitmap == nullptr) return End(kEPointer);
    if (bitmap_size < needed) return End(kWhvEInsufficientBuffer);
    if (Key(bitmap) % 8 != 0) return End(kEInvalidArg);
    std::memset(bitmap, 0, needed);
  }
  for (auto& [start, range] : cover) {
    for (uint64_t page = 0; page < range->dirty.size(); ++page) {
      const uint64_t address = start + page * kPageSize;
      if (address < gpa || address >= gpa + size) continue;
      const uint64_t bit = (address - gpa) / kPageSize;
      if (range->dirty[page] && bitmap_size != 0) {
        bitmap[bit / 64] |= uint64_t{1} << (bit % 64);
      }
      range->dirty[page] = false;
    }
  }
  return End(kSOk);
}

WhpxFake::HRESULT WhpxFake::TranslateGva(WHV_PARTITION_HANDLE handle,
                                         uint32_t vp, uint64_t gva,
                                         uint32_t flags,
                                         WHV_TRANSLATE_GVA_RESULT* result,
                                         uint64_t* gpa) {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition;
  Vp* model;
  if (auto hr = BeginOnVp("WHvTranslateGva",
                          absl::StrFormat("%s, vp %u, gva %#x, flags %#x",
                                          Hex(handle), vp, gva, flags),
                          handle, vp, &partition, &model)) {
    return *hr;
  }
  if (result == nullptr || gpa == nullptr) return End(kEPointer);
  // The fake's guests run with paging off: addresses are identity mapped.
  *gpa = gva;
  result->ResultCode = WHvTranslateGvaResultSuccess;
  result->Reserved = 0;
  return End(kSOk);
}

// ---- Virtual processors ----

WhpxFake::HRESULT WhpxFake::CreateVirtualProcessor(WHV_PARTITION_HANDLE handle,
                                                   uint32_t vp,
                                                   uint32_t flags) {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition;
  if (auto hr = BeginOn("WHvCreateVirtualProcessor",
                        absl::StrFormat("%s, vp %u, flags %#x", Hex(handle), vp,
                                        flags),
                        handle, &partition)) {
    return *hr;
  }
  if (!partition->setup) return End(kWhvEInvalidPartitionConfig);
  if (flags != 0 ||
      vp >= partition->Property(WHvPartitionPropertyCodeProcessorCount)) {
    return End(kEInvalidArg);
  }
  if (partition->vps.count(vp) != 0) return End(kWhvEVpAlreadyExists);
  ResetVp(partition->vps[vp], vp);
  return End(kSOk);
}

WhpxFake::HRESULT WhpxFake::DeleteVirtualProcessor(WHV_PARTITION_HANDLE handle,
                                                   uint32_t vp) {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition;
  Vp* model;
  if (auto hr = BeginOnVp("WHvDeleteVirtualProcessor",
                          absl::StrFormat("%s, vp %u", Hex(handle), vp),
                          handle, vp, &partition, &model)) {
    return *hr;
  }
  if (model->running) return End(kWhvEInvalidVpState);
  partition->vps.erase(vp);
  return End(kSOk);
}

WHV_RUN_VP_EXIT_CONTEXT WhpxFake::BuildExit(Vp& vp, const Script& script) {
  WHV_RUN_VP_EXIT_CONTEXT exit = {};
  if (script.kind == Script::Kind::kRaw) exit = script.raw;
  exit.VpContext.Cs = vp.registers[WHvX64RegisterCs].Segment;
  if (exit.VpContext.Rip == 0) exit.VpContext.Rip = Reg(vp, WHvX64RegisterRip);
  exit.VpContext.Rflags = Reg(vp, WHvX64RegisterRflags);
  const uint32_t size = static_cast<uint32_t>(script.data.size());
  uint64_t value = 0;
  if (size > 0) {
    std::memcpy(&value, script.data.data(), std::min<size_t>(size, 8));
  }
  switch (script.kind) {
    case Script::Kind::kRaw:
      break;
    case Script::Kind::kHalt:
      exit.ExitReason = WHvRunVpExitReasonX64Halt;
      break;
    case Script::Kind::kIo: {
      // in/out al|ax|eax, dx: EC/ED/EE/EF, 66-prefixed for 16 bits.
      uint8_t bytes[2];
      uint8_t length = 0;
      if (size == 2) bytes[length++] = 0x66;
      bytes[length++] = static_cast<uint8_t>((script.is_write ? 0xEE : 0xEC) +
                                             (size == 1 ? 0 : 1));
      exit.ExitReason = WHvRunVpExitReasonX64IoPortAccess;
      exit.VpContext.InstructionLengthCr8 = length;
      auto& io = exit.IoPortAccess;
      io.InstructionByteCount = length;
      std::memcpy(io.InstructionBytes, bytes, length);
      io.AccessInfo = (script.is_write ? kIoAccessIsWrite : 0) |
                      (size << kIoAccessSizeShift);
      io.PortNumber = static_cast<uint16_t>(script.address);
      // The guest's registers as the instruction needs them.
      SetReg(vp, WHvX64RegisterRdx, script.address);
      if (script.is_write) {
        SetReg(vp, WHvX64RegisterRax,
               MergeResult(Reg(vp, WHvX64RegisterRax), value, size));
      }
      io.Rax = Reg(vp, WHvX64RegisterRax);
      io.Ds = vp.registers[WHvX64RegisterDs].Segment;
      io.Es = vp.registers[WHvX64RegisterEs].Segment;
      break;
    }
    case Script::Kind::kMmio: {
      // mov between al|ax|eax|rax and [rbx]: 88/89 store, 8A/8B load,
      // with 66 (16-bit) or 48 (REX.W, 64-bit); ModRM 0x03 = rax, [rbx].
      uint8_t bytes[3];
      uint8_t length = 0;
      if (size == 2) bytes[length++] = 0x66;
      if (size == 8) bytes[length++] = 0x48;
      bytes[length++] = static_cast<uint8_t>((script.is_write ? 0x88 : 0x8A) +
                                             (size == 1 ? 0 : 1));
      bytes[length++] = 0x03;
      exit.ExitReason = WHvRunVpExitReasonMemoryAccess;
      exit.VpContext.InstructionLengthCr8 = length;
      auto& memory = exit.MemoryAccess;
      memory.InstructionByteCount = length;
      std::memcpy(memory.InstructionBytes, bytes, length);
      memory.AccessInfo =
          (script.is_write ? WHvMemoryAccessWrite : WHvMemoryAccessRead) |
          (Cover(*Latest(), script.address & ~(kPageSize - 1), kPageSize)
                   .empty()
               ? kMemoryAccessGpaUnmapped
               : 0);
      memory.Gpa = script.address;
      memory.Gva = script.address;
      SetReg(vp, WHvX64RegisterRbx, script.address);
      if (script.is_write) {
        SetReg(vp, WHvX64RegisterRax,
               MergeResult(Reg(vp, WHvX64RegisterRax), value, size));
      }
      break;
    }
  }
  if (script.kind == Script::Kind::kIo || script.kind == Script::Kind::kMmio) {
    Pending pending;
    pending.exit = exit;
    pending.next_rip = exit.VpContext.Rip + InstructionLength(exit.VpContext);
    pending.is_read = !script.is_write;
    pending.size = size;
    pending.target = WHvX64RegisterRax;
    vp.pending = pending;
  }
  return exit;
}

WhpxFake::HRESULT WhpxFake::RunVirtualProcessor(WHV_PARTITION_HANDLE handle,
                                                uint32_t index, void* context,
                                                uint32_t size) {
  std::unique_lock<std::mutex> lock(mutex_);
  Partition* partition;
  Vp* model;
  if (auto hr = BeginOnVp("WHvRunVirtualProcessor",
                          absl::StrFormat("%s, vp %u, size %u", Hex(handle),
                                          index, size),
                          handle, index, &partition, &model)) {
    return *hr;
  }
  if (context == nullptr) return End(kEPointer);
  if (size < sizeof(WHV_RUN_VP_EXIT_CONTEXT)) {
    return End(kWhvEInsufficientBuffer);
  }
  Vp& vp = *model;
  if (vp.running) return End(kWhvEInvalidVpState);
  auto* out = static_cast<WHV_RUN_VP_EXIT_CONTEXT*>(context);
  // Entering the guest: the last I/O or MMIO instruction either completed
  // (rip moved past it; a read's result is in its register) or runs again.
  if (vp.pending.has_value()) {
    const Pending pending = *vp.pending;
    if (Reg(vp, WHvX64RegisterRip) != pending.next_rip) {
      *out = pending.exit;
      return End(kSOk);
    }
    vp.pending.reset();
    if (pending.is_read) {
      const uint64_t value = Reg(vp, pending.target);
      vp.completed_read.assign(pending.size, 0);
      if (pending.size > 0) {
        std::memcpy(vp.completed_read.data(), &value,
                    std::min<size_t>(pending.size, sizeof(value)));
      }
    }
  }
  const bool latest = partition->id == latest_id_;
  vp.running = true;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(options_.run_timeout_ms);
  const uint64_t id = partition->id;
  for (;;) {
    if (vp.cancel_pending) {
      vp.cancel_pending = false;
      vp.running = false;
      *out = WHV_RUN_VP_EXIT_CONTEXT{};
      out->ExitReason = WHvRunVpExitReasonCanceled;
      out->VpContext.Rip = Reg(vp, WHvX64RegisterRip);
      out->VpContext.Rflags = Reg(vp, WHvX64RegisterRflags);
      out->CancelReason = 0;  // WHvRunVpCancelReasonUser
      return kSOk;
    }
    auto script = scripts_.find(index);
    if (latest && script != scripts_.end() && !script->second.empty()) {
      const Script next = script->second.front();
      script->second.pop_front();
      vp.running = false;
      *out = BuildExit(vp, next);
      return kSOk;
    }
    if (wake_.wait_until(lock, deadline) == std::cv_status::timeout) {
      violations_.push_back(absl::StrFormat(
          "WHvRunVirtualProcessor (vp %u): nothing scripted and no cancel "
          "for %d ms",
          index, options_.run_timeout_ms));
      vp.running = false;
      return kEFail;
    }
    // The partition may not go away under a running vCPU (WHPX refuses to
    // delete a partition whose vCPU runs; the backend never tries).
    partition = nullptr;
    for (auto& [key, p] : partitions_) {
      if (p->id == id) partition = p.get();
    }
    if (partition == nullptr) return kEUnexpected;
  }
}

WhpxFake::HRESULT WhpxFake::CancelRunVirtualProcessor(
    WHV_PARTITION_HANDLE handle, uint32_t index, uint32_t flags) {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition;
  Vp* vp;
  if (auto hr = BeginOnVp("WHvCancelRunVirtualProcessor",
                          absl::StrFormat("%s, vp %u, flags %#x", Hex(handle),
                                          index, flags),
                          handle, index, &partition, &vp)) {
    return *hr;
  }
  if (flags != 0) return End(kEInvalidArg);
  vp->cancel_pending = true;
  wake_.notify_all();
  return End(kSOk);
}

std::optional<WhpxFake::HRESULT> WhpxFake::BeginRegisters(
    const std::string& name, WHV_PARTITION_HANDLE handle, uint32_t index,
    const WHV_REGISTER_NAME* names, uint32_t count, const void* values,
    bool set, Vp** vp) {
  // The values to set (SetRegisters), or null.
  const auto* in =
      set ? static_cast<const WHV_REGISTER_VALUE*>(values) : nullptr;
  std::string args = absl::StrFormat("%s, vp %u, [", Hex(handle), index);
  for (uint32_t i = 0; names != nullptr && (!set || in != nullptr) && i < count;
       ++i) {
    absl::StrAppendFormat(&args, "%s%#x", i == 0 ? "" : " ", names[i]);
    if (set) absl::StrAppendFormat(&args, "=%#x", in[i].Reg64);
  }
  args += "]";
  Partition* partition;
  if (auto hr = BeginOnVp(name, args, handle, index, &partition, vp)) {
    return *hr;
  }
  if (count == 0) return End(kEInvalidArg);
  if (names == nullptr || values == nullptr) return End(kEPointer);
  // WHvGetVirtualProcessorRegisters writes whole WHV_REGISTER_VALUEs.
  if (!set && Key(values) % alignof(WHV_REGISTER_VALUE) != 0) {
    return End(kEInvalidArg);
  }
  for (uint32_t i = 0; i < count; ++i) {
    if (!KnownRegister(names[i])) return End(kWhvEInvalidVpRegisterName);
    // A present segment needs the S/type bits a descriptor would have; the
    // reserved attribute bits (8-11) must be zero.
    if (set && IsSegment(names[i]) &&
        (in[i].Segment.Attributes & 0x0f00) != 0) {
      return End(kEInvalidArg);
    }
  }
  return std::nullopt;
}

WhpxFake::HRESULT WhpxFake::GetRegisters(WHV_PARTITION_HANDLE handle,
                                         uint32_t index,
                                         const WHV_REGISTER_NAME* names,
                                         uint32_t count,
                                         WHV_REGISTER_VALUE* values) {
  std::lock_guard<std::mutex> lock(mutex_);
  Vp* vp;
  if (auto hr = BeginRegisters("WHvGetVirtualProcessorRegisters", handle,
                               index, names, count, values, false, &vp)) {
    return *hr;
  }
  for (uint32_t i = 0; i < count; ++i) {
    auto reg = vp->registers.find(names[i]);
    values[i] =
        reg == vp->registers.end() ? WHV_REGISTER_VALUE{} : reg->second;
  }
  return End(kSOk);
}

WhpxFake::HRESULT WhpxFake::SetRegisters(WHV_PARTITION_HANDLE handle,
                                         uint32_t index,
                                         const WHV_REGISTER_NAME* names,
                                         uint32_t count,
                                         const WHV_REGISTER_VALUE* values) {
  std::lock_guard<std::mutex> lock(mutex_);
  Vp* vp;
  if (auto hr = BeginRegisters("WHvSetVirtualProcessorRegisters", handle,
                               index, names, count, values, true, &vp)) {
    return *hr;
  }
  for (uint32_t i = 0; i < count; ++i) {
    vp->registers[names[i]] = values[i];
    if (names[i] == WHvRegisterPendingInterruption &&
        (values[i].Reg64 & kPendingInterruptionPending) != 0 &&
        ((values[i].Reg64 >> kPendingInterruptionTypeShift) & 7) ==
            WHvX64PendingInterrupt) {
      ++interrupts_[(values[i].Reg64 >> kPendingInterruptionVectorShift) &
                    0xff];
    }
  }
  return End(kSOk);
}

WhpxFake::HRESULT WhpxFake::RequestInterrupt(
    WHV_PARTITION_HANDLE handle, const WHV_INTERRUPT_CONTROL* interrupt,
    uint32_t size) {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition;
  if (auto hr = BeginOn(
          "WHvRequestInterrupt",
          interrupt == nullptr
              ? absl::StrFormat("%s, null, size %u", Hex(handle), size)
              : absl::StrFormat(
                    "%s, type modes %#x, destination %#x, vector %#x, size %u",
                    Hex(handle), interrupt->TypeModes, interrupt->Destination,
                    interrupt->Vector, size),
          handle, &partition)) {
    return *hr;
  }
  if (interrupt == nullptr) return End(kEPointer);
  if (size < sizeof(WHV_INTERRUPT_CONTROL)) return End(kEInvalidArg);
  // Interrupts are requested of the emulated local APICs of a set-up
  // partition.
  if (!partition->setup ||
      partition->Property(WHvPartitionPropertyCodeLocalApicEmulationMode) ==
          WHvX64LocalApicEmulationModeNone) {
    return End(kWhvEInvalidPartitionConfig);
  }
  const uint64_t type = interrupt->TypeModes & 0xff;
  const uint64_t destination_mode = (interrupt->TypeModes >> 8) & 0xf;
  const uint64_t trigger_mode = (interrupt->TypeModes >> 12) & 0xf;
  const bool known_type =
      type == WHvX64InterruptTypeFixed ||
      type == WHvX64InterruptTypeLowestPriority ||
      type == WHvX64InterruptTypeNmi || type == WHvX64InterruptTypeInit ||
      type == WHvX64InterruptTypeSipi || type == WHvX64InterruptTypeLocalInt1;
  if (!known_type || destination_mode > WHvX64InterruptDestinationModeLogical ||
      trigger_mode > WHvX64InterruptTriggerModeLevel ||
      (interrupt->TypeModes >> 16) != 0 || interrupt->Vector > 0xff) {
    return End(kEInvalidArg);
  }
  requested_.push_back(*interrupt);
  ++interrupts_[interrupt->Vector];
  return End(kSOk);
}

std::vector<WHV_INTERRUPT_CONTROL> WhpxFake::RequestedInterrupts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requested_;
}

uint32_t WhpxFake::LocalApicEmulationMode() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition = Latest();
  return partition == nullptr
             ? 0
             : static_cast<uint32_t>(partition->Property(
                   WHvPartitionPropertyCodeLocalApicEmulationMode));
}

// ---- Local APIC state ----
//
// A partition that emulates local APICs keeps each vCPU's register page;
// the fake holds it as bytes (WHPX's "standard external state format" is
// the xAPIC page, 16 bytes per 32-bit register). A new vCPU's page has its
// APIC id (register 0x20, bits 31:24) and version (0x30), the rest zero.

std::optional<WhpxFake::HRESULT> WhpxFake::BeginLapic(
    const std::string& name, WHV_PARTITION_HANDLE handle, uint32_t index,
    uint32_t size, Vp** vp) {
  Partition* partition;
  if (auto hr = BeginOnVp(name,
                          absl::StrFormat("%s, vp %u, size %u", Hex(handle),
                                          index, size),
                          handle, index, &partition, vp)) {
    return hr;
  }
  if (partition->Property(WHvPartitionPropertyCodeLocalApicEmulationMode) ==
      WHvX64LocalApicEmulationModeNone) {
    return End(kWhvEInvalidPartitionConfig);
  }
  if ((*vp)->lapic.empty()) {
    (*vp)->lapic.assign(kLapicStateSize, 0);
    const uint32_t id = index << 24;
    // Version register: bits 23:16 the last LVT entry (5: six entries),
    // bits 7:0 the version (0x14, an integrated xAPIC).
    const uint32_t version = 0x50014;
    std::memcpy(&(*vp)->lapic[0x20], &id, sizeof(id));
    std::memcpy(&(*vp)->lapic[0x30], &version, sizeof(version));
  }
  return std::nullopt;
}

WhpxFake::HRESULT WhpxFake::GetInterruptControllerState2(
    WHV_PARTITION_HANDLE handle, uint32_t index, void* state, uint32_t size,
    uint32_t* written) {
  std::lock_guard<std::mutex> lock(mutex_);
  Vp* vp;
  if (auto hr = BeginLapic("WHvGetVirtualProcessorInterruptControllerState2",
                           handle, index, size, &vp)) {
    return *hr;
  }
  if (size < kLapicStateSize) {
    if (written != nullptr) *written = kLapicStateSize;
    return End(kWhvEInsufficientBuffer);
  }
  if (state == nullptr) return End(kEPointer);
  std::memcpy(state, vp->lapic.data(), kLapicStateSize);
  if (written != nullptr) *written = kLapicStateSize;
  return End(kSOk);
}

WhpxFake::HRESULT WhpxFake::SetInterruptControllerState2(
    WHV_PARTITION_HANDLE handle, uint32_t index, const void* state,
    uint32_t size) {
  std::lock_guard<std::mutex> lock(mutex_);
  Vp* vp;
  if (auto hr = BeginLapic("WHvSetVirtualProcessorInterruptControllerState2",
                           handle, index, size, &vp)) {
    return *hr;
  }
  if (state == nullptr || size < kLapicStateSize) return End(kEPointer);
  std::memcpy(vp->lapic.data(), state, kLapicStateSize);
  return End(kSOk);
}

absl::StatusOr<std::vector<uint8_t>> WhpxFake::LapicPage(uint32_t index) const {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition = Latest();
  if (partition == nullptr) return absl::NotFoundError("no partition");
  auto it = partition->vps.find(index);
  if (it == partition->vps.end()) return absl::NotFoundError("no such vCPU");
  return it->second.lapic;
}

// ---- XSAVE state ----
//
// The image is WHPX's: the compacted format (XCOMP_BV bit 63 set). Its
// legacy region is the vCPU's FP and XMM registers in the FXSAVE layout
// (Intel SDM Vol. 1, Section 10.5.1, Table 10-2: FCW 0, FSW 2, abridged
// FTW 4, FOP 6, FIP 8, FDP 16, MXCSR 24, MXCSR_MASK 28, ST/MM 32 + 16i,
// XMM 160 + 16i), so the registers and the image are one state.

namespace {
constexpr size_t kFxFcw = 0, kFxFsw = 2, kFxFtw = 4, kFxFop = 6, kFxFip = 8,
                 kFxFdp = 16, kFxMxcsr = 24, kFxMxcsrMask = 28, kFxSt = 32,
                 kFxXmm = 160;
template <typename T>
void PutAt(uint8_t* image, size_t offset, T value) {
  std::memcpy(image + offset, &value, sizeof(value));
}
template <typename T>
T GetAt(const uint8_t* image, size_t offset) {
  T value;
  std::memcpy(&value, image + offset, sizeof(value));
  return value;
}

// The legacy region's fields and where `registers` holds each, for both
// directions: `field(offset, bytes, size)` for each field of the FP and XMM
// control registers (MXCSR_MASK aside: the CPU's, not state) and each ST
// and XMM register whole. operator[] makes a register missing from the map
// a zero one.
template <typename FieldFn>
void FxsaveRegisterFields(
    std::map<uint32_t, WHV_REGISTER_VALUE>& registers, FieldFn field) {
  auto at = [&field](size_t offset, auto* bytes) {
    field(offset, bytes, sizeof(*bytes));
  };
  auto& fp = registers[WHvX64RegisterFpControlStatus].FpControlStatus;
  auto& xmm = registers[WHvX64RegisterXmmControlStatus].XmmControlStatus;
  at(kFxFcw, &fp.FpControl);
  at(kFxFsw, &fp.FpStatus);
  at(kFxFtw, &fp.FpTag);
  at(kFxFop, &fp.LastFpOp);
  at(kFxFip, &fp.LastFpRip);
  at(kFxFdp, &xmm.LastFpRdp);
  at(kFxMxcsr, &xmm.XmmStatusControl);
  for (uint32_t i = 0; i < 8; ++i) {
    at(kFxSt + 16 * i, &registers[WHvX64RegisterFpMmx0 + i].Reg128);
  }
  for (uint32_t i = 0; i < 16; ++i) {
    at(kFxXmm + 16 * i, &registers[WHvX64RegisterXmm0 + i].Reg128);
  }
}
}  // namespace

WhpxFake::HRESULT WhpxFake::GetXsaveState(WHV_PARTITION_HANDLE handle,
                                          uint32_t vp, void* buffer,
                                          uint32_t size, uint32_t* written) {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition;
  Vp* model;
  if (auto hr = BeginOnVp("WHvGetVirtualProcessorXsaveState",
                          absl::StrFormat("%s, vp %u, size %u", Hex(handle),
                                          vp, size),
                          handle, vp, &partition, &model)) {
    return *hr;
  }
  if (written == nullptr || (buffer == nullptr && size != 0)) {
    return End(kEPointer);
  }
  if (size < xsave_size_) {
    *written = xsave_size_;
    return End(kWhvEInsufficientBuffer);
  }
  auto* image = static_cast<uint8_t*>(buffer);
  std::memset(image, 0, xsave_size_);
  // A copy: reading the image adds no register to the model.
  std::map<uint32_t, WHV_REGISTER_VALUE> registers = model->registers;
  FxsaveRegisterFields(registers,
                       [image](size_t offset, const void* bytes, size_t size) {
                         std::memcpy(image + offset, bytes, size);
                       });
  PutAt(image, kFxMxcsrMask,
        registers[WHvX64RegisterXmmControlStatus]
            .XmmControlStatus.XmmStatusControlMask);
  PutAt<uint64_t>(image, 512, 3 | model->xstate_extended);
  PutAt<uint64_t>(image, 520, XsaveXcompBv());
  std::memcpy(image + 576, model->xsave_extended.data(),
              model->xsave_extended.size());
  *written = xsave_size_;
  return End(kSOk);
}

WhpxFake::HRESULT WhpxFake::SetXsaveState(WHV_PARTITION_HANDLE handle,
                                          uint32_t vp, const void* buffer,
                                          uint32_t size) {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition;
  Vp* model;
  if (auto hr = BeginOnVp("WHvSetVirtualProcessorXsaveState",
                          absl::StrFormat("%s, vp %u, size %u", Hex(handle),
                                          vp, size),
                          handle, vp, &partition, &model)) {
    return *hr;
  }
  if (buffer == nullptr) return End(kEPointer);
  if (size != xsave_size_) return End(kEInvalidArg);
  const auto* image = static_cast<const uint8_t*>(buffer);
  const uint64_t xstate_bv = GetAt<uint64_t>(image, 512);
  // What XRSTORS would refuse with #GP (SDM Vol. 1, Section 13.12): another
  // XCOMP_BV, XSTATE_BV outside it, reserved header bytes, MXCSR bits
  // outside MXCSR_MASK.
  if (GetAt<uint64_t>(image, 520) != XsaveXcompBv() ||
      (xstate_bv & ~(xsave_held_ | 3)) != 0) {
    return End(kEInvalidArg);
  }
  for (size_t i = 528; i < 576; ++i) {
    if (image[i] != 0) return End(kEInvalidArg);
  }
  const uint32_t mask = model->registers[WHvX64RegisterXmmControlStatus]
                            .XmmControlStatus.XmmStatusControlMask;
  if ((GetAt<uint32_t>(image, kFxMxcsr) & ~mask) != 0) return End(kEInvalidArg);
  FxsaveRegisterFields(model->registers,
                       [image](size_t offset, void* bytes, size_t size) {
                         std::memcpy(bytes, image + offset, size);
                       });
  model->xstate_extended = xstate_bv & ~uint64_t{3};
  std::memcpy(model->xsave_extended.data(), image + 576,
              model->xsave_extended.size());
  return End(kSOk);
}

// ---- The emulator ----

WhpxFake::HRESULT WhpxFake::EmulatorCreate(
    const WHV_EMULATOR_CALLBACKS* callbacks, WHV_EMULATOR_HANDLE* emulator) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto hr = Begin("WHvEmulatorCreateEmulator",
                      absl::StrFormat("callbacks size %u",
                                      callbacks ? callbacks->Size : 0))) {
    return *hr;
  }
  if (callbacks == nullptr || emulator == nullptr) return End(kEPointer);
  if (callbacks->Size != sizeof(WHV_EMULATOR_CALLBACKS) ||
      callbacks->WHvEmulatorIoPortCallback == nullptr ||
      callbacks->WHvEmulatorMemoryCallback == nullptr ||
      callbacks->WHvEmulatorGetVirtualProcessorRegisters == nullptr ||
      callbacks->WHvEmulatorSetVirtualProcessorRegisters == nullptr ||
      callbacks->WHvEmulatorTranslateGvaPage == nullptr) {
    return End(kEInvalidArg);
  }
  const uintptr_t key = kEmulatorBase + next_emulator_++ * 0x10;
  emulators_[key] = Emulator{*callbacks};
  *emulator = reinterpret_cast<WHV_EMULATOR_HANDLE>(key);
  return End(kSOk);
}

WhpxFake::HRESULT WhpxFake::EmulatorDestroy(WHV_EMULATOR_HANDLE emulator) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto hr = Begin("WHvEmulatorDestroyEmulator", Hex(emulator))) return *hr;
  if (emulators_.erase(Key(emulator)) == 0) return End(kEHandle);
  return End(kSOk);
}

std::optional<WhpxFake::HRESULT> WhpxFake::BeginEmulation(
    const std::string& name, WHV_EMULATOR_HANDLE emulator,
    const char* address_kind, uint64_t address, uint32_t access_info,
    bool pointers_given, WHV_EMULATOR_CALLBACKS* callbacks) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto hr = Begin(name, absl::StrFormat("%s, %s %#x, info %#x",
                                            Hex(emulator), address_kind,
                                            address, access_info))) {
    return *hr;
  }
  auto it = emulators_.find(Key(emulator));
  if (it == emulators_.end()) return End(kEHandle);
  if (!pointers_given) return End(kEPointer);
  *callbacks = it->second.callbacks;
  End(kSOk);
  return std::nullopt;
}

WhpxFake::HRESULT WhpxFake::EmulatorTryIo(
    WHV_EMULATOR_HANDLE emulator, void* context,
    const WHV_VP_EXIT_CONTEXT* vp_context,
    const WHV_X64_IO_PORT_ACCESS_CONTEXT* io, WHV_EMULATOR_STATUS* status) {
  WHV_EMULATOR_CALLBACKS callbacks;
  if (auto hr = BeginEmulation(
          "WHvEmulatorTryIoEmulation", emulator, "port",
          io ? io->PortNumber : 0, io ? io->AccessInfo : 0,
          vp_context != nullptr && io != nullptr && status != nullptr,
          &callbacks)) {
    return *hr;
  }
  // From here on the emulator runs on the caller's thread with no fake lock
  // held: its callbacks call back into WHPX (registers).
  *status = 0;
  const uint32_t size = (io->AccessInfo & kIoAccessSizeMask) >> kIoAccessSizeShift;
  if ((io->AccessInfo & kIoAccessStringOp) != 0 ||
      (size != 1 && size != 2 && size != 4)) {
    *status = kEmulationInternalFailure;  // outside what the fake scripts
    return kSOk;
  }
  const bool is_write = (io->AccessInfo & kIoAccessIsWrite) != 0;
  WHV_REGISTER_VALUE value = {};
  if (!GetRegisterForEmulation(callbacks, context, WHvX64RegisterRax, &value,
                               status)) {
    return kSOk;
  }
  WHV_EMULATOR_IO_ACCESS_INFO access = {};
  access.Direction = is_write ? 1 : 0;
  access.Port = io->PortNumber;
  access.AccessSize = static_cast<uint16_t>(size);
  access.Data = is_write ? static_cast<uint32_t>(Low(value.Reg64, size)) : 0;
  if (!Succeeded(callbacks.WHvEmulatorIoPortCallback(context, &access))) {
    *status = kEmulationIoPortCallbackFailed;
    return kSOk;
  }
  *status = CompleteEmulation(callbacks, context, *vp_context, WHvX64RegisterRax,
                              MergeResult(value.Reg64, access.Data, size),
                              is_write);
  return kSOk;
}

WhpxFake::HRESULT WhpxFake::EmulatorTryMmio(
    WHV_EMULATOR_HANDLE emulator, void* context,
    const WHV_VP_EXIT_CONTEXT* vp_context,
    const WHV_MEMORY_ACCESS_CONTEXT* mmio, WHV_EMULATOR_STATUS* status) {
  WHV_EMULATOR_CALLBACKS callbacks;
  if (auto hr = BeginEmulation(
          "WHvEmulatorTryMmioEmulation", emulator, "gpa",
          mmio ? mmio->Gpa : 0, mmio ? mmio->AccessInfo : 0,
          vp_context != nullptr && mmio != nullptr && status != nullptr,
          &callbacks)) {
    return *hr;
  }
  *status = 0;
  // Decode the instruction: [66|48] (88|89|8A|8B) ModRM, register-indirect.
  const uint8_t* bytes = mmio->InstructionBytes;
  const uint32_t count = std::min<uint32_t>(mmio->InstructionByteCount, 16);
  uint32_t at = 0;
  uint32_t size = 4;
  if (at < count && bytes[at] == 0x66) { size = 2; ++at; }
  if (at < count && bytes[at] == 0x48) { size = 8; ++at; }
  if (at + 2 > count) {
    *status = kEmulationInternalFailure;
    return kSOk;
  }
  const uint8_t opcode = bytes[at];
  const uint8_t modrm = bytes[at + 1];
  if ((opcode != 0x88 && opcode != 0x89 && opcode != 0x8A && opcode != 0x8B) ||
      (modrm >> 6) != 0 || (modrm & 7) == 4 || (modrm & 7) == 5) {
    *status = kEmulationInternalFailure;
    return kSOk;
  }
  if (opcode == 0x88 || opcode == 0x8A) size = 1;
  const bool is_write = opcode == 0x88 || opcode == 0x89;
  const WHV_REGISTER_NAME target = (modrm >> 3) & 7;  // SDK order = encoding
  WHV_REGISTER_VALUE value = {};
  if (!GetRegisterForEmulation(callbacks, context, target, &value, status)) {
    return kSOk;
  }
  WHV_EMULATOR_MEMORY_ACCESS_INFO access = {};
  access.GpaAddress = mmio->Gpa;
  access.Direction = is_write ? 1 : 0;
  access.AccessSize = static_cast<uint8_t>(size);
  if (is_write) std::memcpy(access.Data, &value.Reg64, size);
  if (!Succeeded(callbacks.WHvEmulatorMemoryCallback(context, &access))) {
    *status = kEmulationMemoryCallbackFailed;
    return kSOk;
  }
  uint64_t loaded = 0;
  std::memcpy(&loaded, access.Data, size);
  *status = CompleteEmulation(callbacks, context, *vp_context, target,
                              MergeResult(value.Reg64, loaded, size), is_write);
  return kSOk;
}

// ---- ScriptedGuest ----

void WhpxFake::Enqueue(uint32_t vp, Script script) {
  std::lock_guard<std::mutex> lock(mutex_);
  scripts_[vp].push_back(std::move(script));
  wake_.notify_all();
}

void WhpxFake::QueueMmio(uint32_t vcpu, uint64_t address, bool is_write,
                         std::vector<uint8_t> data) {
  Enqueue(vcpu,
          Script{Script::Kind::kMmio, address, is_write, std::move(data)});
}

bool WhpxFake::QueueIo(uint32_t vcpu, uint16_t port, bool is_write,
                       std::vector<uint8_t> data) {
  Enqueue(vcpu, Script{Script::Kind::kIo, port, is_write, std::move(data)});
  return true;
}

// x86 WHPX has no system-event exit (reset/shutdown reach the VMM as port
// or MMIO writes to its devices).
bool WhpxFake::QueueSystemEvent(uint32_t, SystemEventKind) { return false; }

bool WhpxFake::QueueHalt(uint32_t vcpu) {
  Enqueue(vcpu, Script{Script::Kind::kHalt});
  return true;
}

void WhpxFake::QueueRawExit(uint32_t vp, const WHV_RUN_VP_EXIT_CONTEXT& exit) {
  Enqueue(vp, Script{Script::Kind::kRaw, 0, false, {}, exit});
}

std::vector<uint8_t> WhpxFake::CompletedRead(uint32_t vcpu) {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition = Latest();
  if (partition == nullptr || partition->vps.count(vcpu) == 0) return {};
  return partition->vps.at(vcpu).completed_read;
}

GuestMemory WhpxFake::Memory(Partition& partition) {
  return GuestMemory(
      "WhpxFake", "GPA range",
      [this, &partition](uint64_t gpa) -> std::optional<GuestRange> {
        auto cover = Cover(partition, gpa, 1);
        if (cover.empty()) return std::nullopt;
        const RangeState& range = *cover[0].second;
        return GuestRange{cover[0].first, range.size,
                          reinterpret_cast<uintptr_t>(range.host),
                          (range.flags & WHvMapGpaRangeFlagWrite) != 0};
      });
}

absl::StatusOr<std::vector<uint8_t>> WhpxFake::GuestRead(uint64_t gpa,
                                                         size_t size) {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition = Latest();
  if (partition == nullptr) return absl::NotFoundError("WhpxFake: no VM");
  return Memory(*partition).Read(gpa, size);
}

absl::Status WhpxFake::GuestWrite(uint64_t gpa,
                                  absl::Span<const uint8_t> data) {
  std::lock_guard<std::mutex> lock(mutex_);
  Partition* partition = Latest();
  if (partition == nullptr) return absl::NotFoundError("WhpxFake: no VM");
  if (absl::Status written = Memory(*partition).Write(gpa, data);
      !written.ok()) {
    return written;
  }
  // Every page the store touched is dirty where the range logs it.
  const uint64_t end = gpa + data.size();
  for (uint64_t at = gpa; at < end; at = (at & ~(kPageSize - 1)) + kPageSize) {
    auto cover = Cover(*partition, at, 1);
    RangeState& range = *cover[0].second;
    if (range.flags & WHvMapGpaRangeFlagTrackDirtyPages) {
      range.dirty[(at - cover[0].first) / kPageSize] = true;
    }
  }
  return absl::OkStatus();
}

uint64_t WhpxFake::InterruptsDelivered(uint32_t gsi) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = interrupts_.find(gsi);
  return it == interrupts_.end() ? 0 : it->second;
}

}  // namespace hv::testing
