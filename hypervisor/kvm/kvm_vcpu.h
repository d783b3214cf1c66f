// KvmVcpuCore<ArchVcpu>: what the KVM vCPU of every architecture shares: a
// KVM vCPU file descriptor and its mapped kvm_run page. The final classes
// are KvmVcpuX86_64 (kvm_vcpu_x86_64.h) and KvmVcpuAArch64
// (kvm_vcpu_aarch64.h); BUILD.bazel select()s the one for the target.
//
// Run() is one KVM_RUN ioctl: the exit is decoded from the shared kvm_run
// page, never with extra ioctls. HandleIo()/HandleMmio() copy data between
// kvm_run and the caller's handler. Kick() may be called from any thread:
// it sets kvm_run->immediate_exit atomically and signals the thread inside
// Run() (hv::KickSignal()), so KVM_RUN returns EINTR -> kInterrupted.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, hv::CreateKvmVm(device));
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::Vcpu> vcpu, vm->CreateVcpu(0));
//   ASSIGN_OR_RETURN(hv::VcpuExit exit, vcpu->Run());
#ifndef HV_HYPERVISOR_KVM_KVM_VCPU_H_
#define HV_HYPERVISOR_KVM_KVM_VCPU_H_

#include <cstdint>
#include <memory>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/kvm/kvm_device.h"
#include "hypervisor/kicked_vcpu.h"
#include "hypervisor/kvm/kvm_fd.h"
#include "hypervisor/vcpu_exit.h"

struct kvm_run;

namespace hv {

// KvmVcpuFd: a vCPU file descriptor and its mapped kvm_run page
// (`run_size` bytes, MAP_SHARED), which KvmVcpuCore unmaps.
struct KvmVcpuFd {
  KvmFd fd;
  kvm_run* run = nullptr;
  uint64_t run_size = 0;
};

// OpenKvmVcpu(): KVM_CREATE_VCPU `id` on `vm_fd` and the mapping of its
// kvm_run page; installs the kick signal handler (once per process).
absl::StatusOr<KvmVcpuFd> OpenKvmVcpu(const KvmDevice& device, int vm_fd,
                                      uint32_t id);

template <typename ArchVcpu>
class KvmVcpuCore : public KickedVcpu<ArchVcpu> {
 public:
  ~KvmVcpuCore() override;

  absl::StatusOr<VcpuExit> Run() final;

 protected:
  KvmVcpuCore(std::shared_ptr<const KvmDevice> device, KvmVcpuFd vcpu,
              uint32_t id);

  // KvmVcpuCore::CheckRunnable(): the architecture's check before KVM_RUN
  // (aarch64: Init() happened).
  virtual absl::Status CheckRunnable() const { return absl::OkStatus(); }
  // KvmVcpuCore::DecodeDebugExit(): KVM_EXIT_DEBUG's payload, which each
  // architecture lays out its own way.
  virtual void DecodeDebugExit(const kvm_run& run, VcpuExit& exit) const = 0;

  KvmSys* const sys_;
  const std::shared_ptr<const KvmDevice> device_;
  const KvmFd fd_;
  // The kernel-shared kvm_run page (run_size_ bytes, MAP_SHARED).
  kvm_run* const run_;
  const uint64_t run_size_;

 private:
  // Fills `exit` from kvm_run after a successful KVM_RUN.
  void DecodeExit(VcpuExit& exit) const final;
  absl::Status CompleteIo(absl::FunctionRef<void(IoRequest&)> handler) final;
  absl::Status CompleteMmio(absl::FunctionRef<void(IoRequest&)> handler) final;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_KVM_KVM_VCPU_H_
