#include "hypervisor/kvm/kvm_vcpu.h"

#include <signal.h>
#include <sys/mman.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_format.h"
#include "hypervisor/aarch64/vcpu_aarch64.h"
#include "hypervisor/kvm/kvm_abi.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/signals.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"

namespace hv {
namespace {

SystemEventKind ToSystemEventKind(uint32_t type) {
  switch (type) {
    case KVM_SYSTEM_EVENT_SHUTDOWN:
      return SystemEventKind::kShutdown;
    case KVM_SYSTEM_EVENT_RESET:
      return SystemEventKind::kReset;
    case KVM_SYSTEM_EVENT_CRASH:
      return SystemEventKind::kCrash;
    case KVM_SYSTEM_EVENT_WAKEUP:
      return SystemEventKind::kWakeup;
    default:
      return SystemEventKind::kOther;
  }
}

}  // namespace

absl::StatusOr<KvmVcpuFd> OpenKvmVcpu(const KvmDevice& device, int vm_fd,
                                      uint32_t id) {
  // Before anything that needs undoing: a kick must find a handler.
  RETURN_IF_ERROR(InstallKickSignalHandler());
  KvmSys* sys = device.sys;
  KvmFd fd(sys, sys->Ioctl(vm_fd, KVM_CREATE_VCPU, id));
  if (!fd.valid()) {
    return ErrnoStatus(absl::StrFormat("KVM_CREATE_VCPU (id %u)", id));
  }
  const uint64_t size = device.vcpu_mmap_size;
  void* run = sys->Mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED,
                        fd.get(), 0);
  if (run == MAP_FAILED) {
    return ErrnoStatus(absl::StrFormat("mmap kvm_run (vCPU %u)", id));
  }
  // SAFETY: the vCPU fd's mapping at offset 0 is the kernel's struct
  // kvm_run followed by its data area; KvmDevice checked that `size` is at
  // least sizeof(kvm_run), and mmap returns page-aligned memory.
  return KvmVcpuFd{std::move(fd), static_cast<kvm_run*>(run), size};
}

template <typename ArchVcpu>
KvmVcpuCore<ArchVcpu>::KvmVcpuCore(std::shared_ptr<const KvmDevice> device,
                                   KvmVcpuFd vcpu, uint32_t id)
    : KickedVcpu<ArchVcpu>(id, &vcpu.run->immediate_exit),
      sys_(device->sys),
      device_(std::move(device)),
      fd_(std::move(vcpu.fd)),
      run_(vcpu.run),
      run_size_(vcpu.run_size) {}

template <typename ArchVcpu>
KvmVcpuCore<ArchVcpu>::~KvmVcpuCore() {
  sys_->Munmap(run_, run_size_);
}

template <typename ArchVcpu>
absl::StatusOr<VcpuExit> KvmVcpuCore<ArchVcpu>::Run() {
  RETURN_IF_ERROR(CheckRunnable());
  this->SetPendingExit(VcpuExitKind::kUnknown);
  return this->RunCall([&] { return sys_->Ioctl(fd_.get(), KVM_RUN, 0); },
                       [] { return std::string("KVM_RUN"); }, KVM_EXIT_INTR);
}

