// WhpxPartition: one WHPX partition handle and what the VM and its vCPUs
// share about it: the API table, the host's WHPX capabilities, and a view of
// guest RAM (guest-physical -> host address) for the instruction emulator's
// memory callbacks (string I/O, MMIO instructions that also touch RAM).
//
// Owned through std::shared_ptr by the WhpxVm and every WhpxVcpu, so the
// partition is deleted (WHvDeletePartition) only after its last vCPU.
//
// Example:
//   ASSIGN_OR_RETURN(std::shared_ptr<hv::WhpxPartition> partition,
//                    hv::WhpxPartition::Create(api, caps, /*max_vcpus=*/4));
//   RETURN_IF_ERROR(partition->EnsureSetUp());
#ifndef HV_HYPERVISOR_WHPX_WHPX_PARTITION_H_
#define HV_HYPERVISOR_WHPX_WHPX_PARTITION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hypervisor/whpx/whpx_api.h"
#include "hypervisor/whpx/whpx_xsave.h"

namespace hv {

// WhpxCaps: what WHvGetCapability reported, once, at WhpxHypervisor::Create.
struct WhpxCaps {
  uint64_t features = 0;         // WHV_CAPABILITY_FEATURES
  uint64_t extended_vm_exits = 0;  // WHV_EXTENDED_VM_EXITS
  uint64_t processor_clock_hz = 0;  // 0 when WHPX did not say
  // WHv{Get,Set}VirtualProcessorXsaveState are there and the Xsave feature
  // is offered: HypervisorCap::kXsave.
  bool xsave_state = false;
  // The host's XSAVE layout (CPUID leaf 0xd), which WHPX's compacted images
  // follow.
  XsaveLayout xsave_layout;
};

class WhpxPartition {
 public:
  // WhpxPartition::Create(): WHvCreatePartition and the properties
  // (processor count, the CPUID and MSR exits `caps` offers). On any failure
  // the partition is deleted again. WHvSetupPartition waits for
  // EnsureSetUp(), so that properties only a partition not yet set up takes
  // (the local APIC emulation: EnableLocalApicEmulation) can still be chosen.
  static absl::StatusOr<std::shared_ptr<WhpxPartition>> Create(
      const WhpxApi* api, const WhpxCaps& caps, uint32_t max_vcpus);

  WhpxPartition(const WhpxPartition&) = delete;
  WhpxPartition& operator=(const WhpxPartition&) = delete;
  ~WhpxPartition();

  const WhpxApi& api() const { return *api_; }
  whpx_abi::WHV_PARTITION_HANDLE handle() const { return handle_; }
  const WhpxCaps& caps() const { return caps_; }
  uint32_t max_vcpus() const { return max_vcpus_; }
  // The WHV_EXTENDED_VM_EXITS bits set on the partition.
  uint64_t extended_exits() const { return extended_exits_; }

  // WhpxPartition::EnsureSetUp(): WHvSetupPartition, once; called before
  // anything that needs a set-up partition (the first mapping, vCPU or
  // interrupt request). A failed setup is reported and tried again next time.
  absl::Status EnsureSetUp();
  bool IsSetUp() const;
  // WhpxPartition::EnableLocalApicEmulation(): the LocalApicEmulationMode
  // property = xAPIC, so WHPX emulates each vCPU's local APIC (and
  // WHvRequestInterrupt reaches them). FAILED_PRECONDITION once the
  // partition is set up, UNIMPLEMENTED where WHPX lacks the
  // LocalApicEmulation feature, FAILED_PRECONDITION when already enabled.
  absl::Status EnableLocalApicEmulation();
  bool LocalApicEmulation() const;

  // Guest RAM view, kept by WhpxVm as it maps and unmaps regions.
  void AddRam(uint64_t gpa, uint8_t* host, uint64_t size, bool writable);
  void RemoveRam(uint64_t gpa);
  // WhpxPartition::ReadRam() / WriteRam(): copy between guest RAM and
  // `data`; false when any byte is not RAM (or, for writes, read-only).
  bool ReadRam(uint64_t gpa, absl::Span<uint8_t> data) const;
  bool WriteRam(uint64_t gpa, absl::Span<const uint8_t> data) const;
  bool IsWritableRam(uint64_t gpa) const;

 private:
  WhpxPartition(const WhpxApi* api, whpx_abi::WHV_PARTITION_HANDLE handle,
                const WhpxCaps& caps, uint32_t max_vcpus)
      : api_(api), handle_(handle), caps_(caps), max_vcpus_(max_vcpus) {}

  struct Ram {
    uint8_t* host = nullptr;
    uint64_t size = 0;
    bool writable = false;
  };
  // The RAM range holding `gpa` and `size` bytes after it, or nullptr.
  const Ram* FindRam(uint64_t gpa, uint64_t size, uint64_t* offset) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const WhpxApi* const api_;
  const whpx_abi::WHV_PARTITION_HANDLE handle_;
  const WhpxCaps caps_;
  const uint32_t max_vcpus_;
  uint64_t extended_exits_ = 0;  // written only by Create()

  // Guards the setup state (set up, APIC emulation chosen).
  mutable std::mutex setup_mutex_;
  bool setup_ ABSL_GUARDED_BY(setup_mutex_) = false;
  bool apic_emulation_ ABSL_GUARDED_BY(setup_mutex_) = false;

  mutable std::mutex mutex_;
  std::map<uint64_t, Ram> ram_ ABSL_GUARDED_BY(mutex_);  // by start gpa
};

}  // namespace hv

#endif  // HV_HYPERVISOR_WHPX_WHPX_PARTITION_H_
