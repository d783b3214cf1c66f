// KvmVcpu: hv::VcpuX86_64 over a KVM vCPU file descriptor and its mapped
// kvm_run page.
//
// Run() is one KVM_RUN ioctl: the exit is decoded from the shared kvm_run
// page, never with extra ioctls. HandleIo()/HandleMmio() copy data between
// kvm_run and the caller's handler. Kick() may be called from any thread:
// it sets kvm_run->immediate_exit atomically and signals the thread inside
// Run() (hv::KickSignal()), so KVM_RUN returns EINTR -> kInterrupted.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::KvmVcpu> vcpu,
//                    hv::KvmVcpu::Create(device, vm_fd, 0));
//   ASSIGN_OR_RETURN(hv::VcpuExit exit, vcpu->Run());
#ifndef HV_HYPERVISOR_KVM_KVM_VCPU_H_
#define HV_HYPERVISOR_KVM_KVM_VCPU_H_

#include <pthread.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <mutex>
#include "hypervisor/kvm/kvm_device.h"
#include "hypervisor/kvm/kvm_fd.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"

struct kvm_run;

namespace hv {

class KvmVcpu final : public VcpuX86_64 {
 public:
  // KvmVcpu::Create(): KVM_CREATE_VCPU `id` on `vm_fd` and the mapping of
  // its kvm_run page; installs the kick signal handler (once per process).
  static absl::StatusOr<std::unique_ptr<KvmVcpu>> Create(
      std::shared_ptr<const KvmDevice> device, int vm_fd, uint32_t id);

  KvmVcpu(const KvmVcpu&) = delete;
  KvmVcpu& operator=(const KvmVcpu&) = delete;
  ~KvmVcpu() override;

  // Vcpu (kvm_vcpu.cc).
  uint32_t id() const override { return id_; }
  absl::StatusOr<VcpuExit> Run() override;
  absl::Status HandleIo(absl::FunctionRef<void(IoRequest&)> handler) override;
  absl::Status HandleMmio(absl::FunctionRef<void(IoRequest&)> handler) override;
  void SetImmediateExit(bool exit) override;
  absl::Status Kick() override;

  // VcpuX86_64 (kvm_vcpu_x86_64.cc).
  absl::StatusOr<Regs> GetRegs() override;
  absl::Status SetRegs(const Regs& regs) override;
  absl::StatusOr<Sregs> GetSregs() override;
  absl::Status SetSregs(const Sregs& sregs) override;
  absl::StatusOr<Fpu> GetFpu() override;
  absl::Status SetFpu(const Fpu& fpu) override;
  absl::StatusOr<DebugRegs> GetDebugRegs() override;
  absl::Status SetDebugRegs(const DebugRegs& regs) override;
  absl::StatusOr<std::vector<Xcr>> GetXcrs() override;
  absl::Status SetXcrs(absl::Span<const Xcr> xcrs) override;
  absl::StatusOr<std::vector<MsrEntry>> GetMsrs(
      absl::Span<const uint32_t> indices) override;
  absl::Status SetMsrs(absl::Span<const MsrEntry> msrs) override;
  absl::Status SetCpuid(absl::Span<const CpuidEntry> entries) override;
  absl::StatusOr<LapicState> GetLapic() override;
  absl::Status SetLapic(const LapicState& state) override;
  absl::Status InjectInterrupt(uint8_t vector) override;
  absl::Status InjectNmi() override;
  bool ReadyForInterrupt() const override;
  void SetInterruptWindowRequested(bool requested) override;
  absl::Status SetTscOffset(uint64_t offset) override;
  absl::StatusOr<uint32_t> GetTscKhz() override;

 private:
  KvmVcpu(std::shared_ptr<const KvmDevice> device, KvmFd fd, uint32_t id,
          kvm_run* run, uint64_t run_size)
      : sys_(device->sys),
        device_(std::move(device)),
        fd_(std::move(fd)),
        id_(id),
        run_(run),
        run_size_(run_size) {}

  // Fills `exit` from kvm_run after a successful KVM_RUN.
  void DecodeExit(VcpuExit& exit) const;

  // KVM_GET_XSAVE (or KVM_GET_XSAVE2): the vCPU's XSAVE image.
  absl::StatusOr<std::vector<uint8_t>> GetXsave();

  KvmSys* const sys_;
  const std::shared_ptr<const KvmDevice> device_;
  const KvmFd fd_;
  const uint32_t id_;
  // The kernel-shared kvm_run page (run_size_ bytes, MAP_SHARED).
  kvm_run* const run_;
  const uint64_t run_size_;

  // The kind of the last exit that still waits for HandleIo/HandleMmio
  // (kUnknown when none). Only the Run() thread touches it.
  VcpuExitKind pending_ = VcpuExitKind::kUnknown;

  // The thread inside Run(), for Kick(). std::mutex (not absl::Mutex) so
  // TSan, which does not see inside the uninstrumented Debian Abseil,
  // sees the ordering. Run() holds kick_mutex_ only to
  // publish and clear it, so Kick() never signals a thread that has left
  // Run() (and may have exited).
  std::mutex kick_mutex_;
  bool running_ ABSL_GUARDED_BY(kick_mutex_) = false;
  pthread_t run_thread_ ABSL_GUARDED_BY(kick_mutex_) = {};
};

}  // namespace hv

#endif  // HV_HYPERVISOR_KVM_KVM_VCPU_H_
