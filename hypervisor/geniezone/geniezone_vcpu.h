// GeniezoneVcpu: hv::VcpuAArch64 over a Geniezone vCPU file descriptor.
//
// GZVM_RUN takes a pointer to a struct gzvm_vcpu_run in user memory: the
// driver copies it in (an MMIO read's completion travels that way), runs
// the vCPU, and copies the exit back out. The backend keeps that struct in
// a page of its own (mapped through the GeniezoneSys seam) for the vCPU's life.
// Run() is one GZVM_RUN; the exit is decoded from the struct at once.
// HandleMmio() hands the access to the caller and leaves a read's data in
// the struct for the next GZVM_RUN. Kick() may be called from any thread:
// it records the kick, sets the struct's immediate_exit byte (atomically)
// and signals the thread inside Run() (hv::KickSignal()), so GZVM_RUN
// returns EINTR -> kInterrupted; a kick that lands while GZVM_RUN is
// returning an ordinary exit makes the next Run() return kInterrupted.
//
// Registers go through GZVM_SET_ONE_REG / GZVM_GET_ONE_REG with KVM's arm64
// id encoding (geniezone_abi.h); the driver carries at most 64 bits per
// register, so the 128-bit V registers are UNIMPLEMENTED, and the latest driver
// answers every GZVM_GET_ONE_REG with EOPNOTSUPP (-> UNIMPLEMENTED).
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::GeniezoneVcpu> vcpu,
//                    hv::GeniezoneVcpu::Create(device, vm_fd, 0));
//   RETURN_IF_ERROR(vcpu->Init({hv::VcpuFeature::kPsci0_2}));
//   ASSIGN_OR_RETURN(hv::VcpuExit exit, vcpu->Run());
#ifndef HV_HYPERVISOR_GENIEZONE_GENIEZONE_VCPU_H_
#define HV_HYPERVISOR_GENIEZONE_GENIEZONE_VCPU_H_

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/aarch64/vcpu_aarch64.h"
#include "hypervisor/backend_overrides.h"
#include "hypervisor/geniezone/geniezone_abi.h"
#include "hypervisor/geniezone/geniezone_fd.h"
#include "hypervisor/geniezone/geniezone_hypervisor.h"
#include "hypervisor/kicked_vcpu.h"

namespace hv {

class GeniezoneVcpu final : public KickedVcpu<VcpuAArch64> {
 public:
  // GeniezoneVcpu::Create(): GZVM_CREATE_VCPU `id` on `vm_fd` and the page
  // holding its gzvm_vcpu_run; installs the kick signal handler (once per
  // process).
  static absl::StatusOr<std::unique_ptr<GeniezoneVcpu>> Create(
      std::shared_ptr<const GeniezoneDevice> device, int vm_fd, uint32_t id);

  ~GeniezoneVcpu() override;

  // Vcpu (geniezone_vcpu.cc).
  absl::StatusOr<VcpuExit> Run() override;

  // VcpuAArch64 (geniezone_vcpu_aarch64.cc).
  // Geniezone creates vCPUs in their reset state and has no VCPU_INIT: the
  // first Init() checks the features (only kPsci0_2 exists); a second one
  // is UNIMPLEMENTED (no reset).
  HV_VCPU_AARCH64_STATE_OVERRIDES
  bool HasPvtime() const override { return false; }

 private:
  GeniezoneVcpu(std::shared_ptr<const GeniezoneDevice> device, GeniezoneFd fd,
                uint32_t id, geniezone_abi::VcpuRun* run, uint64_t run_size)
      : KickedVcpu(id, &run->immediate_exit),
        sys_(device->sys),
        device_(std::move(device)),
        fd_(std::move(fd)),
        run_(run),
        run_size_(run_size) {}

  // Fills `exit` from the run struct after a successful GZVM_RUN.
  void DecodeExit(VcpuExit& exit) const override;
  absl::Status CompleteMmio(
      absl::FunctionRef<void(IoRequest&)> handler) override;
  // The one-reg id for `reg` and its size in bytes (4 or 8), or
  // INVALID_ARGUMENT naming the operation when Geniezone has none.
  absl::StatusOr<std::pair<uint64_t, uint32_t>> RegId(const char* operation,
                                                      AArch64Reg reg) const;
  absl::Status CheckInitialized(const char* operation) const;

  GeniezoneSys* const sys_;
  const std::shared_ptr<const GeniezoneDevice> device_;
  const GeniezoneFd fd_;
  // The run struct GZVM_RUN reads and writes (run_size_ bytes of private
  // anonymous memory, page aligned).
  geniezone_abi::VcpuRun* const run_;
  const uint64_t run_size_;

  // Only the Run() thread touches it.
  bool initialized_ = false;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_GENIEZONE_GENIEZONE_VCPU_H_
