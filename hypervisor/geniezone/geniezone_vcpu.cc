#include "hypervisor/geniezone/geniezone_vcpu.h"

#include <sys/mman.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_format.h"
#include "hypervisor/geniezone/geniezone_abi.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/signals.h"
#include "hypervisor/os/status_macros.h"

namespace hv {
namespace {

SystemEventKind ToSystemEventKind(uint32_t type) {
  switch (type) {
    case geniezone_abi::kSystemEventShutdown:
      return SystemEventKind::kShutdown;
    case geniezone_abi::kSystemEventReset:
      return SystemEventKind::kReset;
    case geniezone_abi::kSystemEventCrash:
      return SystemEventKind::kCrash;
    case geniezone_abi::kSystemEventWakeup:
      return SystemEventKind::kWakeup;
    default:
      return SystemEventKind::kOther;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<GeniezoneVcpu>> GeniezoneVcpu::Create(
    std::shared_ptr<const GeniezoneDevice> device, int vm_fd, uint32_t id) {
  // Before anything that needs undoing: a kick must find a handler.
  RETURN_IF_ERROR(InstallKickSignalHandler());
  GeniezoneSys* sys = device->sys;
  GeniezoneFd fd(sys, sys->Ioctl(vm_fd, geniezone_abi::kCreateVcpu, id));
  if (!fd.valid()) {
    return ErrnoStatus(absl::StrFormat("GZVM_CREATE_VCPU (id %u)", id));
  }
  // One page, zero filled (so padding1 and the union start zeroed); the
  // struct needs 264 bytes.
  const uint64_t size = HostPageSize();
  void* run = sys->Mmap(nullptr, size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (run == MAP_FAILED) {
    return ErrnoStatus(absl::StrFormat("mmap gzvm_vcpu_run (vCPU %u)", id));
  }
  // SAFETY: `run` is a fresh, page-aligned, zero-filled read-write mapping
  // of at least sizeof(VcpuRun) bytes (static_assert'ed 264 < any page), so
  // it holds a valid VcpuRun (a trivially copyable struct) for the vCPU's
  // life; only this vCPU and the driver, during GZVM_RUN, access it.
  static_assert(sizeof(geniezone_abi::VcpuRun) <= 4096);
  auto* run_struct = static_cast<geniezone_abi::VcpuRun*>(run);
  return std::unique_ptr<GeniezoneVcpu>(new GeniezoneVcpu(
      std::move(device), std::move(fd), id, run_struct, size));
}

GeniezoneVcpu::~GeniezoneVcpu() { sys_->Munmap(run_, run_size_); }

absl::StatusOr<VcpuExit> GeniezoneVcpu::Run() {
  SetPendingExit(VcpuExitKind::kUnknown);
  // A kick or SetImmediateExit(true) since the last kInterrupted is written
  // into the run struct here: the driver's copy-in sees it and returns EINTR
  // before entering the guest.
  return RunCall(
      [&] { return sys_->IoctlPtr(fd_.get(), geniezone_abi::kRun, run_); },
      [] { return std::string("GZVM_RUN"); });
}

void GeniezoneVcpu::DecodeExit(VcpuExit& exit) const {
  // SAFETY: GZVM_RUN returned 0, so the driver has copied the whole struct
  // out and will not touch it again until the next GZVM_RUN from this (the
  // only Run()) thread; each union member read below is the one
  // exit_reason selects, as the uapi documents. Kick() may store the
  // immediate_exit byte meanwhile; no field read here overlaps it.
  const geniezone_abi::VcpuRun& run = *run_;
  exit.raw_reason = run.exit_reason;
  switch (run.exit_reason) {
    case geniezone_abi::kExitMmio:
      exit.kind = VcpuExitKind::kMmio;
      exit.mmio.address = run.mmio.phys_addr;
      exit.mmio.size = static_cast<uint8_t>(run.mmio.size > 0xff ? 0xff : run.mmio.size);
      exit.mmio.is_write = run.mmio.is_write != 0;
      break;
    case geniezone_abi::kExitHypercall:
      // args[0] is x0, the SMCCC function id; x1-x6 are its arguments.
      exit.kind = VcpuExitKind::kHypercall;
      exit.hypercall.nr = run.hypercall.args[0];
      for (int i = 0; i < 6; ++i) exit.hypercall.args[i] = run.hypercall.args[i + 1];
      break;
    case geniezone_abi::kExitSystemEvent:
      exit.kind = VcpuExitKind::kSystemEvent;
      exit.system_event.kind = ToSystemEventKind(run.system_event.type);
      exit.system_event.flags =
          run.system_event.ndata > 0 ? run.system_event.data[0] : 0;
      exit.code = run.system_event.type;
      break;
    case geniezone_abi::kExitShutdown:
      exit.kind = VcpuExitKind::kShutdown;
      break;
    case geniezone_abi::kExitException:
      // code: the exception kind (GZVM_EXCEPTION_*); data: the faulting
      // guest-physical address.
      exit.kind = VcpuExitKind::kException;
      exit.code = run.exception.exception;
      exit.data = run.exception.fault_gpa;
      break;
    case geniezone_abi::kExitDebug:
      exit.kind = VcpuExitKind::kDebug;
      break;
    case geniezone_abi::kExitFailEntry:
      exit.kind = VcpuExitKind::kFailEntry;
      exit.code = run.fail_entry.hardware_entry_failure_reason;
      exit.data = run.fail_entry.cpu;
      break;
    case geniezone_abi::kExitInternalError:
      exit.kind = VcpuExitKind::kInternalError;
      exit.code = run.internal.suberror;
      break;
    case geniezone_abi::kExitIdle:
      // A guest WFI, where a driver hands it to user space (the v13 driver
      // waits in the kernel instead).
      exit.kind = VcpuExitKind::kHlt;
      break;
    default:
      // kExitUnknown, and kExitIrq / kExitGz / kExitIpi, which the driver
      // handles itself and should never return.
      exit.kind = VcpuExitKind::kUnknown;
      break;
  }
}

absl::Status GeniezoneVcpu::CompleteMmio(
    absl::FunctionRef<void(IoRequest&)> handler) {
  // SAFETY: the last GZVM_RUN ended with GZVM_EXIT_MMIO, so run_->mmio is
  // the live union member; its data is an 8-byte array inside the struct
  // and size is checked against it before any byte is touched. A read's
  // answer stays there for the driver's copy-in at the next GZVM_RUN.
  geniezone_abi::VcpuRunMmio& mmio = run_->mmio;
  if (mmio.size == 0 || mmio.size > sizeof(mmio.data)) {
    return absl::InternalError(absl::StrFormat(
        "HandleMmio: gzvm_vcpu_run mmio size %u is not 1..8", mmio.size));
  }
  RunIoHandler(handler, mmio.phys_addr, mmio.is_write != 0, mmio.data,
               mmio.size);
  return absl::OkStatus();
}

}  // namespace hv
