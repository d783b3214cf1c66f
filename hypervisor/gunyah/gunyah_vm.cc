#include "hypervisor/gunyah/gunyah_vm.h"

#include <string>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hypervisor/gunyah/gunyah_abi.h"
#include "hypervisor/gunyah/gunyah_vm_core.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vm_checks.h"

namespace hv {

namespace abi = gunyah_abi;

namespace {

// The VM capabilities Gunyah has; CheckCapability() is false for every
// other. Not among them: kRemoveMemoryRegion (size 0 is EINVAL; a region is
// freed with the VM), kFdMapping (pages are pinned when a region is added),
// kDirtyLog (no dirty-page log in the ABI), kReadOnlyMemoryRegion (writes
// are not promised as MMIO), kMemNoncoherentDma (no cache-type flag),
// kPvClock (Gunyah keeps the guest's time), kGsiRouting (no in-kernel GSI
// routing), kSignalMsi (no MSI injection), kIrqfdResample (no
// level-triggered irqfds), kUserSpaceMsrs (x86 only), kDirtyLogSwitch and
// kDirtyLogManualProtect (no dirty log at all).
constexpr VmCap kGunyahVmCaps[] = {
    VmCap::kIrqfd,
    VmCap::kIoEventfd,
};

}  // namespace

absl::StatusOr<std::unique_ptr<GunyahVm>> GunyahVm::Create(
    std::shared_ptr<const GunyahDevice> device) {
  GunyahSys* sys = device->sys;
  // The argument is reserved: the kernel refuses anything but 0.
  GunyahFd vm_fd(sys, sys->Ioctl(device->fd.get(), abi::kCreateVm, 0));
  if (!vm_fd.valid()) return ErrnoStatus("GH_CREATE_VM");
  auto core = std::make_shared<GunyahVmCore>(std::move(device),
                                             std::move(vm_fd));
  return std::unique_ptr<GunyahVm>(new GunyahVm(std::move(core)));
}

GunyahVm::GunyahVm(std::shared_ptr<GunyahVmCore> core)
    : BackendVm("Gunyah", kMaxMemorySlots, kGuestAddressLimit, HostPageSize()),
      core_(std::move(core)) {}

// The kernel reclaims every region from the guest when the last reference
// to the VM (this fd or a vCPU's) goes; the regions (BackendVm's) are
// unmapped from this process after core_ is released, which is safe either
// way because the kernel holds its own pins on their pages.
GunyahVm::~GunyahVm() = default;

bool GunyahVm::CheckCapability(VmCap cap) const {
  return absl::c_linear_search(kGunyahVmCaps, cap);
}

bool GunyahVm::started() const { return core_->started(); }

absl::Status GunyahVm::ConfigureBoot(GuestAddress /*entry*/,
                                     GuestAddress fdt_address,
                                     uint64_t fdt_size) {
  return core_->SetDtbConfig(fdt_address, fdt_size);
}

absl::Status GunyahVm::MapSlot(MemSlot slot, GuestAddress guest_address,
                               MemoryRegion& region,
                               const MemoryRegionOptions& options) {
  if (options.read_only) {
    return absl::UnimplementedError(absl::StrFormat(
        "add memory region at %#x: Gunyah cannot promise that guest writes "
        "to a region without GH_MEM_ALLOW_WRITE become MMIO exits, so "
        "read-only regions are not offered",
        guest_address));
  }
  if (options.log_dirty_pages) {
    return absl::UnimplementedError(absl::StrFormat(
        "add memory region at %#x: Gunyah has no dirty-page log",
        guest_address));
  }
  if (options.cache == MemCacheType::kCacheNonCoherent) {
    return absl::UnimplementedError(absl::StrFormat(
        "add memory region at %#x: Gunyah has no memory-type flag, so it "
        "cannot honour non-coherent DMA; refusing to map the region coherent",
        guest_address));
  }
  std::lock_guard<std::mutex> lifecycle(core_->lifecycle_mutex());
  if (core_->started_locked()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "add memory region at %#x: the VM has started, and Gunyah shares a "
        "VM's memory with the guest only at GH_VM_START",
        guest_address));
  }
  abi::UserspaceMemoryRegion request = {};
  request.label = slot;
  // The guest gets what the host mapping allows: the kernel pins the pages
  // for writing (FOLL_WRITE) only with GH_MEM_ALLOW_WRITE, which fails on a
  // read-only mapping such as an arena's empty state.
  request.flags = abi::kMemAllowRead | abi::kMemAllowExec;
  if (region.protection().write) request.flags |= abi::kMemAllowWrite;
  request.guest_phys_addr = guest_address;
  request.memory_size = region.size();
  request.userspace_addr = reinterpret_cast<uintptr_t>(region.data());
  if (core_->sys()->IoctlPtr(core_->fd(), abi::kVmSetUserMemRegion,
                             &request) < 0) {
    return ErrnoStatus(absl::StrFormat(
        "GH_VM_SET_USER_MEM_REGION (label %u, [%#x, %#x), flags %#x)", slot,
        guest_address, guest_address + region.size(), request.flags));
  }
  return absl::OkStatus();
}

