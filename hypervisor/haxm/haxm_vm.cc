#include "hypervisor/haxm/haxm_vm.h"

#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/str_format.h"
#include "hypervisor/haxm/haxm_vcpu.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/status_macros.h"

namespace hv {

using haxm_abi::DeviceLevel;

namespace {

// The VM capabilities every HAXM has; kFdMapping depends on the VM
// (CheckCapability), and every other is false. Not among them: kGsiRouting
// (no in-kernel GSI routing), kSignalMsi (no MSI injection), kIrqfdResample
// (no level-triggered irqfds), and what HAXM has no ioctl for (dirty log,
// non-coherent DMA, pvclock, irqfds, ioeventfds, MSR exits to user space:
// kUserSpaceMsrs, a dirty log to switch or protect: kDirtyLogSwitch,
// kDirtyLogManualProtect).
constexpr VmCap kHaxmVmCaps[] = {
    VmCap::kReadOnlyMemoryRegion,  // HAX_RAM_INFO_ROM
    VmCap::kRemoveMemoryRegion,    // HAX_RAM_INFO_INVALID
};

}  // namespace

absl::StatusOr<std::unique_ptr<HaxmVm>> HaxmVm::Create(
    std::shared_ptr<const HaxmDevice> device) {
  HaxmSys* sys = device->sys;
  const haxm_abi::Platform& platform = sys->platform();
  uint32_t vm_id = 0;
  RETURN_IF_ERROR(HaxmIoctl(sys, device->handle.get(), DeviceLevel::kSystem,
                            platform.codes.create_vm, &vm_id, 0,
                            sizeof(vm_id)));
  // From here the VM exists in HAXM; it is destroyed when its device handle
  // is closed. If the device cannot be opened, HAXM keeps the VM until the
  // driver unloads: neither port implements HAX_IOCTL_DESTROY_VM.
  const std::string path = haxm_abi::VmDevicePath(platform, vm_id);
  HaxmHandle handle = kInvalidHaxmHandle;
  if (const int error = sys->Open(path, &handle); error != 0) {
    return sys->ErrorStatus(
        absl::StrFormat("open %s (HAXM keeps VM %u until the driver unloads)",
                        path, vm_id),
        error);
  }
  HaxmHandleOwner owner(sys, handle);
  haxm_abi::hax_qemu_version version = {};
  version.cur_version = haxm_abi::kUserApiVersion;
  version.least_version = haxm_abi::kUserApiVersion;
  RETURN_IF_ERROR(HaxmIoctl(sys, handle, DeviceLevel::kVm,
                            platform.codes.vm_notify_qemu_version, &version,
                            sizeof(version), 0));
  return std::unique_ptr<HaxmVm>(
      new HaxmVm(std::move(device), std::move(owner), vm_id));
}

HaxmVm::HaxmVm(std::shared_ptr<const HaxmDevice> device, HaxmHandleOwner handle,
               uint32_t vm_id)
    : UserIrqchipVm("HAXM", kMaxSlots, kGuestAddressLimit, haxm_abi::kPageSize),
      sys_(device->sys),
      device_(std::move(device)),
      handle_(std::move(handle)),
      vm_id_(vm_id),
      standalone_ram_(device_->Has(haxm_abi::kCapImplicitRamblock)),
      vcpu_ids_(std::make_shared<HaxmVcpuIds>()) {}

// The VM handle closes first, which makes HAXM drop every mapping and RAM
// block (and, once its vCPUs are closed too, the VM); then the regions
// (BackendVm's) are unmapped from this process. HAXM pinned the pages it
// mapped, so either order is safe for it.
HaxmVm::~HaxmVm() = default;

bool HaxmVm::CheckCapability(VmCap cap) const {
  if (cap == VmCap::kFdMapping) {  // unmap, replace the host pages, map again
    return standalone_ram_ && MmapRegion::CanRemapInPlace();
  }
  return absl::c_linear_search(kHaxmVmCaps, cap);
}

uint32_t HaxmVm::MapFlags(const MemoryRegionOptions& options) const {
  uint32_t flags = 0;
  if (options.read_only) flags |= haxm_abi::kRamInfoRom;
  if (standalone_ram_) flags |= haxm_abi::kRamInfoStandalone;
  return flags;
}

absl::Status HaxmVm::SetRam(GuestAddress gpa, uint64_t size, const void* host,
                            uint32_t flags) {
  haxm_abi::hax_set_ram_info2 info = {};
  info.pa_start = gpa;
  info.size = size;
  info.va = reinterpret_cast<uintptr_t>(host);
  info.flags = host == nullptr ? haxm_abi::kRamInfoInvalid : flags;
  return HaxmIoctl(
      sys_, handle_.get(), DeviceLevel::kVm, sys_->platform().codes.vm_set_ram2,
      &info, sizeof(info), 0,
      absl::StrFormat("[%#x, %#x) %s flags %#x", gpa, gpa + size,
                      host == nullptr ? "unmap" : "map", info.flags));
}

absl::Status HaxmVm::RegisterRamBlock(const void* host, uint64_t size) {
  const uint64_t start = reinterpret_cast<uintptr_t>(host);
  for (const RamBlock& block : ram_blocks_) {
    if (start < block.start + block.size && block.start < start + size) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "add memory region: host range [%#x, %#x) overlaps [%#x, %#x), "
          "which HAXM holds as a RAM block of an earlier region; without "
          "HAX_CAP_IMPLICIT_RAMBLOCK HAXM cannot drop RAM blocks and would "
          "keep mapping the old pages",
          start, start + size, block.start, block.start + size));
    }
  }
  const haxm_abi::IoctlCodes& codes = sys_->platform().codes;
  const std::string detail =
      absl::StrFormat("host [%#x, %#x)", start, start + size);
  if (size <= UINT32_MAX) {
    haxm_abi::hax_alloc_ram_info info = {};
    info.size = static_cast<uint32_t>(size);
    info.va = start;
    RETURN_IF_ERROR(HaxmIoctl(sys_, handle_.get(), DeviceLevel::kVm,
                              codes.vm_alloc_ram, &info, sizeof(info), 0,
                              detail));
  } else {
    if (!device_->Has(haxm_abi::kCap64BitRamblock)) {
      return absl::OutOfRangeError(absl::StrFormat(
          "add memory region: %#x bytes need HAX_VM_IOCTL_ADD_RAMBLOCK, which "
          "this HAXM lacks (no HAX_CAP_64BIT_RAMBLOCK)",
          size));
    }
    haxm_abi::hax_ramblock_info info = {};
    info.start_va = start;
    info.size = size;
    RETURN_IF_ERROR(HaxmIoctl(sys_, handle_.get(), DeviceLevel::kVm,
                              codes.vm_add_ramblock, &info, sizeof(info), 0,
                              detail));
  }
  ram_blocks_.push_back({start, size});
  return absl::OkStatus();
}

