#include "hypervisor/haxm/haxm_vcpu.h"

#include <cstddef>
#include <utility>

#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"

namespace hv {

using haxm_abi::DeviceLevel;
using haxm_abi::hax_tunnel;

absl::StatusOr<std::unique_ptr<HaxmVcpu>> HaxmVcpu::Create(
    std::shared_ptr<const HaxmDevice> device, HaxmHandle vm_handle,
    uint32_t vm_id, uint32_t id, std::shared_ptr<HaxmVcpuIds> ids) {
  HaxmSys* sys = device->sys;
  const haxm_abi::Platform& platform = sys->platform();
  // Before anything that needs undoing: a kick must be deliverable.
  RETURN_IF_ERROR(sys->PrepareKick());
  uint32_t vcpu_id = id;
  RETURN_IF_ERROR(HaxmIoctl(sys, vm_handle, DeviceLevel::kVm,
                            platform.codes.vm_vcpu_create, &vcpu_id,
                            sizeof(vcpu_id), 0,
                            absl::StrFormat("vCPU %u", id)));
  // HAXM now holds the vCPU; closing its device destroys it. If the device
  // cannot be opened HAXM keeps it until the VM closes.
  const std::string path = haxm_abi::VcpuDevicePath(platform, vm_id, id);
  HaxmHandle handle = kInvalidHaxmHandle;
  if (const int error = sys->Open(path, &handle); error != 0) {
    {
      std::lock_guard<std::mutex> lock(ids->mutex);
      ids->orphaned.insert(id);
    }
    return sys->ErrorStatus(
        absl::StrFormat("open %s (HAXM keeps vCPU %u until the VM closes)",
                        path, id),
        error);
  }
  HaxmHandleOwner owner(sys, handle);
  haxm_abi::hax_tunnel_info info = {};
  RETURN_IF_ERROR(HaxmIoctl(sys, handle, DeviceLevel::kVcpu,
                            platform.codes.vcpu_setup_tunnel, &info, 0,
                            sizeof(info), absl::StrFormat("vCPU %u", id)));
  HaxmTunnel tunnel;
  if (const int error = sys->MapTunnel(handle, info, &tunnel); error != 0) {
    return sys->ErrorStatus(
        absl::StrFormat("map the tunnel of vCPU %u (va %#x, io_va %#x, size "
                        "%u)",
                        id, info.va, info.io_va, info.size),
        error);
  }
  if (tunnel.tunnel_size < sizeof(hax_tunnel) ||
      tunnel.io_buffer_size < sizeof(haxm_abi::hax_fastmmio)) {
    sys->UnmapTunnel(handle, tunnel);
    return absl::InternalError(absl::StrFormat(
        "vCPU %u: HAXM's tunnel (%u bytes) or I/O buffer (%u bytes) is too "
        "small",
        id, tunnel.tunnel_size, tunnel.io_buffer_size));
  }
  return std::unique_ptr<HaxmVcpu>(new HaxmVcpu(
      std::move(device), std::move(owner), id, tunnel, std::move(ids)));
}

HaxmVcpu::~HaxmVcpu() {
  sys_->UnmapTunnel(handle_.get(), tunnel_);
  handle_ = HaxmHandleOwner();  // HAXM destroys the vCPU here
  std::lock_guard<std::mutex> lock(ids_->mutex);
  ids_->live.erase(id_);
}

absl::Status HaxmVcpu::Ioctl(uint32_t code, void* buffer, uint32_t in_size,
                             uint32_t out_size, absl::string_view detail) {
  return HaxmIoctl(sys_, handle_.get(), DeviceLevel::kVcpu, code, buffer,
                   in_size, out_size,
                   detail.empty() ? absl::StrFormat("vCPU %u", id_)
                                  : absl::StrFormat("vCPU %u, %s", id_, detail));
}

uint32_t* HaxmVcpu::TunnelWord(size_t offset) const {
  // SAFETY: the tunnel is a page HAXM mapped for this vCPU and keeps mapped
  // until the handle closes (in the destructor); Create() checked it holds a
  // whole hax_tunnel. The page is page aligned and every field passed here
  // is a 32-bit field at a multiple of 4, so the word is aligned for
  // __atomic access even though the struct is declared packed.
  return reinterpret_cast<uint32_t*>(
      reinterpret_cast<uint8_t*>(tunnel_.tunnel) + offset);
}

absl::StatusOr<VcpuExit> HaxmVcpu::Run() {
  SetPendingExit(VcpuExitKind::kUnknown);
  uint32_t* exit_reason = TunnelWord(offsetof(hax_tunnel, exit_reason));
  uint32_t* user_event = TunnelWord(offsetof(hax_tunnel, user_event_pending));
  const uint64_t self = sys_->CurrentThread();
  for (;;) {
    // A pending kick makes HAXM return HAX_EXIT_PAUSED without entering the
    // guest (after completing the last I/O or MMIO access).
    __atomic_store_n(exit_reason,
                     kick_.load() ? haxm_abi::kExitPaused : uint32_t{0},
                     __ATOMIC_SEQ_CST);
    {
      std::lock_guard<std::mutex> lock(run_mutex_);
      running_ = true;
      run_thread_ = self;
    }
    const int error = sys_->Ioctl(handle_.get(), sys_->platform().codes.vcpu_run,
                                  nullptr, 0, 0);
    {
      std::lock_guard<std::mutex> lock(run_mutex_);
      running_ = false;
    }
    if (error != 0) {
      return sys_->ErrorStatus(
          absl::StrFormat("HAX_VCPU_IOCTL_RUN (vCPU %u)", id_), error);
    }
    // SAFETY: RUN returned, so HAXM has finished writing the exit fields of
    // the tunnel and will not touch them before the next RUN, which only
    // this thread issues. exit_status selects the union member read below.
    const uint32_t status = tunnel_.tunnel->exit_status;
    VcpuExit exit;
    exit.raw_reason = status;
    const bool kicked =
        (status == haxm_abi::kExitPaused || status == haxm_abi::kExitInterrupt) &&
        kick_.exchange(false);
    if (kicked || status == haxm_abi::kExitPaused) {
      // Consumed: clear what Kick() set, so the next Run() enters the guest.
      __atomic_fetch_and(user_event, ~uint32_t{1}, __ATOMIC_SEQ_CST);
      __atomic_store_n(exit_reason, 0, __ATOMIC_SEQ_CST);
      exit.kind = VcpuExitKind::kInterrupted;
      return exit;
    }
    ASSIGN_OR_RETURN(bool done, DecodeExit(status, exit));
    if (done) return exit;
  }
}

absl::StatusOr<bool> HaxmVcpu::DecodeExit(uint32_t status, VcpuExit& exit) {
  const hax_tunnel& tunnel = *tunnel_.tunnel;
  switch (status) {
    case haxm_abi::kExitIo: {
      exit.kind = VcpuExitKind::kIo;
      exit.io.port = tunnel.io.port;
      exit.io.size = static_cast<uint8_t>(tunnel.io.size);
      exit.io.is_write = tunnel.io.direction == haxm_abi::kIoOut;
      exit.io.count = tunnel.io.count;
      SetPendingExit(VcpuExitKind::kIo);
      return true;
    }
    case haxm_abi::kExitFastMmio: {
      // SAFETY: for HAX_EXIT_FAST_MMIO HAXM writes a hax_fastmmio at the
      // start of the I/O buffer, which it mapped for this vCPU (page
      // aligned, at least IOS_MAX_BUFFER bytes; Create() checked the size).
      const auto* mmio =
          reinterpret_cast<const haxm_abi::hax_fastmmio*>(tunnel_.io_buffer);
      if (mmio->direction != haxm_abi::kMmioRead &&
          mmio->direction != haxm_abi::kMmioWrite) {
        return absl::InternalError(absl::StrFormat(
            "HAX_VCPU_IOCTL_RUN (vCPU %u): fast MMIO direction %u (an "
            "MMIO-to-MMIO move) was not negotiated",
            id_, mmio->direction));
      }
      if (mmio->size == 0 || mmio->size > sizeof(uint64_t)) {
        return absl::InternalError(absl::StrFormat(
            "HAX_VCPU_IOCTL_RUN (vCPU %u): fast MMIO size %u is not 1..8", id_,
            mmio->size));
      }
      exit.kind = VcpuExitKind::kMmio;
      exit.mmio.address = mmio->gpa;
      exit.mmio.size = mmio->size;
      exit.mmio.is_write = mmio->direction == haxm_abi::kMmioWrite;
      SetPendingExit(VcpuExitKind::kMmio);
      return true;
    }
    case haxm_abi::kExitHlt:
      exit.kind = VcpuExitKind::kHlt;
      return true;
    case haxm_abi::kExitStateChange:
      // The vCPU panicked (a triple fault, or an instruction HAXM could not
      // emulate); it cannot run again.
      exit.kind = VcpuExitKind::kShutdown;
      return true;
    case haxm_abi::kExitInterrupt:
      if (tunnel.request_interrupt_window != 0 &&
          __atomic_load_n(
              TunnelWord(offsetof(hax_tunnel, ready_for_interrupt_injection)),
              __ATOMIC_SEQ_CST) != 0) {
        exit.kind = VcpuExitKind::kIrqWindowOpen;
        return true;
      }
      return false;  // a host interrupt; enter the guest again
    case haxm_abi::kExitRealMode:
      // Real mode without unrestricted guest: HAXM wants the VMM to emulate.
      exit.kind = VcpuExitKind::kFailEntry;
      exit.code = status;
      return true;
    case haxm_abi::kExitUnknown:
      // HAXM's report of a failed VM entry or an exit it does not handle.
      exit.kind = VcpuExitKind::kFailEntry;
      exit.code = tunnel.exit_reason;
      return true;
    case haxm_abi::kExitMmio:
      // The pre-fast-MMIO protocol: user space would decode the instruction.
      exit.kind = VcpuExitKind::kInternalError;
      exit.code = status;
      exit.data = tunnel.mmio.gla;
      return true;
    case haxm_abi::kExitPageFault:
      exit.kind = VcpuExitKind::kException;
      exit.code = tunnel.pagefault.flags;
      exit.data = tunnel.pagefault.gpa;
      return true;
    case haxm_abi::kExitDebug:
      exit.kind = VcpuExitKind::kDebug;
      exit.code = tunnel.debug.dr6;
      exit.data = tunnel.debug.rip;
      return true;
    default:
      exit.kind = VcpuExitKind::kUnknown;
      exit.code = tunnel.exit_reason;
      return true;
  }
}

absl::Status HaxmVcpu::CompleteIo(absl::FunctionRef<void(IoRequest&)> handler) {
  // SAFETY: the last RUN ended with HAX_EXIT_IO, so tunnel.io is the live
  // union member; its data (count accesses of size bytes) is at the start
  // of the I/O buffer, which is checked here to hold it before any byte is
  // touched.
  const auto& io = tunnel_.tunnel->io;
  const uint64_t size = io.size;
  const uint64_t count = io.count;
  const bool is_string = (io.flags & haxm_abi::kIoFlagString) != 0;
  if ((size != 1 && size != 2 && size != 4) || count == 0 ||
      (!is_string && count != 1) || size * count > tunnel_.io_buffer_size) {
    return absl::InternalError(absl::StrFormat(
        "HandleIo (vCPU %u): HAXM's I/O exit (%u x %u bytes, flags %#x) does "
        "not fit its %u-byte I/O buffer",
        id_, count, size, io.flags, tunnel_.io_buffer_size));
  }
  const bool is_write = io.direction == haxm_abi::kIoOut;
  for (uint64_t i = 0; i < count; ++i) {
    // With EFLAGS.DF set the guest accessed the highest element first; the
    // buffer is in address order either way.
    const uint64_t element = io.df ? count - 1 - i : i;
    uint8_t* access = tunnel_.io_buffer + element * size;
    RunIoHandler(handler, io.port, is_write, {access, size}, size);
  }
  return absl::OkStatus();
}

absl::Status HaxmVcpu::CompleteMmio(
    absl::FunctionRef<void(IoRequest&)> handler) {
  // SAFETY: the last RUN ended with HAX_EXIT_FAST_MMIO and DecodeExit()
  // checked the hax_fastmmio at the start of the I/O buffer (size 1..8);
  // its 8-byte value field is where HAXM reads a read's result on the next
  // RUN. Only bytes are accessed, so the packed layout is no concern.
  auto* mmio = reinterpret_cast<haxm_abi::hax_fastmmio*>(tunnel_.io_buffer);
  uint8_t* value = tunnel_.io_buffer + offsetof(haxm_abi::hax_fastmmio, value);
  RunIoHandler(handler, mmio->gpa, mmio->direction == haxm_abi::kMmioWrite,
               {value, sizeof(uint64_t)}, mmio->size);
  return absl::OkStatus();
}

void HaxmVcpu::SetImmediateExit(bool exit) { kick_.store(exit); }

absl::Status HaxmVcpu::Kick() {
  kick_.store(true);
  // Makes HAXM leave at the guest's next resumable VM exit.
  __atomic_fetch_or(TunnelWord(offsetof(hax_tunnel, user_event_pending)),
                    uint32_t{1}, __ATOMIC_SEQ_CST);
  std::lock_guard<std::mutex> lock(run_mutex_);
  if (!running_) return absl::OkStatus();
  // run_thread_ is inside Run() and cannot leave it before we unlock.
  if (const int error = sys_->SignalThread(run_thread_); error != 0) {
    return sys_->ErrorStatus(
        absl::StrFormat("kick vCPU %u (interrupt its thread)", id_), error);
  }
  return absl::OkStatus();
}

}  // namespace hv
