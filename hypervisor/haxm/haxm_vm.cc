#include "hypervisor/haxm/haxm_vm.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hypervisor/haxm/haxm_vcpu.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vm_checks.h"

namespace hv {

using haxm_abi::DeviceLevel;

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
    : sys_(device->sys),
      device_(std::move(device)),
      handle_(std::move(handle)),
      vm_id_(vm_id),
      standalone_ram_(device_->Has(haxm_abi::kCapImplicitRamblock)),
      vcpu_ids_(std::make_shared<HaxmVcpuIds>()),
      slots_(kMaxSlots, kGuestAddressLimit, haxm_abi::kPageSize) {}

// Members go in reverse order: the regions (slots_) are unmapped from this
// process first, then the VM handle closes. HAXM pinned the pages it mapped,
// so they stay valid for it until the close makes it drop every mapping and
// RAM block (and, once its vCPUs are closed too, the VM).
HaxmVm::~HaxmVm() = default;

bool HaxmVm::CheckCapability(VmCap cap) const {
  switch (cap) {
    case VmCap::kReadOnlyMemoryRegion:
      return true;  // HAX_RAM_INFO_ROM
    case VmCap::kRemoveMemoryRegion:
      return true;  // HAX_RAM_INFO_INVALID
    case VmCap::kFdMapping:  // unmap, replace the host pages, map again
      return standalone_ram_ && MmapRegion::CanRemapInPlace();
    case VmCap::kDirtyLog:
    case VmCap::kMemNoncoherentDma:
    case VmCap::kPvClock:
    case VmCap::kIrqfd:
    case VmCap::kIoEventfd:
      return false;
  }
  return false;
}

absl::Status HaxmVm::Unsupported(const char* operation) const {
  return absl::UnimplementedError(absl::StrCat(
      operation, ": HAXM has no such facility (see hypervisor/haxm/README.md)"));
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

absl::StatusOr<MemSlot> HaxmVm::AddMemoryRegion(
    GuestAddress guest_address, std::unique_ptr<MemoryRegion> region,
    const MemoryRegionOptions& options) {
  RETURN_IF_ERROR(CheckRegionGiven(region.get()));
  std::lock_guard<std::mutex> lock(mutex_);
  ASSIGN_OR_RETURN(MemSlot slot, slots_.Check(guest_address, region->size()));
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
    RETURN_IF_ERROR(RegisterRamBlock(region->data(), region->size()));
  }
  // In the RAM-block mode a failure here leaves the block registered (HAXM
  // cannot drop it); ram_blocks_ remembers it.
  RETURN_IF_ERROR(SetRam(guest_address, region->size(), region->data(),
                         MapFlags(options)));
  slots_.Insert(slot, guest_address, std::move(region), options);
  return slot;
}

absl::StatusOr<std::unique_ptr<MemoryRegion>> HaxmVm::RemoveMemoryRegion(
    MemSlot slot) {
  std::lock_guard<std::mutex> lock(mutex_);
  ASSIGN_OR_RETURN(MemorySlotTable::Entry * entry, slots_.Find(slot));
  RETURN_IF_ERROR(
      SetRam(entry->guest_address, entry->region->size(), nullptr, 0));
  ASSIGN_OR_RETURN(MemorySlotTable::Entry removed, slots_.Remove(slot));
  return std::move(removed.region);
}

std::vector<MemoryRegionInfo> HaxmVm::MemoryRegions() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return slots_.List();
}

absl::Status HaxmVm::Remap(
    const char* operation, MemSlot slot, MemorySlotTable::Entry& entry,
    const std::function<absl::Status(MemoryRegion&)>& swap) {
  MemoryRegion& region = *entry.region;
  const uint32_t flags = MapFlags(entry.options);
  RETURN_IF_ERROR(SetRam(entry.guest_address, region.size(), nullptr, 0));
  const absl::Status swapped = swap(region);
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
        operation, slot, mapped.message()));
  }
  return swapped;
}