absl::Status HaxmVm::MapSlot(MemSlot, GuestAddress guest_address,
                             MemoryRegion& region,
                             const MemoryRegionOptions& options) {
  if (options.log_dirty_pages) {
    return absl::UnimplementedError(
        "add memory region: HAXM has no dirty page logging "
        "(log_dirty_pages)");
  }
  if (options.cache == MemCacheType::kCacheNonCoherent) {
    return absl::UnimplementedError(absl::StrFormat(
        "add memory region at %#x: HAXM cannot honour non-coherent DMA; "
        "refusing to map the region coherent",
        guest_address));
  }
  if (!standalone_ram_) {
    RETURN_IF_ERROR(RegisterRamBlock(region.data(), region.size()));
  }
  // In the RAM-block mode a failure here leaves the block registered (HAXM
  // cannot drop it); ram_blocks_ remembers it.
  return SetRam(guest_address, region.size(), region.data(), MapFlags(options));
}

absl::Status HaxmVm::UnmapSlot(MemSlot, const MemorySlotTable::Entry& entry) {
  return SetRam(entry.guest_address, entry.region->size(), nullptr, 0);
}

absl::Status HaxmVm::Remap(MemSlot slot, MemorySlotTable::Entry& entry,
                           const HostPageChange& change) {
  MemoryRegion& region = *entry.region;
  const uint32_t flags = MapFlags(entry.options);
  RETURN_IF_ERROR(SetRam(entry.guest_address, region.size(), nullptr, 0));
  const absl::Status swapped = change.ApplyTo(region);
  // The host pages may have changed already, so the way back to a
  // consistent VM is forwards: map the region again, retrying once (the
  // driver's failures here are allocation failures).
  absl::Status mapped =
      SetRam(entry.guest_address, region.size(), region.data(), flags);
  if (!mapped.ok()) {
    mapped = SetRam(entry.guest_address, region.size(), region.data(), flags);
  }
  if (!mapped.ok()) {
    return absl::InternalError(absl::StrFormat(
        "%s: slot %u is no longer mapped in HAXM (%s); remove the region",
        change.operation, slot, mapped.message()));
  }
  return swapped;
}

absl::Status HaxmVm::ReplacePages(MemSlot slot, MemorySlotTable::Entry& entry,
                                  const HostPageChange& change) {
  if (!standalone_ram_) {
    return absl::UnimplementedError(
        change.maps_fd()
            ? "add fd mapping: without HAX_CAP_IMPLICIT_RAMBLOCK HAXM pins a "
              "region's pages for the VM's life, so pages mapped into it "
              "would never reach the guest"
            : "remove mapping: without HAX_CAP_IMPLICIT_RAMBLOCK HAXM pins a "
              "region's pages for the VM's life (see add fd mapping)");
  }
  return Remap(slot, entry, change);
}

absl::StatusOr<std::unique_ptr<VcpuX86_64>> HaxmVm::CreateVcpuX86_64(
    uint32_t id) {
  if (id >= haxm_abi::kMaxVcpus) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "create vCPU %u: HAXM allows ids below %u", id, haxm_abi::kMaxVcpus));
  }
  {
    std::lock_guard<std::mutex> lock(vcpu_ids_->mutex);
    if (vcpu_ids_->live.count(id) != 0) {
      return absl::AlreadyExistsError(
          absl::StrFormat("create vCPU %u: it already exists", id));
    }
    if (vcpu_ids_->orphaned.count(id) != 0) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "create vCPU %u: HAXM still holds it from an earlier failed "
          "creation (its device could not be opened) until the VM closes",
          id));
    }
    // Reserved while the driver creates it.
    vcpu_ids_->live.insert(id);
  }
  auto vcpu = HaxmVcpu::Create(device_, handle_.get(), vm_id_, id, vcpu_ids_);
  if (!vcpu.ok()) {
    std::lock_guard<std::mutex> lock(vcpu_ids_->mutex);
    vcpu_ids_->live.erase(id);
    return vcpu.status();
  }
  return std::unique_ptr<VcpuX86_64>(std::move(vcpu).value());
}

}  // namespace hv
