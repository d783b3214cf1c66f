// VmAArch64::InitArch's checks, written once for every aarch64 backend.
#include "hypervisor/aarch64/vm_aarch64.h"

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"

namespace hv {
namespace {

// The added region holding all of [address, address + size), if one does.
std::optional<MemoryRegionInfo> RegionHolding(
    const std::vector<MemoryRegionInfo>& regions, GuestAddress address,
    uint64_t size) {
  for (const MemoryRegionInfo& region : regions) {
    if (address >= region.guest_address &&
        address - region.guest_address <= region.size &&
        size <= region.size - (address - region.guest_address)) {
      return region;
    }
  }
  return std::nullopt;
}

absl::Status CheckBootArguments(const std::vector<MemoryRegionInfo>& regions,
                                GuestAddress entry, GuestAddress fdt_address,
                                uint64_t fdt_size) {
  if (fdt_size == 0 || fdt_size > VmAArch64::kFdtMaxSize) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "init arch: devicetree size %#x is not in [1, %#x] (booting.rst)",
        fdt_size, VmAArch64::kFdtMaxSize));
  }
  if (fdt_address % VmAArch64::kFdtAlignment != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "init arch: devicetree address %#x is not %u-byte aligned "
        "(booting.rst)",
        fdt_address, VmAArch64::kFdtAlignment));
  }
  if (!RegionHolding(regions, fdt_address, fdt_size).has_value()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "init arch: devicetree [%#x, +%#x) is not inside one added memory "
        "region",
        fdt_address, fdt_size));
  }
  if (entry % 4 != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "init arch: entry %#x is not 4-byte aligned", entry));
  }
  if (!RegionHolding(regions, entry, 4).has_value()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "init arch: entry %#x is not inside an added memory region", entry));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status VmAArch64::InitArch(GuestAddress entry, GuestAddress fdt_address,
                                 uint64_t fdt_size) {
  RETURN_IF_ERROR(
      CheckBootArguments(MemoryRegions(), entry, fdt_address, fdt_size));
  return ConfigureBoot(entry, fdt_address, fdt_size);
}

absl::StatusOr<GicState> VmAArch64::GetGicState(
    absl::Span<VcpuAArch64* const> vcpus) {
  return absl::UnimplementedError(absl::StrFormat(
      "get GIC state (%u vCPUs): this hypervisor does not offer it "
      "(HypervisorCap::kIrqChipState is false)",
      vcpus.size()));
}

absl::Status VmAArch64::SetGicState(const GicState& /*state*/,
                                    absl::Span<VcpuAArch64* const> vcpus) {
  return absl::UnimplementedError(absl::StrFormat(
      "set GIC state (%u vCPUs): this hypervisor does not offer it "
      "(HypervisorCap::kIrqChipState is false)",
      vcpus.size()));
}

absl::Status VmAArch64::CreateGicIts(GuestAddress base) {
  return absl::UnimplementedError(absl::StrFormat(
      "create GIC ITS at %#x: this hypervisor does not offer one "
      "(VmCap::kGicIts is false)",
      base));
}

absl::StatusOr<GicItsState> VmAArch64::GetGicItsState() {
  return absl::UnimplementedError(
      "get GIC ITS state: this hypervisor does not offer an ITS "
      "(VmCap::kGicIts is false)");
}

absl::Status VmAArch64::SetGicItsState(const GicItsState& /*state*/) {
  return absl::UnimplementedError(
      "set GIC ITS state: this hypervisor does not offer an ITS "
      "(VmCap::kGicIts is false)");
}

absl::Status VmAArch64::ResetGicIts() {
  return absl::UnimplementedError(
      "reset GIC ITS: this hypervisor does not offer an ITS "
      "(VmCap::kGicIts is false)");
}

}  // namespace hv
