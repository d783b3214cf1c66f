// VcpuExit: why Vcpu::Run() returned, in backend-neutral terms.
//
// Run() returns an exit; for kIo and kMmio the caller then answers it with
// Vcpu::HandleIo / Vcpu::HandleMmio, so the data copy stays in the backend.
//
// Example:
//   ASSIGN_OR_RETURN(hv::VcpuExit exit, vcpu->Run());
//   switch (exit.kind) {
//     case hv::VcpuExitKind::kIo:
//       RETURN_IF_ERROR(vcpu->HandleIo([&](hv::IoRequest& io) { ... }));
//       break;
//     case hv::VcpuExitKind::kHlt: return absl::OkStatus();
//     ...
//   }
#ifndef HV_HYPERVISOR_VCPU_EXIT_H_
#define HV_HYPERVISOR_VCPU_EXIT_H_

#include <cstdint>
#include <string>

#include "absl/types/span.h"

namespace hv {

enum class VcpuExitKind {
  kUnknown,         // an exit reason hv does not know; see `raw_reason`
  kIo,              // port I/O (x86); see `io`
  kMmio,            // access to guest-physical memory with no RAM; see `mmio`
  kHlt,             // the guest halted with no in-kernel irqchip
  kShutdown,        // x86 triple fault / shutdown
  kSystemEvent,     // reset, shutdown or crash request; see `system_event`
  kHypercall,       // a hypercall the backend hands to user space
  kIoapicEoi,       // split irqchip: EOI for a level-triggered vector
  kDebug,           // a debug exception (single step, breakpoint)
  kException,       // a guest exception the hypervisor reports
  kIrqWindowOpen,   // the guest can take an interrupt now
  kInterrupted,     // Run() returned early: immediate exit or a kick
  kFailEntry,       // the hypervisor could not enter the guest
  kInternalError,   // the hypervisor failed (e.g. emulation failure)
  kRdMsr,           // x86 MSR read handed to user space
  kWrMsr,           // x86 MSR write handed to user space
  kTprAccess,
  kBusLock,
};

const char* VcpuExitKindName(VcpuExitKind kind);

enum class SystemEventKind { kShutdown, kReset, kCrash, kWakeup, kOther };

struct VcpuExit {
  VcpuExitKind kind = VcpuExitKind::kUnknown;
  // The backend's own exit reason (e.g. KVM_EXIT_*), for logs and kUnknown.
  uint32_t raw_reason = 0;

  // kIo: `count` accesses of `size` bytes at `port`.
  struct Io {
    uint16_t port = 0;
    uint8_t size = 0;
    bool is_write = false;
    uint32_t count = 0;
  } io;

  // kMmio: one access of `size` bytes at `address`.
  struct Mmio {
    uint64_t address = 0;
    uint8_t size = 0;
    bool is_write = false;
  } mmio;

  // kSystemEvent.
  struct SystemEvent {
    SystemEventKind kind = SystemEventKind::kOther;
    uint64_t flags = 0;
  } system_event;

  // kHypercall: number and arguments (backend specific).
  struct Hypercall {
    uint64_t nr = 0;
    uint64_t args[6] = {};
  } hypercall;

  // kDebug: what stopped the guest. x86: `address` is the rip the guest
  // stopped at, `exception` the vector (1 = #DB: single step or hardware
  // breakpoint, 3 = #BP), `dr6` says which breakpoint or that it was a
  // step (Intel SDM Vol. 3, Section 18.2.3), `dr7` the enables in effect.
  // arm64: `syndrome` is ESR_EL2 (its EC names the debug event) and
  // `address` the faulting address of a watchpoint.
  struct Debug {
    uint64_t address = 0;
    uint32_t exception = 0;
    uint64_t dr6 = 0;
    uint64_t dr7 = 0;
    uint64_t syndrome = 0;
  } debug;

  // kIoapicEoi: the vector; kRdMsr/kWrMsr: index and (for writes) data;
  // kFailEntry / kInternalError: hardware reason / suberror.
  uint64_t code = 0;
  uint64_t data = 0;
};

// IoRequest: one access the guest made, handed to the caller's handler by
// Vcpu::HandleIo / HandleMmio. For a write `data` holds the bytes written;
// for a read the handler fills `data` (it starts zeroed).
struct IoRequest {
  uint64_t address = 0;
  bool is_write = false;
  absl::Span<uint8_t> data;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_VCPU_EXIT_H_
