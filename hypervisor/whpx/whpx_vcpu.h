// WhpxVcpu: hv::VcpuX86_64 over a WHPX virtual processor and its instance
// of the WHPX instruction emulator.
//
// Run() is WHvRunVirtualProcessor into an exit context the vCPU owns. CPUID
// exits are answered inside Run() from SetCpuid's table (WHPX's own result
// otherwise) and the guest re-entered. I/O and MMIO exits are completed by
// HandleIo()/HandleMmio() through WHvEmulatorTryIoEmulation /
// TryMmioEmulation, whose callbacks hand each access to the caller's
// handler and read and write registers and guest RAM. An MMIO exit's size
// and written data come from a first emulator pass in Run() whose memory
// callback records the access and declines it (nothing is written back),
// since WHPX's exit context has only the address. Kick() sets the
// immediate-exit flag and, when the vCPU is inside Run(), calls
// WHvCancelRunVirtualProcessor.
//
// Example:
//   ASSIGN_OR_RETURN(auto vcpu, vm->CreateVcpuX86_64(0));
//   ASSIGN_OR_RETURN(hv::VcpuExit exit, vcpu->Run());
#ifndef HV_HYPERVISOR_WHPX_WHPX_VCPU_H_
#define HV_HYPERVISOR_WHPX_WHPX_VCPU_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hypervisor/backend_overrides.h"
#include "hypervisor/backend_vcpu.h"
#include "hypervisor/whpx/whpx_abi.h"
#include "hypervisor/whpx/whpx_partition.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"

namespace hv {

class WhpxVcpu final : public BackendVcpu<VcpuX86_64> {
 public:
  // WhpxVcpu::Create(): WHvCreateVirtualProcessor `id` and an emulator; on
  // failure nothing is left behind.
  static absl::StatusOr<std::unique_ptr<WhpxVcpu>> Create(
      std::shared_ptr<WhpxPartition> partition, uint32_t id);

  ~WhpxVcpu() override;

  // Vcpu (whpx_vcpu.cc).
  absl::StatusOr<VcpuExit> Run() override;
  void SetImmediateExit(bool exit) override;
  absl::Status Kick() override;

  // VcpuX86_64 (whpx_vcpu_x86_64.cc). GetLapic / SetLapic: the first 1 KiB
  // of WHPX's xAPIC register page
  // (WHv{Get,Set}VirtualProcessorInterruptControllerState2), once
  // CreateIrqChip(kSplit) turned on the local APIC emulation; SetLapic keeps
  // the page's reserved rest.
  HV_VCPU_X86_64_STATE_OVERRIDES
  // WHv{Get,Set}VirtualProcessorXsaveState, converted between WHPX's
  // compacted format and the standard one (whpx_xsave.h). SetXsave reads
  // the vCPU's image first: its XCOMP_BV is the set of components the
  // compacted image it loads holds.
  absl::StatusOr<std::vector<uint8_t>> GetXsave() override;
  absl::Status SetXsave(absl::Span<const uint8_t> image) override;
  size_t XsaveSize() const override;
  // Answers an MSR WHPX does not implement (its MSR exit): a read's value
  // into rax:rdx and rip past the instruction, or the #GP it would get.
  absl::Status HandleMsr(absl::FunctionRef<void(MsrRequest&)> handler) override;

  // WhpxVcpu::GetRegisters() / SetRegisters(): one batched
  // WHv{Get,Set}VirtualProcessorRegisters call; errors name `what`.
  absl::Status GetRegisters(const char* what,
                            absl::Span<const whpx_abi::WHV_REGISTER_NAME> names,
                            absl::Span<whpx_abi::WHV_REGISTER_VALUE> values) const;
  absl::Status SetRegisters(
      const char* what, absl::Span<const whpx_abi::WHV_REGISTER_NAME> names,
      absl::Span<const whpx_abi::WHV_REGISTER_VALUE> values);

  const WhpxPartition& partition() const { return *partition_; }

  // What the emulator callbacks need (whpx_vcpu.cc); public only so the
  // static callbacks can reach it.
  struct EmulationContext;

 private:
  WhpxVcpu(std::shared_ptr<WhpxPartition> partition, uint32_t id,
           whpx_abi::WHV_EMULATOR_HANDLE emulator)
      : BackendVcpu(id),
        partition_(std::move(partition)),
        api_(partition_->api()),
        emulator_(emulator) {}

  // The pending I/O or MMIO exit, through WHvEmulatorTryIoEmulation /
  // TryMmioEmulation.
  absl::Status CompleteIo(absl::FunctionRef<void(IoRequest&)> handler) override;
  absl::Status CompleteMmio(
      absl::FunctionRef<void(IoRequest&)> handler) override;

  // Fills `exit` from exit_; false when the exit was handled inside Run()
  // (CPUID) and the guest is to be re-entered.
  absl::StatusOr<bool> DecodeExit(VcpuExit& exit);
  // Answers a CPUID exit from cpuid_ and moves rip past the instruction.
  absl::Status CompleteCpuid();
  // Runs the emulator on the pending MMIO exit with `context`.
  absl::StatusOr<whpx_abi::WHV_EMULATOR_STATUS> EmulateMmio(
      EmulationContext& context);
  // The vCPU's compacted XSAVE image: WHvGetVirtualProcessorXsaveState
  // asked for its size, then into a buffer of that size.
  absl::StatusOr<std::vector<uint8_t>> ReadCompactedXsave(const char* what);
  // The local APIC's register page
  // (WHvGetVirtualProcessorInterruptControllerState2); UNIMPLEMENTED
  // without the calls or WHPX's LocalApicEmulation feature,
  // FAILED_PRECONDITION when the partition does not emulate local APICs.
  // `what` names the operation in errors.
  absl::StatusOr<std::vector<uint8_t>> ReadLapicPage(const char* what);
  // Applied before entering the guest: a #GP for an MSR exit that
  // HandleMsr did not answer, the interrupt-window request.
  absl::Status PrepareEntry();

  const std::shared_ptr<WhpxPartition> partition_;
  const WhpxApi& api_;
  const whpx_abi::WHV_EMULATOR_HANDLE emulator_;

  // Only the Run() thread touches these.
  whpx_abi::WHV_RUN_VP_EXIT_CONTEXT exit_ = {};
  bool msr_fault_pending_ = false;
  bool window_requested_ = false;
  bool window_register_stale_ = false;
  std::vector<CpuidEntry> cpuid_;

  // Kick() from any thread against Run(). std::mutex (not absl::Mutex) so
  // TSan sees the ordering.
  std::mutex kick_mutex_;
  bool immediate_exit_ ABSL_GUARDED_BY(kick_mutex_) = false;
  bool running_ ABSL_GUARDED_BY(kick_mutex_) = false;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_WHPX_WHPX_VCPU_H_
