#include "hypervisor/whpx/whpx_vm.h"

#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/whpx/whpx_msi.h"
#include "hypervisor/whpx/whpx_status.h"
#include "hypervisor/whpx/whpx_vcpu.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif

namespace hv {

using namespace whpx_abi;  // NOLINT: the SDK's names

namespace {

// One past the highest guest-physical address: 2^MAXPHYADDR of the host
// (CPUID 0x80000008 EAX[7:0], Intel SDM Vol. 2A, CPUID), which bounds the
// guest's too; 36 bits where the leaf is missing (its architectural floor).
uint64_t HostAddressLimit() {
  unsigned int bits = 36;
#if defined(__x86_64__) || defined(_M_X64)
  unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0x80000008, &eax, &ebx, &ecx, &edx) && (eax & 0xff) != 0) {
    bits = eax & 0xff;
  }
#endif
  return uint64_t{1} << bits;
}

absl::Status Unimplemented(absl::string_view what, absl::string_view why) {
  return absl::UnimplementedError(absl::StrCat("WHPX: ", what, ": ", why));
}

// The VM capabilities every WHPX has; kDirtyLog, kFdMapping and kSignalMsi
// (WHvRequestInterrupt to emulated local APICs) depend on the partition
// features (CheckCapability), and every other is false. Not among them:
// kMemNoncoherentDma (WHPX maps every range write-back), kGsiRouting (no
// in-kernel GSI routing),
// kIrqfdResample (no level-triggered irqfds), kPvClock, kIrqfd, kIoEventfd,
// kUserSpaceMsrs (WHPX's MSR exits choose classes of MSRs, not indices;
// HandleMsr answers the ones it does not implement), kDirtyLogSwitch and
// kDirtyLogManualProtect (not wired up: see README.md).
constexpr VmCap kWhpxVmCaps[] = {
    VmCap::kReadOnlyMemoryRegion,
    VmCap::kRemoveMemoryRegion,
};

}  // namespace

absl::StatusOr<std::unique_ptr<WhpxVm>> WhpxVm::Create(const WhpxApi* api,
                                                       const WhpxCaps& caps,
                                                       uint32_t max_vcpus) {
  ASSIGN_OR_RETURN(std::shared_ptr<WhpxPartition> partition,
                   WhpxPartition::Create(api, caps, max_vcpus));
  return std::unique_ptr<WhpxVm>(
      new WhpxVm(std::move(partition), HostAddressLimit()));
}

WhpxVm::WhpxVm(std::shared_ptr<WhpxPartition> partition, uint64_t address_limit)
    : UserIrqchipVm("WHPX", kMaxMemorySlots, address_limit, kPageSize),
      partition_(std::move(partition)),
      api_(partition_->api()) {}

// The regions die with BackendVm's slot table, so the partition (which a
// vCPU may keep alive longer) must stop mapping their memory first.
WhpxVm::~WhpxVm() {
  for (const MemoryRegionInfo& info : MemoryRegions()) {
    partition_->RemoveRam(info.guest_address);
    UnmapRange(info.guest_address, info.size).IgnoreError();
  }
}

bool WhpxVm::CheckCapability(VmCap cap) const {
  if (cap == VmCap::kDirtyLog) {
    return (partition_->caps().features & kFeatureDirtyPageTracking) != 0;
  }
  if (cap == VmCap::kFdMapping) {  // unmap, replace the host pages, map again
    return MmapRegion::CanRemapInPlace() &&
           (partition_->caps().features & kFeaturePartialUnmap) != 0;
  }
  if (cap == VmCap::kSignalMsi) {  // WHvRequestInterrupt, a required export
    return (partition_->caps().features & kFeatureLocalApicEmulation) != 0;
  }
  return absl::c_linear_search(kWhpxVmCaps, cap);
}

absl::Status WhpxVm::CreateIrqChip(IrqChipKind kind, uint32_t ioapic_pins) {
  if (kind == IrqChipKind::kKernel) {
    return UserIrqchipVm::CreateIrqChip(kind, ioapic_pins);
  }
  // kSplit: the local APICs in WHPX, the PIC and IOAPIC the VMM's (WHPX has
  // no GSIs, so `ioapic_pins` routes nothing).
  absl::Status status = partition_->EnableLocalApicEmulation();
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("create irqchip (split): ",
                                     status.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> WhpxVm::SignalMsi(const MsiMessage& msi) {
  if (!CheckCapability(VmCap::kSignalMsi)) {
    return absl::UnimplementedError(
        "signal MSI: this WHPX does not emulate local APICs (no "
        "LocalApicEmulation feature), so WHvRequestInterrupt has nothing to "
        "deliver to");
  }
  if (msi.device_id.has_value()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "signal MSI (address %#x, data %#x): device id %u given; an x86 MSI "
        "has no use for one",
        msi.address, msi.data, *msi.device_id));
  }
  if (!partition_->LocalApicEmulation()) {
    return absl::FailedPreconditionError(
        "signal MSI: the VM has no in-kernel irqchip; CreateIrqChip(kSplit) "
        "first turns on WHPX's local APIC emulation");
  }
  ASSIGN_OR_RETURN(WHV_INTERRUPT_CONTROL control,
                   WhpxMsiInterrupt(msi.address, msi.data));
  RETURN_IF_ERROR(partition_->EnsureSetUp());
  // A hot path: the message is formatted only on failure.
  const HRESULT hr = api_.WHvRequestInterrupt(partition_->handle(), &control,
                                              sizeof(control));
  if (!Succeeded(hr)) {
    return HResultStatus(
        absl::StrFormat("WHvRequestInterrupt (MSI address %#x, data %#x)",
                        msi.address, msi.data),
        hr);
  }
  // WHPX does not say whether the APIC took or blocked the interrupt: the
  // request was accepted.
  return true;
}