absl::Status HaxmVm::AddFdMapping(MemSlot slot, uint64_t offset, uint64_t size,
                                  int fd, uint64_t fd_offset, Protection prot) {
  std::lock_guard<std::mutex> lock(mutex_);
  ASSIGN_OR_RETURN(MemorySlotTable::Entry * entry,
                   slots_.FindRange("add fd mapping", slot, offset, size));
  RETURN_IF_ERROR(CheckFdMappingArguments(fd, fd_offset, haxm_abi::kPageSize));
  if (!standalone_ram_) {
    return absl::UnimplementedError(
        "add fd mapping: without HAX_CAP_IMPLICIT_RAMBLOCK HAXM pins a "
        "region's pages for the VM's life, so pages mapped into it would "
        "never reach the guest");
  }
  return Remap("add fd mapping", slot, *entry, [&](MemoryRegion& region) {
    return region.MapFd(offset, size, fd, fd_offset, prot);
  });
}

absl::Status HaxmVm::RemoveMapping(MemSlot slot, uint64_t offset,
                                   uint64_t size) {
  std::lock_guard<std::mutex> lock(mutex_);
  ASSIGN_OR_RETURN(MemorySlotTable::Entry * entry,
                   slots_.FindRange("remove mapping", slot, offset, size));
  if (!standalone_ram_) {
    return absl::UnimplementedError(
        "remove mapping: without HAX_CAP_IMPLICIT_RAMBLOCK HAXM pins a "
        "region's pages for the VM's life (see add fd mapping)");
  }
  return Remap("remove mapping", slot, *entry, [&](MemoryRegion& region) {
    return region.Unmap(offset, size);
  });
}

absl::StatusOr<std::vector<uint64_t>> HaxmVm::GetDirtyLog(MemSlot slot) {
  std::lock_guard<std::mutex> lock(mutex_);
  RETURN_IF_ERROR(FindSlot("get dirty log", slots_, slot).status());
  return Unsupported("get dirty log (no dirty page logging)");
}

absl::Status HaxmVm::RegisterIoEvent(const EventFd&, const IoEventAddress&) {
  return Unsupported("register ioeventfd");
}

absl::Status HaxmVm::UnregisterIoEvent(const EventFd&, const IoEventAddress&) {
  return Unsupported("unregister ioeventfd");
}

absl::Status HaxmVm::RegisterIrqfd(const EventFd&, uint32_t) {
  return Unsupported("register irqfd");
}

absl::Status HaxmVm::UnregisterIrqfd(const EventFd&, uint32_t) {
  return Unsupported("unregister irqfd");
}

absl::Status HaxmVm::SetIrqLine(uint32_t, bool) {
  return Unsupported("set irq line (no in-kernel irqchip)");
}

absl::Status HaxmVm::CreateIrqChip(IrqChipKind, uint32_t) {
  return Unsupported("create irqchip (no in-kernel PIC, IOAPIC or LAPIC)");
}

absl::StatusOr<std::vector<CpuidEntry>> HaxmVm::GetSupportedCpuid() {
  return Unsupported(
      "get supported cpuid (HAXM has no query; it filters the host's CPUID "
      "itself)");
}

// HAXM runs real mode itself (unrestricted guest, or its emulator) and needs
// neither a TSS nor an identity-map page from the VMM: there is nothing to
// configure, so both succeed without a driver call.
absl::Status HaxmVm::SetTssAddress(GuestAddress) { return absl::OkStatus(); }

absl::Status HaxmVm::SetIdentityMapAddress(GuestAddress) {
  return absl::OkStatus();
}

absl::StatusOr<ClockState> HaxmVm::GetClock() {
  return Unsupported("get clock (no paravirtual clock)");
}

absl::Status HaxmVm::SetClock(const ClockState&) {
  return Unsupported("set clock (no paravirtual clock)");
}

absl::StatusOr<std::unique_ptr<Vcpu>> HaxmVm::CreateVcpu(uint32_t id) {
  ASSIGN_OR_RETURN(std::unique_ptr<VcpuX86_64> vcpu, CreateVcpuX86_64(id));
  return std::unique_ptr<Vcpu>(std::move(vcpu));
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
