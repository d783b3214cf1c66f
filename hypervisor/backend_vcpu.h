// BackendVcpu<ArchVcpu>: what every backend's Vcpu shares, written once:
// its id, and the rule that HandleIo() / HandleMmio() complete the I/O or
// MMIO exit the last Run() returned, once, and nothing else. `ArchVcpu` is
// hv::VcpuX86_64 or hv::VcpuAArch64; a backend's vCPU derives from
// BackendVcpu<VcpuX86_64> (say), reports from Run() which exit now waits
// (SetPendingExit), and supplies CompleteIo() / CompleteMmio(): the copy
// between the hypervisor's exit data and the caller's handler. Only the
// thread that calls Run() may call these. Backend support: not part of the
// hypervisor API.
//
// Example (a backend's vCPU):
//   absl::StatusOr<hv::VcpuExit> MyVcpu::Run() {
//     SetPendingExit(hv::VcpuExitKind::kUnknown);  // nothing waits now
//     hv::VcpuExit exit;
//     ...  // enter the guest, decode its exit
//     SetPendingExit(exit.kind);  // a kIo or kMmio exit waits for Handle*
//     return exit;
//   }
#ifndef HV_HYPERVISOR_BACKEND_VCPU_H_
#define HV_HYPERVISOR_BACKEND_VCPU_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hypervisor/aarch64/vcpu_aarch64.h"
#include "hypervisor/vcpu.h"
#include "hypervisor/vcpu_exit.h"

namespace hv {

// RunIoHandler(): hands one access of an I/O or MMIO exit to `handler`:
// the first `size` bytes of `field`, the exit's data field (which the
// hypervisor reads a read's result from). A read's field is zeroed first,
// so bytes the handler leaves alone read as zero.
inline void RunIoHandler(absl::FunctionRef<void(IoRequest&)> handler,
                         uint64_t address, bool is_write,
                         absl::Span<uint8_t> field, size_t size) {
  if (!is_write) std::memset(field.data(), 0, field.size());
  IoRequest request;
  request.address = address;
  request.is_write = is_write;
  request.data = field.subspan(0, size);
  handler(request);
}

template <typename ArchVcpu>
class BackendVcpu : public ArchVcpu {
  static_assert(std::is_base_of_v<Vcpu, ArchVcpu>,
                "BackendVcpu implements an hv::Vcpu interface");

 public:
  BackendVcpu(const BackendVcpu&) = delete;
  BackendVcpu& operator=(const BackendVcpu&) = delete;

  uint32_t id() const final { return id_; }

  // FAILED_PRECONDITION unless the last Run() returned a kIo exit that no
  // HandleIo() has completed yet (never on aarch64); then CompleteIo().
  absl::Status HandleIo(absl::FunctionRef<void(IoRequest&)> handler) final {
    if constexpr (std::is_base_of_v<VcpuAArch64, ArchVcpu>) {
      return absl::FailedPreconditionError(
          "HandleIo: aarch64 has no port I/O, so no Run() returns kIo");
    }
    if (pending_ != VcpuExitKind::kIo) {
      return absl::FailedPreconditionError(
          "HandleIo: the last Run() did not return an unhandled kIo exit");
    }
    pending_ = VcpuExitKind::kUnknown;
    return CompleteIo(handler);
  }

  // The same for kMmio and CompleteMmio().
  absl::Status HandleMmio(absl::FunctionRef<void(IoRequest&)> handler) final {
    if (pending_ != VcpuExitKind::kMmio) {
      return absl::FailedPreconditionError(
          "HandleMmio: the last Run() did not return an unhandled kMmio exit");
    }
    pending_ = VcpuExitKind::kUnknown;
    return CompleteMmio(handler);
  }

 protected:
  explicit BackendVcpu(uint32_t id) : id_(id) {}

  // BackendVcpu::SetPendingExit(): Run() says which exit it returns: a kIo
  // or kMmio exit then waits for HandleIo / HandleMmio, a kRdMsr or kWrMsr
  // exit for HandleMsr; any other kind
  // (kUnknown at the start of a run) leaves nothing waiting.
  void SetPendingExit(VcpuExitKind kind) {
    pending_ = kind == VcpuExitKind::kIo || kind == VcpuExitKind::kMmio ||
                       kind == VcpuExitKind::kRdMsr ||
                       kind == VcpuExitKind::kWrMsr
                   ? kind
                   : VcpuExitKind::kUnknown;
  }

  // BackendVcpu::TakePendingMsrExit(): for an x86 vCPU's HandleMsr:
  // whether the kRdMsr (false) or kWrMsr (true) exit the last Run()
  // returned waits; it no longer waits after this. FAILED_PRECONDITION when
  // no such exit waits.
  absl::StatusOr<bool> TakePendingMsrExit() {
    if (pending_ != VcpuExitKind::kRdMsr && pending_ != VcpuExitKind::kWrMsr) {
      return absl::FailedPreconditionError(
          "HandleMsr: the last Run() did not return an unhandled kRdMsr or "
          "kWrMsr exit");
    }
    const bool write = pending_ == VcpuExitKind::kWrMsr;
    pending_ = VcpuExitKind::kUnknown;
    return write;
  }

  // BackendVcpu::CompleteIo(): hands each access of the pending kIo exit to
  // `handler` and a read's data back to the guest. aarch64 vCPUs, which
  // never get there, keep this default.
  virtual absl::Status CompleteIo(absl::FunctionRef<void(IoRequest&)>) {
    return absl::InternalError("HandleIo: this vCPU has no port I/O");
  }
  // BackendVcpu::CompleteMmio(): the same for the pending kMmio exit.
  virtual absl::Status CompleteMmio(
      absl::FunctionRef<void(IoRequest&)> handler) = 0;

  const uint32_t id_;

 private:
  // The kind of the last exit that still waits for HandleIo/HandleMmio
  // (or, on x86, HandleMsr; kUnknown when none). Only the Run() thread
  // touches it.
  VcpuExitKind pending_ = VcpuExitKind::kUnknown;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_BACKEND_VCPU_H_
