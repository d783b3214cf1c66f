#include "hypervisor/geniezone/geniezone_vm.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "hypervisor/fd_mapping.h"
#include "hypervisor/geniezone/geniezone_abi.h"
#include "hypervisor/geniezone/geniezone_vcpu.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vm_checks.h"

namespace hv {

absl::StatusOr<std::unique_ptr<GeniezoneVm>> GeniezoneVm::Create(
    std::shared_ptr<const GeniezoneDevice> device) {
  GeniezoneSys* sys = device->sys;
  // VM type 0: the ordinary (non-protected) Linux VM the driver creates.
  GeniezoneFd vm_fd(sys,
                    sys->Ioctl(device->fd.get(), geniezone_abi::kCreateVm, 0));
  if (!vm_fd.valid()) return ErrnoStatus("GZVM_CREATE_VM");
  return std::unique_ptr<GeniezoneVm>(
      new GeniezoneVm(std::move(device), std::move(vm_fd)));
}

GeniezoneVm::GeniezoneVm(std::shared_ptr<const GeniezoneDevice> device,
                         GeniezoneFd vm_fd)
    : sys_(device->sys),
      device_(std::move(device)),
      vm_fd_(std::move(vm_fd)),
      slots_(geniezone_abi::kMaxMemRegions, device_->guest_address_limit,
             HostPageSize()) {}

// Regions are unmapped (slots_) before the VM fd closes; the driver drops
// its memslots, vCPUs, irqfds and ioeventfds with the VM.
GeniezoneVm::~GeniezoneVm() = default;

bool GeniezoneVm::CheckCapability(VmCap cap) const {
  switch (cap) {
    case VmCap::kIrqfd:
    case VmCap::kIoEventfd:
    case VmCap::kFdMapping:  // see README: no MMU notifier for touched pages
      return true;
    case VmCap::kRemoveMemoryRegion:  // no delete in GZVM_SET_USER_MEMORY_REGION
    case VmCap::kDirtyLog:              // no dirty-log ioctl
    case VmCap::kReadOnlyMemoryRegion:  // no read-only region flag
    case VmCap::kMemNoncoherentDma:     // no cache-type region flag
    case VmCap::kPvClock:               // x86 only
      return false;
  }
  return false;
}

uint32_t GeniezoneVm::MaxMemorySlots() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return slots_.max_slots();
}

uint64_t GeniezoneVm::GuestAddressLimit() const {
  return device_->guest_address_limit;
}

absl::StatusOr<MemSlot> GeniezoneVm::AddMemoryRegion(
    GuestAddress guest_address, std::unique_ptr<MemoryRegion> region,
    const MemoryRegionOptions& options) {
  RETURN_IF_ERROR(CheckRegionGiven(region.get()));
  std::lock_guard<std::mutex> lock(mutex_);
  ASSIGN_OR_RETURN(MemSlot slot, slots_.Check(guest_address, region->size()));
  if (options.read_only) {
    return absl::UnimplementedError(
        "add memory region: Geniezone has no read-only memory regions "
        "(gzvm_userspace_memory_region has no such flag)");
  }
  if (options.log_dirty_pages) {
    return absl::UnimplementedError(
        "add memory region: Geniezone has no dirty-page logging");
  }
  if (options.cache == MemCacheType::kCacheNonCoherent) {
    return absl::UnimplementedError(absl::StrFormat(
        "add memory region at %#x: Geniezone cannot honour non-coherent DMA "
        "(no cache-type region flag); refusing to map the region coherent",
        guest_address));
  }
  geniezone_abi::UserspaceMemoryRegion request = {};
  request.slot = slot;
  request.flags = geniezone_abi::kUserMemRegionGuestMem;
  request.guest_phys_addr = guest_address;
  request.memory_size = region->size();
  request.userspace_addr = reinterpret_cast<uintptr_t>(region->data());
  if (sys_->IoctlPtr(vm_fd_.get(), geniezone_abi::kSetUserMemoryRegion,
                     &request) < 0) {
    return ErrnoStatus(absl::StrFormat(
        "GZVM_SET_USER_MEMORY_REGION (slot %u, [%#x, %#x))", slot,
        guest_address, guest_address + region->size()));
  }
  slots_.Insert(slot, guest_address, std::move(region), options);
  return slot;
}

absl::StatusOr<std::unique_ptr<MemoryRegion>> GeniezoneVm::RemoveMemoryRegion(
    MemSlot slot) {
  std::lock_guard<std::mutex> lock(mutex_);
  RETURN_IF_ERROR(FindSlot("remove memory region", slots_, slot).status());
  return absl::UnimplementedError(absl::StrFormat(
      "remove memory region (slot %u): Geniezone cannot delete a memory slot "
      "(GZVM_SET_USER_MEMORY_REGION has no delete: memory_size must equal the "
      "host mapping's size); the region stays mapped",
      slot));
}

std::vector<MemoryRegionInfo> GeniezoneVm::MemoryRegions() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return slots_.List();
}

