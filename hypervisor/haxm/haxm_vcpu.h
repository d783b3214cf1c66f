// HaxmVcpu: hv::VcpuX86_64 over a HAXM vCPU device (\\.\hax_vmNN_vcpuMM,
// /dev/hax_vmNN/vcpuMM) and its tunnel.
//
// Run() is HAX_VCPU_IOCTL_RUN; the exit is decoded from the tunnel page and
// the I/O buffer HAXM shares with the process: port I/O (string I/O
// included: `count` accesses in the buffer), fast MMIO (a hax_fastmmio in
// the buffer), HLT, the vCPU's panic (HAX_EXIT_STATECHANGE -> kShutdown).
// HAX_EXIT_INTERRUPT with no kick pending is a host interrupt (or a signal)
// that took the CPU out of the guest: Run() enters the guest again, unless
// an interrupt window was requested and is open (kIrqWindowOpen).
//
// Kicks. HAXM has no cancel ioctl. It offers two tunnel fields:
// _exit_reason = HAX_EXIT_PAUSED, which it reads only when RUN starts (and
// overwrites with VMX exit reasons while running), and bit 0 of
// user_event_pending, which it tests at the next VM exit that would resume
// the guest. Kick() sets a flag of its own, sets user_event_pending, and
// interrupts the thread inside RUN (HaxmSys::SignalThread) so the CPU takes
// a VM exit; Run() writes HAX_EXIT_PAUSED before every entry while the flag
// is set. So a kick before Run() makes the next Run() return kInterrupted
// without entering the guest; a kick during Run() ends it at the guest's
// next VM exit -- at once when the interruption IPIs the CPU, at the latest
// at the next host timer tick (every external interrupt exits to HAXM,
// which returns HAX_EXIT_INTERRUPT). An I/O or MMIO exit that races with a
// kick is returned first; the next Run() completes it (HAXM finishes the
// instruction before it looks at HAX_EXIT_PAUSED) and returns kInterrupted.
// This is why HypervisorCap::kImmediateExit is false.
//
// Register state is HAX_VCPU_GET_REGS / HAX_VCPU_SET_REGS (vcpu_state_t)
// plus the EFER and APIC base MSRs (HAXM's SET_REGS ignores efer), FPU state
// HAX_VCPU_IOCTL_GET/SET_FPU (fx_layout), MSRs HAX_VCPU_IOCTL_GET/SET_MSRS
// in batches of 31, interrupts HAX_VCPU_IOCTL_INTERRUPT.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::VcpuX86_64> vcpu, vm->CreateVcpuX86_64(0));
//   ASSIGN_OR_RETURN(hv::VcpuExit exit, vcpu->Run());
#ifndef HV_HYPERVISOR_HAXM_HAXM_VCPU_H_
#define HV_HYPERVISOR_HAXM_HAXM_VCPU_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/backend_overrides.h"
#include "hypervisor/backend_vcpu.h"
#include "hypervisor/haxm/haxm_abi.h"
#include "hypervisor/haxm/haxm_device.h"
#include "hypervisor/haxm/haxm_sys.h"
#include "hypervisor/haxm/haxm_vm.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"

namespace hv {

class HaxmVcpu final : public BackendVcpu<VcpuX86_64> {
 public:
  // HaxmVcpu::Create(): HAX_VM_IOCTL_VCPU_CREATE `id` on `vm_handle`, opens
  // the vCPU device, HAX_VCPU_IOCTL_SETUP_TUNNEL and takes the tunnel.
  // `ids` is the VM's id bookkeeping (the id is already reserved in it).
  static absl::StatusOr<std::unique_ptr<HaxmVcpu>> Create(
      std::shared_ptr<const HaxmDevice> device, HaxmHandle vm_handle,
      uint32_t vm_id, uint32_t id, std::shared_ptr<HaxmVcpuIds> ids);

  // Releases the tunnel and closes the device (HAXM destroys the vCPU), then
  // frees the id in the VM.
  ~HaxmVcpu() override;

  // Vcpu.
  absl::StatusOr<VcpuExit> Run() override;
  void SetImmediateExit(bool exit) override;
  absl::Status Kick() override;

  // VcpuX86_64 (haxm_vcpu_x86_64.cc).
  HV_VCPU_X86_64_STATE_OVERRIDES

 private:
  HaxmVcpu(std::shared_ptr<const HaxmDevice> device, HaxmHandleOwner handle,
           uint32_t id, HaxmTunnel tunnel, std::shared_ptr<HaxmVcpuIds> ids)
      : BackendVcpu(id),
        sys_(device->sys),
        device_(std::move(device)),
        handle_(std::move(handle)),
        tunnel_(tunnel),
        ids_(std::move(ids)) {}

  // The pending I/O or MMIO exit, through the tunnel's I/O buffer.
  absl::Status CompleteIo(absl::FunctionRef<void(IoRequest&)> handler) override;
  absl::Status CompleteMmio(
      absl::FunctionRef<void(IoRequest&)> handler) override;

  // One ioctl on this vCPU; errors name it (and `detail`).
  absl::Status Ioctl(uint32_t code, void* buffer, uint32_t in_size,
                     uint32_t out_size, absl::string_view detail = "");
  // Fills `exit` from the tunnel after RUN returned with `status`; false
  // when Run() should enter the guest again (a host interrupt).
  absl::StatusOr<bool> DecodeExit(uint32_t status, VcpuExit& exit);
  absl::StatusOr<haxm_abi::vcpu_state_t> GetState();
  absl::Status SetState(haxm_abi::vcpu_state_t& state);
  // HAX_VCPU_IOCTL_GET_MSRS / SET_MSRS on up to 31 entries.
  absl::Status MsrBatch(bool set, std::vector<haxm_abi::vmx_msr>& entries);

  // Tunnel fields that other threads (Kick) or the driver touch while RUN is
  // in progress, for __atomic access (haxm_vcpu.cc says why the casts hold).
  uint32_t* TunnelWord(size_t offset) const;

  HaxmSys* const sys_;
  const std::shared_ptr<const HaxmDevice> device_;
  HaxmHandleOwner handle_;
  // The tunnel page and I/O buffer HAXM mapped for this vCPU.
  const HaxmTunnel tunnel_;
  const std::shared_ptr<HaxmVcpuIds> ids_;

  // Set by Kick() / SetImmediateExit(true); consumed by Run().
  std::atomic<bool> kick_{false};
  // The thread inside Run(), for Kick(); std::mutex so TSan sees it.
  std::mutex run_mutex_;
  bool running_ ABSL_GUARDED_BY(run_mutex_) = false;
  uint64_t run_thread_ ABSL_GUARDED_BY(run_mutex_) = 0;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_HAXM_HAXM_VCPU_H_
