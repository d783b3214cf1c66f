#include "hypervisor/whpx/whpx_partition.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/whpx/whpx_status.h"

namespace hv {

using namespace whpx_abi;  // NOLINT: the SDK's names

namespace {

absl::Status SetProperty(const WhpxApi* api, WHV_PARTITION_HANDLE handle,
                         WHV_PARTITION_PROPERTY_CODE code, const char* name,
                         const WHV_PARTITION_PROPERTY& property) {
  return HResultStatus(
      absl::StrFormat("WHvSetPartitionProperty (%s)", name),
      api->WHvSetPartitionProperty(handle, code, &property, sizeof(property)));
}

}  // namespace

absl::StatusOr<std::shared_ptr<WhpxPartition>> WhpxPartition::Create(
    const WhpxApi* api, const WhpxCaps& caps, uint32_t max_vcpus) {
  WHV_PARTITION_HANDLE handle = nullptr;
  RETURN_IF_ERROR(
      HResultStatus("WHvCreatePartition", api->WHvCreatePartition(&handle)));
  // From here on the destructor deletes the partition on any failure.
  std::shared_ptr<WhpxPartition> partition(
      new WhpxPartition(api, handle, caps, max_vcpus));

  WHV_PARTITION_PROPERTY property = {};
  property.ProcessorCount = max_vcpus;
  RETURN_IF_ERROR(SetProperty(api, handle,
                              WHvPartitionPropertyCodeProcessorCount,
                              "ProcessorCount", property));
  // CPUID exits let SetCpuid answer the guest; MSR exits hand accesses to
  // MSRs WHPX does not handle to hv (see WhpxVcpu::Run). Only what the host
  // offers is asked for.
  const uint64_t exits =
      caps.extended_vm_exits & (kExtendedExitX64Cpuid | kExtendedExitX64Msr);
  if (exits != 0) {
    property = {};
    property.ExtendedVmExits = exits;
    RETURN_IF_ERROR(SetProperty(api, handle,
                                WHvPartitionPropertyCodeExtendedVmExits,
                                "ExtendedVmExits", property));
  }
  partition->extended_exits_ = exits;
  return partition;
}

absl::Status WhpxPartition::EnsureSetUp() {
  std::lock_guard<std::mutex> lock(setup_mutex_);
  if (setup_) return absl::OkStatus();
  RETURN_IF_ERROR(
      HResultStatus("WHvSetupPartition", api_->WHvSetupPartition(handle_)));
  setup_ = true;
  return absl::OkStatus();
}

bool WhpxPartition::IsSetUp() const {
  std::lock_guard<std::mutex> lock(setup_mutex_);
  return setup_;
}

absl::Status WhpxPartition::EnableLocalApicEmulation() {
  std::lock_guard<std::mutex> lock(setup_mutex_);
  if ((caps_.features & kFeatureLocalApicEmulation) == 0) {
    return absl::UnimplementedError(
        "enable local APIC emulation: this WHPX does not offer it (no "
        "LocalApicEmulation feature)");
  }
  if (apic_emulation_) {
    return absl::FailedPreconditionError(
        "enable local APIC emulation: the partition already emulates local "
        "APICs");
  }
  if (setup_) {
    return absl::FailedPreconditionError(
        "enable local APIC emulation: the partition is already set up (a "
        "memory region or vCPU was added); WHPX takes the local APIC "
        "emulation mode only before WHvSetupPartition");
  }
  WHV_PARTITION_PROPERTY property = {};
  property.LocalApicEmulationMode = WHvX64LocalApicEmulationModeXApic;
  RETURN_IF_ERROR(SetProperty(api_, handle_,
                              WHvPartitionPropertyCodeLocalApicEmulationMode,
                              "LocalApicEmulationMode = xAPIC", property));
  apic_emulation_ = true;
  return absl::OkStatus();
}

bool WhpxPartition::LocalApicEmulation() const {
  std::lock_guard<std::mutex> lock(setup_mutex_);
  return apic_emulation_;
}

WhpxPartition::~WhpxPartition() {
  // Nothing to report to: a failed delete leaks a partition WHPX refused to
  // delete (its vCPUs are gone and regions unmapped by then).
  api_->WHvDeletePartition(handle_);
}

void WhpxPartition::AddRam(uint64_t gpa, uint8_t* host, uint64_t size,
                           bool writable) {
  std::lock_guard<std::mutex> lock(mutex_);
  ram_[gpa] = Ram{host, size, writable};
}

void WhpxPartition::RemoveRam(uint64_t gpa) {
  std::lock_guard<std::mutex> lock(mutex_);
  ram_.erase(gpa);
}

const WhpxPartition::Ram* WhpxPartition::FindRam(uint64_t gpa, uint64_t size,
                                                 uint64_t* offset) const {
  auto it = ram_.upper_bound(gpa);
  if (it == ram_.begin()) return nullptr;
  --it;
  const uint64_t start = it->first;
  const Ram& ram = it->second;
  if (gpa - start >= ram.size || size > ram.size - (gpa - start)) {
    return nullptr;
  }
  *offset = gpa - start;
  return &ram;
}

bool WhpxPartition::ReadRam(uint64_t gpa, absl::Span<uint8_t> data) const {
  std::lock_guard<std::mutex> lock(mutex_);
  uint64_t offset = 0;
  const Ram* ram = FindRam(gpa, data.size(), &offset);
  if (ram == nullptr) return false;
  std::memcpy(data.data(), ram->host + offset, data.size());
  return true;
}

bool WhpxPartition::WriteRam(uint64_t gpa,
                             absl::Span<const uint8_t> data) const {
  std::lock_guard<std::mutex> lock(mutex_);
  uint64_t offset = 0;
  const Ram* ram = FindRam(gpa, data.size(), &offset);
  if (ram == nullptr || !ram->writable) return false;
  std::memcpy(ram->host + offset, data.data(), data.size());
  return true;
}

bool WhpxPartition::IsWritableRam(uint64_t gpa) const {
  std::lock_guard<std::mutex> lock(mutex_);
  uint64_t offset = 0;
  const Ram* ram = FindRam(gpa, 1, &offset);
  return ram != nullptr && ram->writable;
}

}  // namespace hv
