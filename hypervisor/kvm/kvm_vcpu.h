// KvmVcpu: hv::VcpuX86_64 (x86_64 builds) or hv::VcpuAArch64 (aarch64
// builds) over a KVM vCPU file descriptor and its mapped kvm_run page.
//
// Run() is one KVM_RUN ioctl: the exit is decoded from the shared kvm_run
// page, never with extra ioctls. HandleIo()/HandleMmio() copy data between
// kvm_run and the caller's handler. Kick() may be called from any thread:
// it sets kvm_run->immediate_exit atomically and signals the thread inside
// Run() (hv::KickSignal()), so KVM_RUN returns EINTR -> kInterrupted.
//
// kvm_vcpu.cc holds what every architecture shares; BUILD.bazel select()s
// kvm_vcpu_x86_64.cc or kvm_vcpu_aarch64.cc for the rest (see kvm_vm.h for
// why this internal header names the architecture's part by macro).
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::KvmVcpu> vcpu,
//                    hv::KvmVcpu::Create(device, vm_fd, 0));
//   ASSIGN_OR_RETURN(hv::VcpuExit exit, vcpu->Run());
#ifndef HV_HYPERVISOR_KVM_KVM_VCPU_H_
#define HV_HYPERVISOR_KVM_KVM_VCPU_H_

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hypervisor/kvm/kvm_device.h"
#include "hypervisor/kvm/kvm_fd.h"
#include "hypervisor/os/run_kicker.h"
#if defined(__aarch64__)
#include "hypervisor/aarch64/vcpu_aarch64.h"
#elif defined(__x86_64__)
#include "hypervisor/x86_64/vcpu_x86_64.h"
#else
#error "hv's KVM backend supports x86_64 and aarch64"
#endif

struct kvm_run;

namespace hv {

#if defined(__aarch64__)
using KvmVcpuBase = VcpuAArch64;
#else
using KvmVcpuBase = VcpuX86_64;
#endif

class KvmVcpu final : public KvmVcpuBase {
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

#if defined(__aarch64__)
  // VcpuAArch64 (kvm_vcpu_aarch64.cc).
  absl::Status Init(absl::Span<const VcpuFeature> features) override;
  bool SupportsFeature(VcpuFeature feature) const override;
  absl::StatusOr<uint64_t> GetOneReg(AArch64Reg reg) override;
  absl::Status SetOneReg(AArch64Reg reg, uint64_t value) override;
  absl::StatusOr<absl::uint128> GetVectorReg(uint32_t n) override;
  absl::Status SetVectorReg(uint32_t n, absl::uint128 value) override;
  absl::StatusOr<std::vector<std::pair<AArch64Reg, uint64_t>>> GetSystemRegs()
      override;
  absl::StatusOr<uint64_t> GetMpidr() override;
  absl::StatusOr<PsciVersion> GetPsciVersion() override;
  absl::Status InitPmu(uint32_t irq) override;
  bool HasPvtime() const override;
  absl::Status InitPvtime(GuestAddress address) override;

  // KvmVcpu::SetPreferredTarget(): the KVM_ARM_PREFERRED_TARGET answer of
  // the VM, which Init() hands to KVM_ARM_VCPU_INIT (KvmVm sets it at
  // creation).
  void SetPreferredTarget(uint32_t target) { arm_target_ = target; }
#else
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
  absl::StatusOr<uint64_t> GetTscOffset() override;
  absl::StatusOr<uint32_t> GetTscKhz() override;
#endif

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
  // The architecture's part (kvm_vcpu_<arch>.cc): KVM_EXIT_DEBUG's payload.
  static void DecodeDebugExit(const kvm_run& run, VcpuExit& exit);
  // The architecture's check before KVM_RUN (aarch64: Init() happened).
  absl::Status CheckRunnable() const;

#if !defined(__aarch64__)
  // OK when this KVM honours the TSC offset (KvmDevice::TscOffsetHonoured);
  // otherwise UNIMPLEMENTED naming `operation` and why.
  absl::Status CheckTscControl(absl::string_view operation) const;
  // The same for XCRs (KvmDevice::XcrsHonoured).
  absl::Status CheckXcrs(absl::string_view operation) const;
#endif

#if defined(__aarch64__)
  // The ONE_REG id of `reg` and its size in bytes (4 or 8), or
  // INVALID_ARGUMENT naming `operation` and the register.
  absl::StatusOr<std::pair<uint64_t, int>> OneRegId(const char* operation,
                                                    AArch64Reg reg) const;
  absl::Status CheckInitialized(const char* operation) const;
  // KVM_GET_ONE_REG / KVM_SET_ONE_REG of `size` bytes at `data`.
  absl::Status GetRawReg(uint64_t id, void* data, const char* operation,
                         AArch64Reg reg);
  absl::Status SetRawReg(uint64_t id, const void* data, const char* operation,
                         AArch64Reg reg);
  // KVM_SET_DEVICE_ATTR on the vCPU (PMU, PVTIME).
  absl::Status SetVcpuAttr(uint32_t group, uint64_t attr, const void* value,
                           const char* operation);
#else
  // KVM_GET_XSAVE (or KVM_GET_XSAVE2): the vCPU's XSAVE image.
  absl::StatusOr<std::vector<uint8_t>> GetXsave();
#endif

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

  // The thread inside Run(), for Kick(): never signalled once it has left
  // Run() (and may have exited).
  RunKicker kicker_;

#if defined(__aarch64__)
  // Only the thread that uses the vCPU (the Run() thread) touches these.
  uint32_t arm_target_ = 0;
  bool initialized_ = false;
  // KVM_ARM_VCPU_INIT feature bits of the first Init() (a vCPU keeps them).
  uint32_t init_features_ = 0;
#endif
};

}  // namespace hv

#endif  // HV_HYPERVISOR_KVM_KVM_VCPU_H_
