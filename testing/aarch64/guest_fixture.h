// AArch64Guest: runs the aarch64 guest image (guest_image.h) on any
// backend's VmAArch64: RAM at HV_A64_RAM_BASE with the image at
// HV_A64_CODE, vCPUs initialised with chosen features, optionally a GICv3,
// and a run loop that collects the guest's reports.
//
// A run ends at the routine's DONE store, at a system event (PSCI), or at
// any exit that is not MMIO; every other MMIO access is recorded and handed
// to the caller's handler (reads it does not answer read 0). A guest
// exception (the image's vector table reports ESR_EL1) ends the run with an
// INTERNAL error naming it.
//
// Example:
//   ASSIGN_OR_RETURN(auto guest, hv::testing::AArch64Guest::Create(*hypervisor, {}));
//   RETURN_IF_ERROR(guest->Start(0, a64::Routine::kMmioRoundTrip,
//                                {{0, 42}, {1, HV_A64_DATA}}));
//   ASSIGN_OR_RETURN(hv::testing::GuestRun run, guest->Run(0, [](hv::IoRequest& io) {
//     if (!io.is_write) io.data[0] = 7;
//   }));
#ifndef HV_TESTING_AARCH64_GUEST_FIXTURE_H_
#define HV_TESTING_AARCH64_GUEST_FIXTURE_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hypervisor/aarch64/vcpu_aarch64.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/hypervisor.h"
#include "testing/aarch64/guest_image.h"
#include "testing/aarch64/guest_layout.h"

namespace hv::testing {

struct AArch64GuestOptions {
  uint32_t vcpus = 1;
  // A GICv3 (distributor at HV_A64_GICD_BASE, redistributors at
  // HV_A64_GICR_BASE, `gic_irqs` interrupts), finalised after the vCPUs.
  bool gic = false;
  uint32_t gic_irqs = 96;
  // With `gic`: a GICv3 ITS at HV_A64_GITS_BASE (VmAArch64::CreateGicIts),
  // created before the vCPUs.
  bool its = false;
  std::vector<VcpuFeature> features = {VcpuFeature::kPsci0_2};
};

// GuestRun: what one AArch64Guest::Run saw.
struct GuestRun {
  enum class End { kDone, kSystemEvent, kOtherExit };
  End end = End::kOtherExit;
  // The exit that ended the run (kMmio for DONE).
  VcpuExit last_exit;
  // The values the guest reported, in order.
  std::vector<uint64_t> reports;
  // MMIO accesses to addresses other than the fixture's own, in order (a
  // read's value is what the handler answered).
  struct Access {
    uint64_t address = 0;
    bool is_write = false;
    uint8_t size = 0;
    uint64_t value = 0;
  };
  std::vector<Access> mmio;
};

class AArch64Guest {
 public:
  using MmioHandler = std::function<void(IoRequest&)>;

  // AArch64Guest::Create(): a VM of `hypervisor` set up as described above.
  static absl::StatusOr<std::unique_ptr<AArch64Guest>> Create(
      Hypervisor& hypervisor, const AArch64GuestOptions& options);

  AArch64Guest(const AArch64Guest&) = delete;
  AArch64Guest& operator=(const AArch64Guest&) = delete;
  ~AArch64Guest();

  VmAArch64& vm() { return *arm_vm_; }
  VcpuAArch64& vcpu(uint32_t index) { return *vcpus_.at(index); }
  uint32_t vcpu_count() const { return static_cast<uint32_t>(vcpus_.size()); }
  // The host's view of guest RAM at HV_A64_RAM_BASE.
  uint8_t* ram() { return ram_; }
  MemSlot ram_slot() const { return ram_slot_; }

  // AArch64Guest::Start(): points vCPU `index` at `routine` in EL1h with
  // interrupts masked and sets the given x registers.
  absl::Status Start(uint32_t index, a64::Routine routine,
                     std::initializer_list<std::pair<uint32_t, uint64_t>> x);

  // AArch64Guest::Run(): runs vCPU `index` until the run ends (see above);
  // `handler` sees every MMIO access the fixture does not own (also the
  // SIGNAL and report stores, after they are recorded). More than
  // `max_exits` exits, or no end within `timeout` (a watchdog thread kicks
  // the vCPU out of the guest), is a DEADLINE_EXCEEDED error.
  absl::StatusOr<GuestRun> Run(uint32_t index,
                               const MmioHandler& handler = nullptr,
                               int max_exits = 10000,
                               absl::Duration timeout = absl::Seconds(20));

 private:
  AArch64Guest() = default;

  std::unique_ptr<Vm> vm_;
  VmAArch64* arm_vm_ = nullptr;
  uint8_t* ram_ = nullptr;
  MemSlot ram_slot_ = 0;
  // Destroyed before vm_.
  std::vector<std::unique_ptr<VcpuAArch64>> vcpus_;
};

}  // namespace hv::testing

#endif  // HV_TESTING_AARCH64_GUEST_FIXTURE_H_
