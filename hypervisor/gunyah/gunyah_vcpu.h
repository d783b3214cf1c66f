// GunyahVcpu: hv::VcpuAArch64 over a Gunyah vCPU fd (a GH_FN_VCPU function
// of its VM) and its mapped struct gh_vcpu_run.
//
// Run() starts the VM first if it has not started (GH_VM_START; see
// gunyah_vm_core.h), then is one GH_VCPU_RUN; the exit is decoded from the
// shared run struct: MMIO accesses -> kMmio (HandleMmio() answers reads),
// VM status exits -> kSystemEvent shutdown / reset / crash, a VM that
// failed to load -> kFailEntry. Kick() may be called from any thread: it
// sets immediate_exit and signals the thread inside Run() (hv::KickSignal()),
// so GH_VCPU_RUN returns EINTR -> kInterrupted.
//
// Gunyah keeps a VM's registers from the host: only the boot vCPU's x0-x30
// and pc can be set, before the VM starts (GH_VM_SET_BOOT_CONTEXT); every
// other register operation is UNIMPLEMENTED, saying why.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::VcpuAArch64> vcpu, vm->CreateVcpuAArch64(0));
//   RETURN_IF_ERROR(vcpu->Init({hv::VcpuFeature::kPsci0_2}));
//   ASSIGN_OR_RETURN(hv::VcpuExit exit, vcpu->Run());
#ifndef HV_HYPERVISOR_GUNYAH_GUNYAH_VCPU_H_
#define HV_HYPERVISOR_GUNYAH_GUNYAH_VCPU_H_

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/aarch64/vcpu_aarch64.h"
#include "hypervisor/backend_overrides.h"
#include "hypervisor/gunyah/gunyah_abi.h"
#include "hypervisor/gunyah/gunyah_fd.h"
#include "hypervisor/kicked_vcpu.h"

namespace hv {

class GunyahVmCore;

class GunyahVcpu final : public KickedVcpu<VcpuAArch64> {
 public:
  // GunyahVcpu::Create(): GH_VM_ADD_FUNCTION(GH_FN_VCPU, id), then
  // GH_VCPU_MMAP_SIZE and the mapping of the run struct. On failure after
  // the function was added it is removed again, so the id stays free.
  static absl::StatusOr<std::unique_ptr<GunyahVcpu>> Create(
      std::shared_ptr<GunyahVmCore> vm, uint32_t id);

  ~GunyahVcpu() override;

  // Vcpu (gunyah_vcpu.cc).
  absl::StatusOr<VcpuExit> Run() override;

  // VcpuAArch64 (gunyah_vcpu_aarch64.cc).
  HV_VCPU_AARCH64_STATE_OVERRIDES
  bool HasPvtime() const override { return false; }

 private:
  GunyahVcpu(std::shared_ptr<GunyahVmCore> vm, GunyahFd fd, uint32_t id,
             gunyah_abi::VcpuRun* run, uint64_t run_size);

  // Fills `exit` from the run struct after GH_VCPU_RUN returned 0.
  void DecodeExit(VcpuExit& exit) const override;
  absl::Status CompleteMmio(
      absl::FunctionRef<void(IoRequest&)> handler) override;

  const std::shared_ptr<GunyahVmCore> vm_;
  const GunyahFd fd_;
  // The kernel-shared run struct (run_size_ bytes, MAP_SHARED).
  gunyah_abi::VcpuRun* const run_;
  const uint64_t run_size_;

  // Whether Init() ran. Only the Run() thread touches it.
  bool initialized_ = false;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_GUNYAH_GUNYAH_VCPU_H_