absl::Status GeniezoneVm::AddFdMapping(MemSlot slot, uint64_t offset,
                                       uint64_t size, int fd,
                                       uint64_t fd_offset, Protection prot) {
  std::lock_guard<std::mutex> lock(mutex_);
  return MapFdIntoSlot(*sys_, slots_, slot, offset, size, fd, fd_offset, prot);
}

absl::Status GeniezoneVm::RemoveMapping(MemSlot slot, uint64_t offset,
                                        uint64_t size) {
  std::lock_guard<std::mutex> lock(mutex_);
  return RestoreSlotRange(*sys_, slots_, slot, offset, size);
}

absl::StatusOr<std::vector<uint64_t>> GeniezoneVm::GetDirtyLog(MemSlot slot) {
  std::lock_guard<std::mutex> lock(mutex_);
  RETURN_IF_ERROR(FindSlot("get dirty log", slots_, slot).status());
  return absl::UnimplementedError(absl::StrFormat(
      "get dirty log (slot %u): Geniezone has no dirty-page log", slot));
}

absl::Status GeniezoneVm::IoEvent(const EventFd& event,
                                  const IoEventAddress& address, bool assign) {
  const char* verb = assign ? "register ioevent" : "unregister ioevent";
  const uint32_t length = address.length;
  RETURN_IF_ERROR(CheckIoEventLength(verb, length));
  if (address.space == IoEventAddress::Space::kPio) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s at port %#x: Geniezone (aarch64) has no port I/O; only MMIO "
        "ioeventfds exist",
        verb, address.address));
  }
  RETURN_IF_ERROR(CheckIoEventAnyLength(verb, address));
  geniezone_abi::Ioeventfd request = {};
  request.addr = address.address;
  request.len = length;
  request.fd = event.fd();
  if (address.datamatch.has_value()) {
    request.flags |= geniezone_abi::kIoeventfdFlagDatamatch;
    request.datamatch = *address.datamatch;
  }
  if (!assign) request.flags |= geniezone_abi::kIoeventfdFlagDeassign;
  if (sys_->IoctlPtr(vm_fd_.get(), geniezone_abi::kIoeventfd, &request) < 0) {
    return ErrnoStatus(absl::StrFormat("GZVM_IOEVENTFD (%s mmio %#x len %u)",
                                       assign ? "assign" : "deassign",
                                       address.address, length));
  }
  return absl::OkStatus();
}

absl::Status GeniezoneVm::RegisterIoEvent(const EventFd& event,
                                          const IoEventAddress& address) {
  return IoEvent(event, address, true);
}

absl::Status GeniezoneVm::UnregisterIoEvent(const EventFd& event,
                                            const IoEventAddress& address) {
  return IoEvent(event, address, false);
}

absl::Status GeniezoneVm::CheckSpi(const char* operation, uint32_t spi) const {
  uint32_t limit = geniezone_abi::kIrqNumMask + 1;
  if (gic_.has_value()) limit = gic_->num_irqs - 32;
  if (spi >= limit) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: SPI %u is past the %u SPIs %s", operation, spi, limit,
        gic_.has_value() ? "of the GIC" : "the irq field can name"));
  }
  return absl::OkStatus();
}

absl::Status GeniezoneVm::Irqfd(const EventFd& event, uint32_t gsi,
                                bool assign) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    RETURN_IF_ERROR(CheckSpi(assign ? "register irqfd" : "unregister irqfd", gsi));
  }
  geniezone_abi::Irqfd request = {};
  request.fd = static_cast<uint32_t>(event.fd());
  request.gsi = gsi;
  request.flags = assign ? 0 : geniezone_abi::kIrqfdFlagDeassign;
  if (sys_->IoctlPtr(vm_fd_.get(), geniezone_abi::kIrqfd, &request) < 0) {
    return ErrnoStatus(absl::StrFormat("GZVM_IRQFD (%s gsi %u)",
                                       assign ? "assign" : "deassign", gsi));
  }
  return absl::OkStatus();
}

absl::Status GeniezoneVm::RegisterIrqfd(const EventFd& event, uint32_t gsi) {
  return Irqfd(event, gsi, true);
}

absl::Status GeniezoneVm::UnregisterIrqfd(const EventFd& event, uint32_t gsi) {
  return Irqfd(event, gsi, false);
}

absl::Status GeniezoneVm::SetIrqLine(uint32_t irq, bool level) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    RETURN_IF_ERROR(CheckSpi("set irq line", irq));
  }
  geniezone_abi::IrqLevel request = {};
  request.irq = geniezone_abi::IrqLineField(geniezone_abi::kIrqTypeSpi, 0, irq);
  request.level = level ? 1 : 0;
  if (sys_->IoctlPtr(vm_fd_.get(), geniezone_abi::kIrqLine, &request) < 0) {
    return ErrnoStatus(absl::StrFormat("GZVM_IRQ_LINE (spi %u, level %d)", irq,
                                       level ? 1 : 0));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Vcpu>> GeniezoneVm::CreateVcpu(uint32_t id) {
  ASSIGN_OR_RETURN(std::unique_ptr<VcpuAArch64> vcpu, CreateVcpuAArch64(id));
  return std::unique_ptr<Vcpu>(std::move(vcpu));
}

}  // namespace hv