absl::Status GunyahVm::UnmapSlot(MemSlot slot,
                                 const MemorySlotTable::Entry& entry) {
  return absl::UnimplementedError(absl::StrFormat(
      "remove memory region (slot %u at %#x): this Gunyah ABI cannot take a "
      "region back (GH_VM_SET_USER_MEM_REGION has no delete; the kernel "
      "reclaims regions only when the VM is destroyed); the region stays",
      slot, entry.guest_address));
}

absl::Status GunyahVm::ReplacePages(MemSlot slot, MemorySlotTable::Entry&,
                                    const HostPageChange& change) {
  if (change.maps_fd()) {
    return absl::UnimplementedError(absl::StrFormat(
        "add fd mapping into slot %u: Gunyah pins a region's pages when it "
        "is added and gives the guest those pages, so mapping a file over "
        "the host range would never reach the guest",
        slot));
  }
  return absl::UnimplementedError(absl::StrFormat(
      "remove mapping in slot %u: Gunyah regions have no fd mappings (their "
      "pages are pinned when the region is added)",
      slot));
}

absl::StatusOr<int> GunyahVm::Function(bool add, uint32_t type,
                                       const void* arg, uint32_t arg_size,
                                       const std::string& what) {
  abi::FnDesc desc = {};
  desc.type = type;
  desc.arg_size = arg_size;
  desc.arg = reinterpret_cast<uintptr_t>(arg);
  const unsigned long request =
      add ? abi::kVmAddFunction : abi::kVmRemoveFunction;
  const int result = core_->sys()->IoctlPtr(core_->fd(), request, &desc);
  if (result < 0) {
    return ErrnoStatus(absl::StrCat(GunyahIoctlName(request), " (", what, ")"));
  }
  return result;
}

absl::Status GunyahVm::IoEvent(const EventFd& event,
                               const IoEventAddress& address, bool assign) {
  if (address.space == IoEventAddress::Space::kPio) {
    return absl::UnimplementedError(absl::StrFormat(
        "ioeventfd at port %#x: Gunyah guests (aarch64) have no port I/O; "
        "ioeventfds are MMIO only",
        address.address));
  }
  const uint32_t length = address.length;
  RETURN_IF_ERROR(CheckIoEventLength("ioeventfd", length));
  RETURN_IF_ERROR(CheckIoEventAnyLength("ioeventfd", address));
  abi::FnIoeventfdArg arg = {};
  arg.addr = address.address;
  arg.len = length;
  arg.fd = event.fd();
  if (address.datamatch.has_value()) {
    arg.flags = abi::kIoeventfdDatamatch;
    arg.datamatch = *address.datamatch;
  }
  return Function(assign, abi::kFnIoeventfd, &arg, sizeof(arg),
                  absl::StrFormat("ioeventfd mmio %#x len %u", address.address,
                                  length))
      .status();
}

absl::Status GunyahVm::Irqfd(const EventFd& event, uint32_t gsi,
                             bool assign) {
  // The doorbell's label is the interrupt number, as crosvm writes it into
  // the VM's devicetree ("bell-<label>", interrupts = <SPI label edge>).
  abi::FnIrqfdArg arg = {};
  arg.fd = static_cast<uint32_t>(event.fd());
  arg.label = gsi;
  arg.flags = 0;  // edge
  return Function(assign, abi::kFnIrqfd, &arg, sizeof(arg),
                  absl::StrFormat("irqfd label %u", gsi))
      .status();
}

absl::Status GunyahVm::SetIrqLine(uint32_t irq, bool level) {
  return absl::UnimplementedError(absl::StrFormat(
      "set irq line %u to %d: Gunyah has no interrupt-line call; interrupts "
      "reach the guest through irqfd doorbells (RegisterIrqfd)",
      irq, level ? 1 : 0));
}

}  // namespace hv
