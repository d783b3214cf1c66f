#include "hypervisor/gunyah/gunyah_vcpu.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hypervisor/gunyah/gunyah_vm_core.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/signals.h"
#include "hypervisor/os/status_macros.h"

namespace hv {

namespace abi = gunyah_abi;

namespace {

// GH_VM_ADD_FUNCTION (`request`) or GH_VM_REMOVE_FUNCTION of vCPU `id`'s
// GH_FN_VCPU function; returns the ioctl's result.
int VcpuFunction(GunyahVmCore& vm, unsigned long request, uint32_t id) {
  abi::FnVcpuArg arg = {};
  arg.id = id;
  abi::FnDesc desc = {};
  desc.type = abi::kFnVcpu;
  desc.arg_size = sizeof(arg);
  desc.arg = reinterpret_cast<uintptr_t>(&arg);
  return vm.sys()->IoctlPtr(vm.fd(), request, &desc);
}

// GH_VM_REMOVE_FUNCTION for vCPU `id`: the kernel matches vCPU functions by
// id, and frees the id for a later GH_FN_VCPU.
absl::Status RemoveVcpuFunction(GunyahVmCore& vm, uint32_t id) {
  if (VcpuFunction(vm, abi::kVmRemoveFunction, id) < 0) {
    return ErrnoStatus(absl::StrFormat("GH_VM_REMOVE_FUNCTION (vCPU %u)", id));
  }
  return absl::OkStatus();
}

// `error` with a failed rollback appended, so neither is lost.
absl::Status WithRollback(absl::Status error, const absl::Status& rollback) {
  if (rollback.ok()) return error;
  return absl::Status(error.code(),
                      absl::StrCat(error.message(), "; undoing it failed: ",
                                   rollback.message()));
}

SystemEventKind ExitTypeToEvent(uint16_t type) {
  switch (type) {
    case abi::kExitTypeVmExit:
    case abi::kExitTypePsciPowerOff:
    case abi::kExitTypeVmForceStopped:
      return SystemEventKind::kShutdown;
    case abi::kExitTypePsciSystemReset:
    case abi::kExitTypePsciSystemReset2:
      return SystemEventKind::kReset;
    case abi::kExitTypeWatchdogBite:
    case abi::kExitTypeHypervisorError:
    case abi::kExitTypeAsyncExternalAbort:
      return SystemEventKind::kCrash;
    default:
      return SystemEventKind::kOther;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<GunyahVcpu>> GunyahVcpu::Create(
    std::shared_ptr<GunyahVmCore> vm, uint32_t id) {
  // Before anything that needs undoing: a kick must find a handler.
  RETURN_IF_ERROR(InstallKickSignalHandler());
  GunyahSys* sys = vm->sys();
  GunyahFd fd(sys, VcpuFunction(*vm, abi::kVmAddFunction, id));
  if (!fd.valid()) {
    return ErrnoStatus(
        absl::StrFormat("GH_VM_ADD_FUNCTION (GH_FN_VCPU, vCPU %u)", id));
  }
  const int size = sys->Ioctl(fd.get(), abi::kVcpuMmapSize, 0);
  if (size < 0) {
    absl::Status error =
        ErrnoStatus(absl::StrFormat("GH_VCPU_MMAP_SIZE (vCPU %u)", id));
    return WithRollback(error, RemoveVcpuFunction(*vm, id));
  }
  if (static_cast<size_t>(size) < sizeof(abi::VcpuRun)) {
    absl::Status error = absl::InternalError(absl::StrFormat(
        "GH_VCPU_MMAP_SIZE (vCPU %u): %d bytes cannot hold struct "
        "gh_vcpu_run (%u bytes)",
        id, size, sizeof(abi::VcpuRun)));
    return WithRollback(error, RemoveVcpuFunction(*vm, id));
  }
  void* mapping = sys->Mmap(nullptr, static_cast<size_t>(size),
                            PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (mapping == MAP_FAILED) {
    absl::Status error =
        ErrnoStatus(absl::StrFormat("mmap gh_vcpu_run (vCPU %u)", id));
    return WithRollback(error, RemoveVcpuFunction(*vm, id));
  }
  // SAFETY: the vCPU fd's mapping at offset 0 is the kernel's struct
  // gh_vcpu_run (its page; `size` was checked to hold the struct above),
  // and mmap returns page-aligned memory, aligned for the struct.
  auto* run = static_cast<abi::VcpuRun*>(mapping);
  return std::unique_ptr<GunyahVcpu>(
      new GunyahVcpu(std::move(vm), std::move(fd), id, run, size));
}

GunyahVcpu::GunyahVcpu(std::shared_ptr<GunyahVmCore> vm, GunyahFd fd,
                       uint32_t id, abi::VcpuRun* run, uint64_t run_size)
    : KickedVcpu(id, &run->immediate_exit),
      vm_(std::move(vm)),
      fd_(std::move(fd)),
      run_(run),
      run_size_(run_size) {}

// The vCPU function stays bound to the VM (as with KVM, an id is used once
// per VM); the kernel drops it with the VM.
GunyahVcpu::~GunyahVcpu() { vm_->sys()->Munmap(run_, run_size_); }

absl::StatusOr<VcpuExit> GunyahVcpu::Run() {
  SetPendingExit(VcpuExitKind::kUnknown);
  if (!initialized_) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "GH_VCPU_RUN: vCPU %u must be Init()ed before it runs", id_));
  }
  VcpuExit exit;
  if (!vm_->started()) {
    // An immediate exit asked for before the VM ever ran returns without
    // starting it: nothing would enter the guest anyway.
    if (kicker_.TakeImmediateExit()) {
      exit.kind = VcpuExitKind::kInterrupted;
      return exit;
    }
    RETURN_IF_ERROR(vm_->EnsureStarted());
  }
  // The kernel never clears immediate_exit; hv's contract does
  // (RunKicker::Run takes the request when the run is interrupted).
  return RunCall(
      [&] { return vm_->sys()->Ioctl(fd_.get(), abi::kVcpuRun, 0); },
      [&] { return absl::StrFormat("GH_VCPU_RUN (vCPU %u)", id_); });
}

void GunyahVcpu::DecodeExit(VcpuExit& exit) const {
  // SAFETY: GH_VCPU_RUN returned 0, so the kernel has finished writing the
  // exit fields of the run struct and will not touch them before this (the
  // only Run()) thread calls GH_VCPU_RUN again; each union member read
  // below is the one exit_reason selects, as gunyah.h documents.
  const abi::VcpuRun& run = *run_;
  exit.raw_reason = run.exit_reason;
  switch (run.exit_reason) {
    case abi::kVcpuExitMmio:
      if (run.mmio.len == 0 || run.mmio.len > sizeof(run.mmio.data)) {
        exit.kind = VcpuExitKind::kInternalError;
        exit.code = run.mmio.len;
        exit.data = run.mmio.phys_addr;
        return;
      }
      exit.kind = VcpuExitKind::kMmio;
      exit.mmio.address = run.mmio.phys_addr;
      exit.mmio.size = static_cast<uint8_t>(run.mmio.len);
      exit.mmio.is_write = run.mmio.is_write != 0;
      return;
    case abi::kVcpuExitStatus: {
      exit.code = run.status.status;
      const abi::VmExitInfo& info = run.status.exit_info;
      switch (run.status.status) {
        case abi::kVmStatusLoadFailed:
          exit.kind = VcpuExitKind::kFailEntry;
          return;
        case abi::kVmStatusCrashed:
          exit.kind = VcpuExitKind::kSystemEvent;
          exit.system_event.kind = SystemEventKind::kCrash;
          return;
        case abi::kVmStatusExited: {
          exit.kind = VcpuExitKind::kSystemEvent;
          exit.system_event.kind = ExitTypeToEvent(info.type);
          exit.data = info.type;
          // The reason bytes (little-endian, as the resource manager sends
          // them) become the event's flags.
          const uint32_t bytes =
              std::min<uint32_t>(info.reason_size, sizeof(info.reason));
          uint64_t reason = 0;
          for (uint32_t i = 0; i < bytes; ++i) {
            reason |= static_cast<uint64_t>(info.reason[i]) << (8 * i);
          }
          exit.system_event.flags = reason;
          return;
        }
        default:
          exit.kind = VcpuExitKind::kUnknown;
          return;
      }
    }
    default:
      exit.kind = VcpuExitKind::kUnknown;
      return;
  }
}

absl::Status GunyahVcpu::CompleteMmio(
    absl::FunctionRef<void(IoRequest&)> handler) {
  // SAFETY: the last GH_VCPU_RUN ended with GH_VCPU_EXIT_MMIO, so
  // run_->mmio is the live union member; DecodeExit checked len against
  // its 8-byte data array. For a read the kernel takes data[0..len) on the
  // next GH_VCPU_RUN.
  auto& mmio = run_->mmio;
  RunIoHandler(handler, mmio.phys_addr, mmio.is_write != 0,
               {mmio.data, mmio.len}, mmio.len);
  return absl::OkStatus();
}

}  // namespace hv
