#include "hypervisor/whpx/whpx_vcpu.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/whpx/whpx_status.h"

namespace hv {

using namespace whpx_abi;  // NOLINT: the SDK's names

// What one TryIoEmulation / TryMmioEmulation hands its callbacks.
struct WhpxVcpu::EmulationContext {
  enum class Mode {
    kIo,     // HandleIo: port accesses go to `handler`
    kMmio,   // HandleMmio: accesses outside RAM go to `handler`
    kProbe,  // Run(): record the first MMIO access, then decline it
  };
  WhpxVcpu* vcpu = nullptr;
  Mode mode = Mode::kIo;
  absl::FunctionRef<void(IoRequest&)>* handler = nullptr;
  // kProbe: the access the emulator tried.
  bool probed = false;
  uint64_t probe_address = 0;
  uint8_t probe_size = 0;
  bool probe_is_write = false;
};

namespace {

using Context = WhpxVcpu::EmulationContext;

// The emulator's callbacks. `context` is always the EmulationContext that
// HandleIo / HandleMmio / Run passed to WHvEmulatorTry*Emulation, which
// calls back synchronously on the same thread before it returns.

HRESULT WHPX_CALL IoPortCallback(void* context,
                                 WHV_EMULATOR_IO_ACCESS_INFO* io) {
  auto* ctx = static_cast<Context*>(context);
  if (ctx->mode != Context::Mode::kIo || io == nullptr) return kEUnexpected;
  if (io->AccessSize != 1 && io->AccessSize != 2 && io->AccessSize != 4) {
    return kEInvalidArg;
  }
  // SAFETY: Data is a 4-byte field of the emulator's structure; the request
  // covers its first AccessSize (<= 4) bytes, in the guest's little-endian
  // byte order, as the x86 port access itself.
  uint8_t* bytes = reinterpret_cast<uint8_t*>(&io->Data);
  RunIoHandler(*ctx->handler, io->Port, io->Direction == 1,
               {bytes, sizeof(io->Data)}, io->AccessSize);
  return kSOk;
}

HRESULT WHPX_CALL MemoryCallback(void* context,
                                 WHV_EMULATOR_MEMORY_ACCESS_INFO* memory) {
  auto* ctx = static_cast<Context*>(context);
  if (memory == nullptr || memory->AccessSize == 0 ||
      memory->AccessSize > sizeof(memory->Data)) {
    return kEInvalidArg;
  }
  const bool is_write = memory->Direction == 1;
  auto data = absl::Span<uint8_t>(memory->Data, memory->AccessSize);
  const WhpxPartition& partition = ctx->vcpu->partition();
  // Guest RAM (string I/O buffers, the RAM side of a movs) is read and
  // written directly; a probe reads but never writes.
  if (!is_write && partition.ReadRam(memory->GpaAddress, data)) return kSOk;
  if (is_write && partition.IsWritableRam(memory->GpaAddress)) {
    if (ctx->mode == Context::Mode::kProbe) return kEFail;
    return partition.WriteRam(memory->GpaAddress, data) ? kSOk : kEFail;
  }
  switch (ctx->mode) {
    case Context::Mode::kProbe:
      if (!ctx->probed) {
        ctx->probed = true;
        ctx->probe_address = memory->GpaAddress;
        ctx->probe_size = memory->AccessSize;
        ctx->probe_is_write = is_write;
      }
      return kEFail;  // decline: nothing is completed in the probe
    case Context::Mode::kIo:
      return kEFail;  // string I/O on memory that is not RAM
    case Context::Mode::kMmio:
      RunIoHandler(*ctx->handler, memory->GpaAddress, is_write,
                   {memory->Data, sizeof(memory->Data)}, memory->AccessSize);
      return kSOk;
  }
  return kEUnexpected;
}

HRESULT WHPX_CALL GetRegistersCallback(void* context,
                                       const WHV_REGISTER_NAME* names,
                                       uint32_t count,
                                       WHV_REGISTER_VALUE* values) {
  auto* ctx = static_cast<Context*>(context);
  const WhpxPartition& partition = ctx->vcpu->partition();
  return partition.api().WHvGetVirtualProcessorRegisters(
      partition.handle(), ctx->vcpu->id(), names, count, values);
}

HRESULT WHPX_CALL SetRegistersCallback(void* context,
                                       const WHV_REGISTER_NAME* names,
                                       uint32_t count,
                                       const WHV_REGISTER_VALUE* values) {
  auto* ctx = static_cast<Context*>(context);
  if (ctx->mode == Context::Mode::kProbe) return kEFail;  // never completes
  const WhpxPartition& partition = ctx->vcpu->partition();
  return partition.api().WHvSetVirtualProcessorRegisters(
      partition.handle(), ctx->vcpu->id(), names, count, values);
}

HRESULT WHPX_CALL TranslateGvaPageCallback(
    void* context, WHV_GUEST_VIRTUAL_ADDRESS gva, WHV_TRANSLATE_GVA_FLAGS flags,
    WHV_TRANSLATE_GVA_RESULT_CODE* result, WHV_GUEST_PHYSICAL_ADDRESS* gpa) {
  auto* ctx = static_cast<Context*>(context);
  const WhpxPartition& partition = ctx->vcpu->partition();
  WHV_TRANSLATE_GVA_RESULT translation = {};
  const HRESULT hr = partition.api().WHvTranslateGva(
      partition.handle(), ctx->vcpu->id(), gva, flags, &translation, gpa);
  if (Succeeded(hr) && result != nullptr) *result = translation.ResultCode;
  return hr;
}

constexpr WHV_EMULATOR_CALLBACKS kCallbacks = {
    sizeof(WHV_EMULATOR_CALLBACKS), 0,
    IoPortCallback,                 MemoryCallback,
    GetRegistersCallback,           SetRegistersCallback,
    TranslateGvaPageCallback,
};

std::string EmulatorStatusText(WHV_EMULATOR_STATUS status) {
  std::string text = absl::StrFormat("status %#x", status);
  struct Bit {
    uint32_t bit;
    const char* name;
  };
  static constexpr Bit kBits[] = {
      {kEmulationInternalFailure, "InternalEmulationFailure"},
      {kEmulationIoPortCallbackFailed, "IoPortCallbackFailed"},
      {kEmulationMemoryCallbackFailed, "MemoryCallbackFailed"},
      {kEmulationTranslateGvaPageCallbackFailed, "TranslateGvaPageCallbackFailed"},
      {kEmulationGetRegistersCallbackFailed, "GetVirtualProcessorRegistersCallbackFailed"},
      {kEmulationSetRegistersCallbackFailed, "SetVirtualProcessorRegistersCallbackFailed"},
  };
  for (const Bit& bit : kBits) {
    if (status & bit.bit) absl::StrAppend(&text, " ", bit.name);
  }
  return text;
}

// INTERNAL "<call>: emulation failed (<status bits>)" unless the emulator
// says it completed the instruction; `call` names the emulation call.
absl::Status EmulationResult(const std::string& call,
                             WHV_EMULATOR_STATUS status) {
  if ((status & kEmulationSuccessful) != 0) return absl::OkStatus();
  return absl::InternalError(absl::StrFormat(
      "%s: emulation failed (%s)", call, EmulatorStatusText(status)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<WhpxVcpu>> WhpxVcpu::Create(
    std::shared_ptr<WhpxPartition> partition, uint32_t id) {
  const WhpxApi& api = partition->api();
  RETURN_IF_ERROR(partition->EnsureSetUp());
  RETURN_IF_ERROR(HResultStatus(
      absl::StrFormat("WHvCreateVirtualProcessor (vCPU %u)", id),
      api.WHvCreateVirtualProcessor(partition->handle(), id, 0)));
  WHV_EMULATOR_HANDLE emulator = nullptr;
  absl::Status status =
      HResultStatus(absl::StrFormat("WHvEmulatorCreateEmulator (vCPU %u)", id),
                    api.WHvEmulatorCreateEmulator(&kCallbacks, &emulator));
  if (!status.ok()) {
    api.WHvDeleteVirtualProcessor(partition->handle(), id);
    return status;
  }
  return std::unique_ptr<WhpxVcpu>(
      new WhpxVcpu(std::move(partition), id, emulator));
}

WhpxVcpu::~WhpxVcpu() {
  api_.WHvEmulatorDestroyEmulator(emulator_);
  api_.WHvDeleteVirtualProcessor(partition_->handle(), id_);
}

absl::Status WhpxVcpu::PrepareEntry() {
  if (msr_fault_pending_) {
    // RDMSR/WRMSR of an MSR neither WHPX nor the VMM (HandleMsr)
    // implements: #GP(0), as the architecture defines for a reserved MSR
    // (Intel SDM Vol. 2B, RDMSR).
    WHV_REGISTER_VALUE value = {};
    value.Reg64 = kPendingInterruptionPending |
                  (WHvX64PendingException << kPendingInterruptionTypeShift) |
                  (uint64_t{1} << kPendingInterruptionDeliverErrorCodeBit) |
                  (uint64_t{13} << kPendingInterruptionVectorShift);
    const WHV_REGISTER_NAME name = WHvRegisterPendingInterruption;
    RETURN_IF_ERROR(SetRegisters("#GP for an unhandled MSR access",
                                 {&name, 1}, {&value, 1}));
    msr_fault_pending_ = false;
  }
  if (window_register_stale_) {
    WHV_REGISTER_VALUE value = {};
    value.Reg64 = window_requested_ ? kDeliverabilityInterruptNotification : 0;
    const WHV_REGISTER_NAME name = WHvX64RegisterDeliverabilityNotifications;
    RETURN_IF_ERROR(
        SetRegisters("interrupt window request", {&name, 1}, {&value, 1}));
    window_register_stale_ = false;
  }
  return absl::OkStatus();
}

absl::StatusOr<VcpuExit> WhpxVcpu::Run() {
  SetPendingExit(VcpuExitKind::kUnknown);
  VcpuExit exit;
  for (;;) {
    RETURN_IF_ERROR(PrepareEntry());
    {
      std::lock_guard<std::mutex> lock(kick_mutex_);
      if (immediate_exit_) {
        immediate_exit_ = false;
        exit.kind = VcpuExitKind::kInterrupted;
        exit.raw_reason = WHvRunVpExitReasonCanceled;
        return exit;
      }
      running_ = true;
    }
    exit_ = {};
    const HRESULT hr = api_.WHvRunVirtualProcessor(
        partition_->handle(), id_, &exit_, sizeof(exit_));
    {
      std::lock_guard<std::mutex> lock(kick_mutex_);
      running_ = false;
      // A kick that cancelled this run is consumed by the exit it caused.
      if (Succeeded(hr) && exit_.ExitReason == WHvRunVpExitReasonCanceled) {
        immediate_exit_ = false;
      }
    }
    RETURN_IF_ERROR(HResultStatus(
        absl::StrFormat("WHvRunVirtualProcessor (vCPU %u)", id_), hr));
    ASSIGN_OR_RETURN(bool done, DecodeExit(exit));
    if (done) return exit;
  }
}

absl::StatusOr<bool> WhpxVcpu::DecodeExit(VcpuExit& exit) {
  exit = VcpuExit();
  exit.raw_reason = exit_.ExitReason;
  switch (exit_.ExitReason) {
    case WHvRunVpExitReasonX64IoPortAccess: {
      const auto& io = exit_.IoPortAccess;
      exit.kind = VcpuExitKind::kIo;
      exit.io.port = io.PortNumber;
      exit.io.size = static_cast<uint8_t>((io.AccessInfo & kIoAccessSizeMask) >>
                                          kIoAccessSizeShift);
      exit.io.is_write = (io.AccessInfo & kIoAccessIsWrite) != 0;
      const bool rep = (io.AccessInfo & kIoAccessStringOp) &&
                       (io.AccessInfo & kIoAccessRepPrefix);
      exit.io.count = rep ? static_cast<uint32_t>(io.Rcx) : 1;
      SetPendingExit(VcpuExitKind::kIo);
      return true;
    }
    case WHvRunVpExitReasonMemoryAccess: {
      // The exit names the address only; a probe pass of the emulator finds
      // the access's size (and a write's direction) without completing it.
      EmulationContext probe{this, EmulationContext::Mode::kProbe};
      ASSIGN_OR_RETURN(WHV_EMULATOR_STATUS status, EmulateMmio(probe));
      if (!probe.probed) {
        exit.kind = VcpuExitKind::kInternalError;
        exit.code = status;
        exit.data = exit_.MemoryAccess.Gpa;
        return true;
      }
      exit.kind = VcpuExitKind::kMmio;
      exit.mmio.address = probe.probe_address;
      exit.mmio.size = probe.probe_size;
      exit.mmio.is_write = probe.probe_is_write;
      SetPendingExit(VcpuExitKind::kMmio);
      return true;
    }
    case WHvRunVpExitReasonX64Halt:
      exit.kind = VcpuExitKind::kHlt;
      return true;
    case WHvRunVpExitReasonCanceled:
      exit.kind = VcpuExitKind::kInterrupted;
      return true;
    case WHvRunVpExitReasonX64InterruptWindow:
      exit.kind = VcpuExitKind::kIrqWindowOpen;
      // One notification per request, as KVM's request_interrupt_window.
      window_requested_ = false;
      window_register_stale_ = true;
      return true;
    case WHvRunVpExitReasonX64Cpuid:
      RETURN_IF_ERROR(CompleteCpuid());
      return false;
    case WHvRunVpExitReasonX64MsrAccess: {
      const auto& msr = exit_.MsrAccess;
      const bool is_write = (msr.AccessInfo & 1) != 0;
      exit.kind = is_write ? VcpuExitKind::kWrMsr : VcpuExitKind::kRdMsr;
      exit.code = msr.MsrNumber;
      if (is_write) exit.data = (msr.Rdx << 32) | (msr.Rax & 0xffffffffu);
      // #GP on the next entry unless HandleMsr answers it.
      msr_fault_pending_ = true;
      SetPendingExit(exit.kind);
      return true;
    }
    case WHvRunVpExitReasonException:
      exit.kind = VcpuExitKind::kException;
      exit.code = exit_.VpException.ExceptionType;
      exit.data = exit_.VpException.ErrorCode;
      return true;
    case WHvRunVpExitReasonUnrecoverableException:
      exit.kind = VcpuExitKind::kShutdown;  // a triple fault
      return true;
    case WHvRunVpExitReasonInvalidVpRegisterValue:
      exit.kind = VcpuExitKind::kFailEntry;
      exit.code = exit_.ExitReason;
      return true;
    case WHvRunVpExitReasonUnsupportedFeature:
      exit.kind = VcpuExitKind::kInternalError;
      exit.code = exit_.UnsupportedFeature.FeatureCode;
      exit.data = exit_.UnsupportedFeature.FeatureParameter;
      return true;
    case WHvRunVpExitReasonX64ApicEoi:
      exit.kind = VcpuExitKind::kIoapicEoi;
      exit.code = exit_.ApicEoiInterruptVector;
      return true;
    case WHvRunVpExitReasonHypercall:
      exit.kind = VcpuExitKind::kHypercall;
      exit.hypercall.nr = exit_.Hypercall.Rax;
      exit.hypercall.args[0] = exit_.Hypercall.Rbx;
      exit.hypercall.args[1] = exit_.Hypercall.Rcx;
      exit.hypercall.args[2] = exit_.Hypercall.Rdx;
      exit.hypercall.args[3] = exit_.Hypercall.Rsi;
      exit.hypercall.args[4] = exit_.Hypercall.Rdi;
      exit.hypercall.args[5] = exit_.Hypercall.R8;
      return true;
    default:
      exit.kind = VcpuExitKind::kUnknown;
      return true;
  }
}

absl::Status WhpxVcpu::CompleteCpuid() {
  const auto& cpuid = exit_.CpuidAccess;
  const uint32_t function = static_cast<uint32_t>(cpuid.Rax);
  const uint32_t index = static_cast<uint32_t>(cpuid.Rcx);
  uint64_t rax = cpuid.DefaultResultRax, rbx = cpuid.DefaultResultRbx,
           rcx = cpuid.DefaultResultRcx, rdx = cpuid.DefaultResultRdx;
  for (const CpuidEntry& entry : cpuid_) {
    if (entry.function == function &&
        (!entry.significant_index || entry.index == index)) {
      rax = entry.eax;
      rbx = entry.ebx;
      rcx = entry.ecx;
      rdx = entry.edx;
      break;
    }
  }
  const WHV_REGISTER_NAME names[] = {WHvX64RegisterRip, WHvX64RegisterRax,
                                     WHvX64RegisterRbx, WHvX64RegisterRcx,
                                     WHvX64RegisterRdx};
  WHV_REGISTER_VALUE values[5] = {};
  values[0].Reg64 = exit_.VpContext.Rip + InstructionLength(exit_.VpContext);
  values[1].Reg64 = rax;
  values[2].Reg64 = rbx;
  values[3].Reg64 = rcx;
  values[4].Reg64 = rdx;
  return SetRegisters("CPUID result", names, values);
}

absl::Status WhpxVcpu::HandleMsr(
    absl::FunctionRef<void(MsrRequest&)> handler) {
  ASSIGN_OR_RETURN(const bool write, TakePendingMsrExit());
  const auto& msr = exit_.MsrAccess;
  MsrRequest request;
  request.index = msr.MsrNumber;
  request.is_write = write;
  if (write) request.data = (msr.Rdx << 32) | (msr.Rax & 0xffffffffu);
  handler(request);
  if (request.fault) return absl::OkStatus();  // #GP at the next entry
  // The instruction completes: rdmsr's result in edx:eax (the upper halves
  // cleared, as in 64-bit mode), then rip past it.
  const WHV_REGISTER_NAME names[] = {WHvX64RegisterRip, WHvX64RegisterRax,
                                     WHvX64RegisterRdx};
  WHV_REGISTER_VALUE values[3] = {};
  values[0].Reg64 = exit_.VpContext.Rip + InstructionLength(exit_.VpContext);
  values[1].Reg64 = request.data & 0xffffffffu;
  values[2].Reg64 = request.data >> 32;
  const size_t count = write ? 1 : 3;
  RETURN_IF_ERROR(SetRegisters("MSR access result",
                               absl::MakeConstSpan(names, count),
                               absl::MakeConstSpan(values, count)));
  msr_fault_pending_ = false;
  return absl::OkStatus();
}

absl::StatusOr<WHV_EMULATOR_STATUS> WhpxVcpu::EmulateMmio(
    EmulationContext& context) {
  WHV_EMULATOR_STATUS status = 0;
  RETURN_IF_ERROR(HResultStatus(
      absl::StrFormat("WHvEmulatorTryMmioEmulation (vCPU %u, gpa %#x)", id_,
                      exit_.MemoryAccess.Gpa),
      api_.WHvEmulatorTryMmioEmulation(emulator_, &context, &exit_.VpContext,
                                       &exit_.MemoryAccess, &status)));
  return status;
}

absl::Status WhpxVcpu::CompleteIo(absl::FunctionRef<void(IoRequest&)> handler) {
  EmulationContext context{this, EmulationContext::Mode::kIo, &handler};
  const std::string call =
      absl::StrFormat("WHvEmulatorTryIoEmulation (vCPU %u, port %#x)", id_,
                      exit_.IoPortAccess.PortNumber);
  WHV_EMULATOR_STATUS status = 0;
  RETURN_IF_ERROR(HResultStatus(
      call, api_.WHvEmulatorTryIoEmulation(emulator_, &context,
                                           &exit_.VpContext,
                                           &exit_.IoPortAccess, &status)));
  return EmulationResult(call, status);
}

absl::Status WhpxVcpu::CompleteMmio(
    absl::FunctionRef<void(IoRequest&)> handler) {
  EmulationContext context{this, EmulationContext::Mode::kMmio, &handler};
  ASSIGN_OR_RETURN(WHV_EMULATOR_STATUS status, EmulateMmio(context));
  return EmulationResult(
      absl::StrFormat("WHvEmulatorTryMmioEmulation (vCPU %u, gpa %#x)", id_,
                      exit_.MemoryAccess.Gpa),
      status);
}

void WhpxVcpu::SetImmediateExit(bool exit) {
  std::lock_guard<std::mutex> lock(kick_mutex_);
  immediate_exit_ = exit;
}

absl::Status WhpxVcpu::Kick() {
  std::lock_guard<std::mutex> lock(kick_mutex_);
  // Set before cancelling, so a Run() that has not yet entered the guest
  // returns at once; inside WHvRunVirtualProcessor the cancel ends the run.
  immediate_exit_ = true;
  if (!running_) return absl::OkStatus();
  return HResultStatus(
      absl::StrFormat("WHvCancelRunVirtualProcessor (vCPU %u)", id_),
      api_.WHvCancelRunVirtualProcessor(partition_->handle(), id_, 0));
}

}  // namespace hv