template <typename ArchVcpu>
void KvmVcpuCore<ArchVcpu>::DecodeExit(VcpuExit& exit) const {
  // SAFETY: KVM_RUN returned, so the kernel has finished writing the exit
  // fields of kvm_run and will not touch them until the next KVM_RUN from
  // this (the only Run()) thread; each union member read below is the one
  // exit_reason selects, as api.rst documents.
  const kvm_run& run = *run_;
  exit.raw_reason = run.exit_reason;
  switch (run.exit_reason) {
    case KVM_EXIT_IO:
      exit.kind = VcpuExitKind::kIo;
      exit.io.port = run.io.port;
      exit.io.size = run.io.size;
      exit.io.is_write = run.io.direction == KVM_EXIT_IO_OUT;
      exit.io.count = run.io.count;
      break;
    case KVM_EXIT_MMIO:
      exit.kind = VcpuExitKind::kMmio;
      exit.mmio.address = run.mmio.phys_addr;
      exit.mmio.size = static_cast<uint8_t>(run.mmio.len);
      exit.mmio.is_write = run.mmio.is_write != 0;
      break;
    case KVM_EXIT_HLT:
      exit.kind = VcpuExitKind::kHlt;
      break;
    case KVM_EXIT_SHUTDOWN:
      exit.kind = VcpuExitKind::kShutdown;
      break;
    case KVM_EXIT_SYSTEM_EVENT:
      exit.kind = VcpuExitKind::kSystemEvent;
      exit.system_event.kind = ToSystemEventKind(run.system_event.type);
      exit.system_event.flags = run.system_event.flags;
      exit.code = run.system_event.type;
      break;
    case KVM_EXIT_HYPERCALL:
      exit.kind = VcpuExitKind::kHypercall;
      exit.hypercall.nr = run.hypercall.nr;
      for (int i = 0; i < 6; ++i) exit.hypercall.args[i] = run.hypercall.args[i];
      break;
    case KVM_EXIT_IOAPIC_EOI:
      exit.kind = VcpuExitKind::kIoapicEoi;
      exit.code = run.eoi.vector;
      break;
    case KVM_EXIT_DEBUG:
      exit.kind = VcpuExitKind::kDebug;
      DecodeDebugExit(run, exit);
      break;
    case KVM_EXIT_EXCEPTION:
      exit.kind = VcpuExitKind::kException;
      exit.code = run.ex.exception;
      exit.data = run.ex.error_code;
      break;
    case KVM_EXIT_IRQ_WINDOW_OPEN:
      exit.kind = VcpuExitKind::kIrqWindowOpen;
      break;
    case KVM_EXIT_INTR:
      exit.kind = VcpuExitKind::kInterrupted;
      break;
    case KVM_EXIT_FAIL_ENTRY:
      exit.kind = VcpuExitKind::kFailEntry;
      exit.code = run.fail_entry.hardware_entry_failure_reason;
      exit.data = run.fail_entry.cpu;
      break;
    case KVM_EXIT_INTERNAL_ERROR:
      exit.kind = VcpuExitKind::kInternalError;
      exit.code = run.internal.suberror;
      break;
    case KVM_EXIT_X86_RDMSR:
      exit.kind = VcpuExitKind::kRdMsr;
      exit.code = run.msr.index;
      break;
    case KVM_EXIT_X86_WRMSR:
      exit.kind = VcpuExitKind::kWrMsr;
      exit.code = run.msr.index;
      exit.data = run.msr.data;
      break;
    case KVM_EXIT_TPR_ACCESS:
      exit.kind = VcpuExitKind::kTprAccess;
      exit.code = run.tpr_access.is_write;
      exit.data = run.tpr_access.rip;
      break;
    case KVM_EXIT_X86_BUS_LOCK:
      exit.kind = VcpuExitKind::kBusLock;
      break;
    case KVM_EXIT_ARM_NISV:
      // arm64: a data abort outside every memslot whose syndrome KVM could
      // not decode (e.g. a load/store pair to MMIO); user space would have
      // to decode the instruction itself.
      exit.kind = VcpuExitKind::kUnknown;
      exit.code = run.arm_nisv.esr_iss;
      exit.data = run.arm_nisv.fault_ipa;
      break;
    default:
      exit.kind = VcpuExitKind::kUnknown;
      exit.code = run.hw.hardware_exit_reason;
      break;
  }
}

template <typename ArchVcpu>
absl::Status KvmVcpuCore<ArchVcpu>::CompleteIo(
    absl::FunctionRef<void(IoRequest&)> handler) {
  // SAFETY: the last KVM_RUN ended with KVM_EXIT_IO, so run_->io is the
  // live union member; its data area (count accesses of size bytes at
  // data_offset) lies inside the run_size_-byte mapping, which is checked
  // here before any byte is touched.
  const auto& io = run_->io;
  const uint64_t bytes = static_cast<uint64_t>(io.size) * io.count;
  if (io.size == 0 || io.size > 8 || io.data_offset > run_size_ ||
      bytes > run_size_ - io.data_offset) {
    return absl::InternalError(absl::StrFormat(
        "HandleIo: kvm_run io data (offset %#x, %u x %u bytes) lies outside "
        "the %#x-byte run page",
        io.data_offset, io.count, io.size, run_size_));
  }
  uint8_t* data = reinterpret_cast<uint8_t*>(run_) + io.data_offset;
  const bool is_write = io.direction == KVM_EXIT_IO_OUT;
  for (uint32_t i = 0; i < io.count; ++i) {
    uint8_t* access = data + static_cast<uint64_t>(i) * io.size;
    RunIoHandler(handler, io.port, is_write, {access, io.size}, io.size);
  }
  return absl::OkStatus();
}

template <typename ArchVcpu>
absl::Status KvmVcpuCore<ArchVcpu>::CompleteMmio(
    absl::FunctionRef<void(IoRequest&)> handler) {
  // SAFETY: the last KVM_RUN ended with KVM_EXIT_MMIO, so run_->mmio is the
  // live union member; its data is an 8-byte array inside kvm_run and len
  // is checked against it.
  auto& mmio = run_->mmio;
  if (mmio.len == 0 || mmio.len > sizeof(mmio.data)) {
    return absl::InternalError(absl::StrFormat(
        "HandleMmio: kvm_run mmio length %u is not 1..8", mmio.len));
  }
  RunIoHandler(handler, mmio.phys_addr, mmio.is_write != 0,
               {mmio.data, mmio.len}, mmio.len);
  return absl::OkStatus();
}

// Both architectures' cores, whichever the target is: the code is the same
// and BUILD.bazel select()s the final class that uses one.
template class KvmVcpuCore<VcpuX86_64>;
template class KvmVcpuCore<VcpuAArch64>;

}  // namespace hv
