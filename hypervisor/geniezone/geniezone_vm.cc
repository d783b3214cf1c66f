#include "hypervisor/geniezone/geniezone_vm.h"

#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/str_format.h"
#include "hypervisor/fd_mapping.h"
#include "hypervisor/geniezone/geniezone_abi.h"
#include "hypervisor/geniezone/geniezone_vcpu.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vm_checks.h"

namespace hv {

namespace {

// The VM capabilities Geniezone has; CheckCapability() is false for every
// other. Not among them: kRemoveMemoryRegion (GZVM_SET_USER_MEMORY_REGION
// has no delete), kDirtyLog (no dirty-log ioctl), kReadOnlyMemoryRegion (no
// read-only region flag), kMemNoncoherentDma (no cache-type region flag),
// kPvClock (x86 only), kGsiRouting (no in-kernel GSI routing), kSignalMsi
// (no MSI injection), kUserSpaceMsrs (x86 only), kDirtyLogSwitch and kDirtyLogManualProtect (no
// dirty log at all).
constexpr VmCap kGeniezoneVmCaps[] = {
    VmCap::kIrqfd,
    VmCap::kIrqfdResample,  // GZVM_IRQFD_FLAG_RESAMPLE (README)
    VmCap::kIoEventfd,
    VmCap::kFdMapping,  // see README: no MMU notifier for touched pages
};

}  // namespace

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
    : BackendVm("Geniezone", geniezone_abi::kMaxMemRegions,
                device->guest_address_limit, HostPageSize()),
      sys_(device->sys),
      device_(std::move(device)),
      vm_fd_(std::move(vm_fd)) {}

// The VM fd closes before the regions (BackendVm's) are unmapped; the
// driver drops its memslots, vCPUs, irqfds and ioeventfds with the VM.
GeniezoneVm::~GeniezoneVm() = default;

bool GeniezoneVm::CheckCapability(VmCap cap) const {
  return absl::c_linear_search(kGeniezoneVmCaps, cap);
}

absl::Status GeniezoneVm::MapSlot(MemSlot slot, GuestAddress guest_address,
                                  MemoryRegion& region,
                                  const MemoryRegionOptions& options) {
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
  request.memory_size = region.size();
  request.userspace_addr = reinterpret_cast<uintptr_t>(region.data());
  if (sys_->IoctlPtr(vm_fd_.get(), geniezone_abi::kSetUserMemoryRegion,
                     &request) < 0) {
    return ErrnoStatus(
        absl::StrFormat("GZVM_SET_USER_MEMORY_REGION (slot %u, [%#x, %#x))",
                        slot, guest_address, guest_address + region.size()));
  }
  return absl::OkStatus();
}

absl::Status GeniezoneVm::UnmapSlot(MemSlot slot,
                                    const MemorySlotTable::Entry&) {
  return absl::UnimplementedError(absl::StrFormat(
      "remove memory region (slot %u): Geniezone cannot delete a memory slot "
      "(GZVM_SET_USER_MEMORY_REGION has no delete: memory_size must equal the "
      "host mapping's size); the region stays mapped",
      slot));
}

absl::Status GeniezoneVm::ReplacePages(MemSlot slot,
                                       MemorySlotTable::Entry& entry,
                                       const HostPageChange& change) {
  return ReplaceHostPages(*sys_, slot, *entry.region, change);
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

absl::Status GeniezoneVm::ResampleIrqfd(const EventFd& event, uint32_t gsi,
                                        const EventFd& resample) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    RETURN_IF_ERROR(CheckSpi("register resample irqfd", gsi));
  }
  geniezone_abi::Irqfd request = {};
  request.fd = static_cast<uint32_t>(event.fd());
  request.gsi = gsi;
  request.flags = geniezone_abi::kIrqfdFlagResample;
  request.resamplefd = static_cast<uint32_t>(resample.fd());
  if (sys_->IoctlPtr(vm_fd_.get(), geniezone_abi::kIrqfd, &request) < 0) {
    return ErrnoStatus(
        absl::StrFormat("GZVM_IRQFD (assign resample gsi %u)", gsi));
  }
  return absl::OkStatus();
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

}  // namespace hv
