// Vcpu: one virtual CPU of a Vm.
//
// A Vcpu is used by one thread at a time (the thread that calls Run());
// Kick() is the one method any thread may call at any time.
//
// Example (a run loop):
//   for (;;) {
//     ASSIGN_OR_RETURN(hv::VcpuExit exit, vcpu->Run());
//     if (exit.kind == hv::VcpuExitKind::kIo) {
//       RETURN_IF_ERROR(vcpu->HandleIo([&](hv::IoRequest& io) {
//         if (io.is_write && io.address == 0x3f8) putchar(io.data[0]);
//       }));
//     } else if (exit.kind == hv::VcpuExitKind::kHlt) {
//       break;
//     }
//   }
#ifndef HV_HYPERVISOR_VCPU_H_
#define HV_HYPERVISOR_VCPU_H_

#include <cstdint>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/vcpu_exit.h"

namespace hv {

class VcpuX86_64;
class VcpuAArch64;

// MpState: a vCPU's multiprocessing state, as the hypervisor keeps it
// (KVM's api.rst, KVM_GET_MP_STATE). x86: the local APIC's INIT/SIPI
// protocol (Intel SDM Vol. 3, Section 9.4) and HLT; aarch64: PSCI power
// state (stopped until CPU_ON; suspended in CPU_SUSPEND / WFI-like waits).
enum class MpState {
  kRunnable,       // runs when Run() is called
  kUninitialized,  // x86: an AP waiting for INIT
  kInitReceived,   // x86: INIT received, waiting for SIPI
  kHalted,         // x86: in HLT, waiting for an interrupt
  kSipiReceived,   // x86: SIPI received
  kStopped,        // aarch64: powered off (PSCI CPU_OFF, or created so)
  kSuspended,      // aarch64: suspended until a wake-up event
};
const char* MpStateName(MpState state);

class Vcpu {
 public:
  virtual ~Vcpu() = default;

  // Vcpu::id(): the index given to Vm::CreateVcpu.
  virtual uint32_t id() const = 0;

  // Vcpu::Run(): runs the guest until it exits to user space. Returns
  // kInterrupted when the immediate-exit flag was set or Kick() interrupted
  // the run (the flag is then cleared). A hypervisor failure is an error
  // Status naming the call ("KVM_RUN: Bad address").
  virtual absl::StatusOr<VcpuExit> Run() = 0;

  // Vcpu::HandleIo(): after a kIo exit, calls `handler` once per access (a
  // string instruction makes `count` accesses) and hands read results back
  // to the guest. FAILED_PRECONDITION when the last exit was not kIo.
  virtual absl::Status HandleIo(absl::FunctionRef<void(IoRequest&)> handler) = 0;

  // Vcpu::HandleMmio(): the same after a kMmio exit.
  virtual absl::Status HandleMmio(
      absl::FunctionRef<void(IoRequest&)> handler) = 0;

  // Vcpu::SetImmediateExit(): when set, the next Run() returns kInterrupted
  // without entering the guest. Only from the thread that calls Run().
  virtual void SetImmediateExit(bool exit) = 0;

  // Vcpu::Kick(): thread safe. Makes the current Run() (or, if none is in
  // progress, the next one) return kInterrupted promptly.
  virtual absl::Status Kick() = 0;

  // Vcpu::GetMpState() / SetMpState(): the multiprocessing state, for
  // saving and restoring a vCPU (HypervisorCap::kMpState; UNIMPLEMENTED
  // without it). SetMpState refuses a state of the other architecture
  // (INVALID_ARGUMENT), and one the hypervisor does not accept in the
  // vCPU's configuration (KVM x86: anything but kRunnable without the
  // in-kernel irqchip) with its error; the vCPU is then unchanged.
  virtual absl::StatusOr<MpState> GetMpState();
  virtual absl::Status SetMpState(MpState state);

  // Vcpu::SetGuestDebug(): debugging of the guest by the VMM: with
  // `enable`, Run() returns kDebug after each instruction (`single_step`)
  // and when the guest reaches one of `hw_breakpoints` (instruction
  // addresses; x86: at most 4, DR0-DR3; arm64: as many breakpoint
  // register pairs as the CPU has, word-aligned). `enable` false turns it
  // all off. The kDebug exit says why (VcpuExit::debug); read the
  // instruction pointer to see where.
  // HypervisorCap::kGuestDebug; UNIMPLEMENTED without it. INVALID_ARGUMENT,
  // with the vCPU unchanged, for more breakpoints than the architecture
  // has or an address it cannot hold.
  struct GuestDebug {
    bool enable = false;
    bool single_step = false;
    std::vector<uint64_t> hw_breakpoints;
  };
  virtual absl::Status SetGuestDebug(const GuestDebug& debug);

  // Per-architecture views; nullptr when the vCPU is not of that kind.
  virtual VcpuX86_64* AsX86_64() { return nullptr; }
  virtual VcpuAArch64* AsAArch64() { return nullptr; }
};

}  // namespace hv

#endif  // HV_HYPERVISOR_VCPU_H_