uint32_t WhpxVm::MapFlags(const MemoryRegionOptions& options) const {
  uint32_t flags = WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagExecute;
  if (!options.read_only) flags |= WHvMapGpaRangeFlagWrite;
  if (options.log_dirty_pages) flags |= WHvMapGpaRangeFlagTrackDirtyPages;
  return flags;
}

absl::Status WhpxVm::MapRange(GuestAddress gpa, uint8_t* host, uint64_t size,
                              uint32_t flags) {
  return HResultStatus(
      absl::StrFormat("WHvMapGpaRange ([%#x, %#x), flags %#x)", gpa,
                      gpa + size, flags),
      api_.WHvMapGpaRange(partition_->handle(), host, gpa, size, flags));
}

absl::Status WhpxVm::UnmapRange(GuestAddress gpa, uint64_t size) {
  return HResultStatus(
      absl::StrFormat("WHvUnmapGpaRange ([%#x, %#x))", gpa, gpa + size),
      api_.WHvUnmapGpaRange(partition_->handle(), gpa, size));
}

absl::Status WhpxVm::MapSlot(MemSlot, GuestAddress guest_address,
                             MemoryRegion& region,
                             const MemoryRegionOptions& options) {
  if (options.log_dirty_pages && !CheckCapability(VmCap::kDirtyLog)) {
    return Unimplemented(
        absl::StrFormat("add memory region at %#x", guest_address),
        "this WHPX does not offer dirty page tracking (no DirtyPageTracking "
        "feature)");
  }
  if (options.cache == MemCacheType::kCacheNonCoherent) {
    return Unimplemented(
        absl::StrFormat("add memory region at %#x", guest_address),
        "WHvMapGpaRange has no memory-type flag, so non-coherent DMA cannot "
        "be honoured; refusing to map the region coherent");
  }
  RETURN_IF_ERROR(partition_->EnsureSetUp());
  RETURN_IF_ERROR(
      MapRange(guest_address, region.data(), region.size(), MapFlags(options)));
  partition_->AddRam(guest_address, region.data(), region.size(),
                     !options.read_only);
  return absl::OkStatus();
}

absl::Status WhpxVm::UnmapSlot(MemSlot, const MemorySlotTable::Entry& entry) {
  RETURN_IF_ERROR(UnmapRange(entry.guest_address, entry.region->size()));
  partition_->RemoveRam(entry.guest_address);
  return absl::OkStatus();
}

absl::Status WhpxVm::ReplacePages(MemSlot, MemorySlotTable::Entry& entry,
                                  const HostPageChange& change) {
  const char* operation = change.operation;
  if ((partition_->caps().features & kFeaturePartialUnmap) == 0) {
    return Unimplemented(operation,
                         "replacing part of a mapped region needs WHPX's "
                         "PartialUnmap feature, which this host lacks");
  }
  const GuestAddress gpa = entry.guest_address + change.offset;
  uint8_t* host = entry.region->data() + change.offset;
  const uint64_t size = change.size;
  const uint32_t flags = MapFlags(entry.options);
  // The partition must not map the old pages while the host swaps them.
  RETURN_IF_ERROR(UnmapRange(gpa, size));
  absl::Status changed = change.ApplyTo(*entry.region);
  // Map the range again: the new pages, or the old ones if the swap failed
  // (the swap changes nothing when it fails).
  absl::Status mapped = MapRange(gpa, host, size, flags);
  if (!changed.ok()) {
    if (!mapped.ok()) {
      return absl::InternalError(absl::StrCat(
          operation, ": ", changed.message(), "; restoring the mapping then "
          "failed too, the range is unmapped from the guest: ",
          mapped.message()));
    }
    return changed;
  }
  if (!mapped.ok()) {
    return absl::InternalError(
        absl::StrCat(operation, ": the host pages were replaced but mapping "
                     "them into the guest failed; the range is unmapped: ",
                     mapped.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint64_t>> WhpxVm::ReadDirtyLog(
    MemSlot slot, const MemorySlotTable::Entry& entry) {
  ASSIGN_OR_RETURN(std::vector<uint64_t> bitmap, EmptyDirtyBitmap(slot, entry));
  const uint64_t size = entry.region->size();
  const GuestAddress gpa = entry.guest_address;
  RETURN_IF_ERROR(HResultStatus(
      absl::StrFormat("WHvQueryGpaRangeDirtyBitmap (slot %u, [%#x, %#x))",
                      slot, gpa, gpa + size),
      api_.WHvQueryGpaRangeDirtyBitmap(
          partition_->handle(), gpa, size, bitmap.data(),
          static_cast<uint32_t>(bitmap.size() * sizeof(uint64_t)))));
  return bitmap;
}

absl::StatusOr<std::unique_ptr<VcpuX86_64>> WhpxVm::CreateVcpuX86_64(
    uint32_t id) {
  if (id >= partition_->max_vcpus()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "create vCPU %u: the partition was set up for %u vCPUs (ids 0-%u; "
        "option max_vcpus)",
        id, partition_->max_vcpus(), partition_->max_vcpus() - 1));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<WhpxVcpu> vcpu,
                   WhpxVcpu::Create(partition_, id));
  return std::unique_ptr<VcpuX86_64>(std::move(vcpu));
}

}  // namespace hv
