#include "hypervisor/kvm/kvm_vm.h"

#include <sys/mman.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_format.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/fd_mapping.h"
#include "hypervisor/kvm/kvm_abi.h"
#include "hypervisor/kvm/kvm_ioctl.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vm_checks.h"
#include "hypervisor/x86_64/vm_x86_64.h"

namespace hv {
namespace {

// Asks the kernel whether it honours KVM_MEM_NON_COHERENT_DMA: registers
// one page with the flag in slot 0 at guest address 0 (the new VM has no
// slots yet) and deletes it again. Only called when cap 236 is non-zero.
absl::StatusOr<bool> ProbeNonCoherentFlag(KvmSys* sys, int vm_fd) {
  const size_t page = HostPageSize();
  void* memory = sys->Mmap(nullptr, page, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return ErrnoStatus("mmap non-coherent probe page");
  kvm_userspace_memory_region region = kvm_abi::UserMemoryRegion(
      0, kvm_abi::kMemNonCoherentDma, 0, page, memory);
  absl::StatusOr<bool> result = true;
  if (sys->IoctlPtr(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
    // An unknown flag is EINVAL: the capability number meant something else.
    result = errno == EINVAL
                 ? absl::StatusOr<bool>(false)
                 : ErrnoStatus("KVM_SET_USER_MEMORY_REGION (non-coherent probe)");
  } else {
    region.memory_size = 0;
    if (sys->IoctlPtr(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
      result = ErrnoStatus("KVM_SET_USER_MEMORY_REGION (delete probe slot)");
    }
  }
  sys->Munmap(memory, page);
  return result;
}

// The capabilities QueryVmCaps() asks for, in this order.
constexpr KvmCapQuery<KvmVmCaps> kVmCaps[] = {
    {&KvmVmCaps::readonly_mem, HV_KVM_CAP(KVM_CAP_READONLY_MEM)},
    {&KvmVmCaps::irqfd, HV_KVM_CAP(KVM_CAP_IRQFD)},
    {&KvmVmCaps::ioeventfd, HV_KVM_CAP(KVM_CAP_IOEVENTFD)},
    {&KvmVmCaps::adjust_clock, HV_KVM_CAP(KVM_CAP_ADJUST_CLOCK)},
    {&KvmVmCaps::nr_memslots, HV_KVM_CAP(KVM_CAP_NR_MEMSLOTS)},
    {&KvmVmCaps::irq_routing, HV_KVM_CAP(KVM_CAP_IRQ_ROUTING)},
    {&KvmVmCaps::signal_msi, HV_KVM_CAP(KVM_CAP_SIGNAL_MSI)},
    {&KvmVmCaps::irqfd_resample, HV_KVM_CAP(KVM_CAP_IRQFD_RESAMPLE)},
    {&KvmVmCaps::user_space_msr, HV_KVM_CAP(KVM_CAP_X86_USER_SPACE_MSR)},
    {&KvmVmCaps::msr_filter, HV_KVM_CAP(KVM_CAP_X86_MSR_FILTER)},
    {&KvmVmCaps::manual_dirty_log_protect,
     HV_KVM_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)},
};

absl::StatusOr<KvmVmCaps> QueryVmCaps(KvmSys* sys, const KvmDevice& device,
                                      int vm_fd) {
  // Ask the VM where the kernel allows it (caps may differ by VM type).
  const int fd = device.caps.check_extension_vm > 0 ? vm_fd : device.fd.get();
  KvmVmCaps caps;
  RETURN_IF_ERROR(KvmCheckExtensions<KvmVmCaps>(sys, fd, kVmCaps, caps));
  ASSIGN_OR_RETURN(int noncoherent,
                   KvmCheckExtension(sys, fd,
                                     kvm_abi::kCapUserConfigureNoncoherentDma,
                                     "KVM_CAP_USER_CONFIGURE_NONCOHERENT_DMA"));
  if (noncoherent > 0) {
    ASSIGN_OR_RETURN(caps.noncoherent_dma, ProbeNonCoherentFlag(sys, vm_fd));
  }
  return caps;
}

// The KVM_SET_USER_MEMORY_REGION flags for a region with `options`, once
// MapSlot has checked that this KVM can honour them.
uint32_t SlotFlags(const MemoryRegionOptions& options) {
  uint32_t flags = 0;
  if (options.read_only) flags |= KVM_MEM_READONLY;
  if (options.log_dirty_pages) flags |= KVM_MEM_LOG_DIRTY_PAGES;
  if (options.cache == MemCacheType::kCacheNonCoherent) {
    flags |= kvm_abi::kMemNonCoherentDma;
  }
  return flags;
}

// api.rst: without KVM_CAP_NR_MEMSLOTS, "you should assume that you have
// 32 slots" (KVM_MEMORY_SLOTS of early kernels).
constexpr uint32_t kDefaultMemSlots = 32;

}  // namespace

absl::StatusOr<std::unique_ptr<Vm>> CreateKvmVm(
    std::shared_ptr<const KvmDevice> device) {
  KvmSys* sys = device->sys;
  // x86_64: machine type 0, the default; aarch64: the IPA size (KvmDevice).
  KvmFd vm_fd(sys,
              sys->Ioctl(device->fd.get(), KVM_CREATE_VM, device->vm_type));
  if (!vm_fd.valid()) return ErrnoStatus("KVM_CREATE_VM");
  ASSIGN_OR_RETURN(KvmVmCaps caps, QueryVmCaps(sys, *device, vm_fd.get()));
  return NewKvmVm(std::move(device), KvmVmFd{std::move(vm_fd), caps});
}

template <typename ArchVm>
KvmVmCore<ArchVm>::KvmVmCore(std::shared_ptr<const KvmDevice> device,
                             KvmVmFd vm)
    : BackendVm<ArchVm>(
          "KVM",
          vm.caps.nr_memslots > 0 ? vm.caps.nr_memslots : kDefaultMemSlots,
          device->guest_address_limit, HostPageSize()),
      sys_(device->sys),
      device_(std::move(device)),
      vm_fd_(std::move(vm.fd)),
      caps_(vm.caps) {}

template <typename ArchVm>
bool KvmVmCore<ArchVm>::CheckCapability(VmCap cap) const {
  switch (cap) {
    case VmCap::kDirtyLog:
      return true;  // base API: KVM_MEM_LOG_DIRTY_PAGES + KVM_GET_DIRTY_LOG
    case VmCap::kReadOnlyMemoryRegion:
      return caps_.readonly_mem > 0;
    case VmCap::kMemNoncoherentDma:
      return caps_.noncoherent_dma;
    case VmCap::kPvClock:
      return caps_.adjust_clock > 0;
    case VmCap::kIrqfd:
      return caps_.irqfd > 0;
    case VmCap::kIoEventfd:
      return caps_.ioeventfd > 0;
    case VmCap::kRemoveMemoryRegion:
    case VmCap::kFdMapping:  // mmap(MAP_FIXED) under a memslot: KVM follows
      return true;
    case VmCap::kGsiRouting:
      return caps_.irq_routing > 0;
    case VmCap::kSignalMsi:
      return caps_.signal_msi > 0 && HasMsiController();
    case VmCap::kIrqfdResample:
      return caps_.irqfd_resample > 0 && caps_.irqfd > 0;
    case VmCap::kUserSpaceMsrs:
      // Filter exits (KVM_MSR_EXIT_REASON_FILTER) came with the filter.
      return caps_.user_space_msr > 0 && caps_.msr_filter > 0;
    case VmCap::kDirtyLogSwitch:
      // base API: a KVM_SET_USER_MEMORY_REGION that changes only the flags
      return true;
    case VmCap::kDirtyLogManualProtect:
      return (caps_.manual_dirty_log_protect &
              KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE) != 0;
    case VmCap::kGicIts:
      return OffersGicIts();
  }
  return false;
}

template <typename ArchVm>
absl::Status KvmVmCore<ArchVm>::SetUserMemoryRegion(MemSlot slot,
                                                    uint32_t flags,
                                                    GuestAddress guest_address,
                                                    uint64_t size,
                                                    void* host_address) {
  const kvm_userspace_memory_region region = kvm_abi::UserMemoryRegion(
      slot, flags, guest_address, size, host_address);
  if (sys_->IoctlPtr(vm_fd_.get(), KVM_SET_USER_MEMORY_REGION, &region) < 0) {
    return ErrnoStatus(absl::StrFormat(
        "KVM_SET_USER_MEMORY_REGION (slot %u, [%#x, %#x), flags %#x)", slot,
        guest_address, guest_address + size, flags));
  }
  return absl::OkStatus();
}

template <typename ArchVm>
absl::Status KvmVmCore<ArchVm>::MapSlot(MemSlot slot,
                                        GuestAddress guest_address,
                                        MemoryRegion& region,
                                        const MemoryRegionOptions& options) {
  if (options.read_only) {
    if (caps_.readonly_mem == 0) {
      return absl::UnimplementedError(
          "add memory region: read-only regions need KVM_CAP_READONLY_MEM, "
          "which this KVM lacks");
    }
  }
  if (options.cache == MemCacheType::kCacheNonCoherent) {
    if (!caps_.noncoherent_dma) {
      return absl::UnimplementedError(absl::StrFormat(
          "add memory region at %#x: this KVM cannot honour non-coherent DMA "
          "(no KVM_CAP_USER_CONFIGURE_NONCOHERENT_DMA slot flag); refusing "
          "to map the region coherent",
          guest_address));
    }
  }
  return SetUserMemoryRegion(slot, SlotFlags(options), guest_address,
                             region.size(), region.data());
}

template <typename ArchVm>
absl::Status KvmVmCore<ArchVm>::UnmapSlot(MemSlot slot,
                                          const MemorySlotTable::Entry& entry) {
  return SetUserMemoryRegion(slot, 0, entry.guest_address, 0,
                             entry.region->data());
}

template <typename ArchVm>
absl::Status KvmVmCore<ArchVm>::ReplacePages(MemSlot slot,
                                             MemorySlotTable::Entry& entry,
                                             const HostPageChange& change) {
  return ReplaceHostPages(*sys_, slot, *entry.region, change);
}

template <typename ArchVm>
absl::StatusOr<std::vector<uint64_t>> KvmVmCore<ArchVm>::ReadDirtyLog(
    MemSlot slot, const MemorySlotTable::Entry& entry) {
  ASSIGN_OR_RETURN(std::vector<uint64_t> bitmap,
                   this->EmptyDirtyBitmap(slot, entry));
  kvm_dirty_log log = {};
  log.slot = slot;
  log.dirty_bitmap = bitmap.data();
  RETURN_IF_ERROR(KvmIoctl(sys_, vm_fd_.get(), KVM_GET_DIRTY_LOG, &log,
                           absl::StrFormat("KVM_GET_DIRTY_LOG (slot %u)", slot)));
  return bitmap;
}

template <typename ArchVm>
absl::Status KvmVmCore<ArchVm>::SwitchDirtyLogging(
    MemSlot slot, const MemorySlotTable::Entry& entry, bool enabled) {
  MemoryRegionOptions options = entry.options;
  options.log_dirty_pages = enabled;
  return SetUserMemoryRegion(slot, SlotFlags(options), entry.guest_address,
                             entry.region->size(), entry.region->data());
}

template <typename ArchVm>
absl::Status KvmVmCore<ArchVm>::EnableManualProtect() {
  // KVM_DIRTY_LOG_INITIALLY_SET stays off: a region's log starts empty, as
  // without manual protection (vm.h).
  kvm_enable_cap enable = {};
  enable.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2;
  enable.args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
  return KvmIoctl(sys_, vm_fd_.get(), KVM_ENABLE_CAP, &enable,
                  "KVM_ENABLE_CAP (KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)");
}

template <typename ArchVm>
absl::Status KvmVmCore<ArchVm>::ClearDirtyPages(
    MemSlot slot, const MemorySlotTable::Entry&, uint64_t first_page,
    uint64_t num_pages, absl::Span<const uint64_t> bitmap) {
  kvm_clear_dirty_log clear = {};
  clear.slot = slot;
  // CheckDirtyLogRange kept num_pages within the region, whose page count
  // KVM_SET_USER_MEMORY_REGION already bounded to 32 bits' worth.
  clear.num_pages = static_cast<uint32_t>(num_pages);
  clear.first_page = first_page;
  // SAFETY: the kernel only reads (num_pages + 63) / 64 words through this
  // pointer (copy_from_user), exactly bitmap.size(); it never writes them.
  clear.dirty_bitmap = const_cast<uint64_t*>(bitmap.data());
  return KvmIoctl(sys_, vm_fd_.get(), KVM_CLEAR_DIRTY_LOG, &clear,
                  absl::StrFormat("KVM_CLEAR_DIRTY_LOG (slot %u, pages [%u, "
                                  "%u))",
                                  slot, first_page, first_page + num_pages));
}

template <typename ArchVm>
absl::Status KvmVmCore<ArchVm>::IoEvent(const EventFd& event,
                                        const IoEventAddress& address,
                                        bool assign) {
  const uint32_t length = address.length;
  RETURN_IF_ERROR(CheckIoEventLength("ioeventfd", length));
  if (length == 0 && (address.space == IoEventAddress::Space::kPio ||
                      address.datamatch.has_value())) {
    return absl::InvalidArgumentError(
        "ioeventfd: length 0 (any) is only for MMIO without a datamatch");
  }
  kvm_ioeventfd request = {};
  request.addr = address.address;
  request.len = length;
  request.fd = event.fd();
  if (address.space == IoEventAddress::Space::kPio) {
    request.flags |= KVM_IOEVENTFD_FLAG_PIO;
  }
  if (address.datamatch.has_value()) {
    request.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
    request.datamatch = *address.datamatch;
  }
  if (!assign) request.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
  return KvmIoctl(
      sys_, vm_fd_.get(), KVM_IOEVENTFD, &request,
      absl::StrFormat("KVM_IOEVENTFD (%s %s %#x len %u)",
                      assign ? "assign" : "deassign",
                      address.space == IoEventAddress::Space::kPio ? "pio"
                                                                   : "mmio",
                      address.address, length));
}

template <typename ArchVm>
absl::Status KvmVmCore<ArchVm>::Irqfd(const EventFd& event, uint32_t gsi,
                                      bool assign) {
  kvm_irqfd request = {};
  request.fd = static_cast<uint32_t>(event.fd());
  request.gsi = gsi;
  request.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN;
  return KvmIoctl(sys_, vm_fd_.get(), KVM_IRQFD, &request,
                  absl::StrFormat("KVM_IRQFD (%s gsi %u)",
                                  assign ? "assign" : "deassign", gsi));
}

template <typename ArchVm>
absl::Status KvmVmCore<ArchVm>::ResampleIrqfd(const EventFd& event,
                                              uint32_t gsi,
                                              const EventFd& resample) {
  if (caps_.irqfd == 0 || caps_.irqfd_resample == 0) {
    return absl::UnimplementedError(absl::StrFormat(
        "register resample irqfd (gsi %u): this KVM lacks "
        "KVM_CAP_IRQFD_RESAMPLE",
        gsi));
  }
  RETURN_IF_ERROR(CheckIrqChip("register resample irqfd", /*full=*/true));
  kvm_irqfd request = {};
  request.fd = static_cast<uint32_t>(event.fd());
  request.gsi = gsi;
  request.flags = KVM_IRQFD_FLAG_RESAMPLE;
  request.resamplefd = static_cast<uint32_t>(resample.fd());
  return KvmIoctl(
      sys_, vm_fd_.get(), KVM_IRQFD, &request,
      absl::StrFormat("KVM_IRQFD (assign gsi %u, resample fd %d)", gsi,
                      resample.fd()));
}

template <typename ArchVm>
uint32_t KvmVmCore<ArchVm>::MaxGsiRoutes() const {
  return caps_.irq_routing > 0 ? static_cast<uint32_t>(caps_.irq_routing) : 0;
}

template <typename ArchVm>
absl::Status KvmVmCore<ArchVm>::CheckMsiDeviceId(const char* operation,
                                                 const MsiMessage& msi) const {
  if (!msi.device_id.has_value()) {
    if (!MsiNeedsDeviceId()) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: MSI (address %#x, data %#x) carries no device id, but the VM's "
        "GICv3 ITS translates by device id (MsiMessage::device_id)",
        operation, msi.address, msi.data));
  }
  // A VM that needs device ids (arm64 with its ITS) takes them: no need to
  // ask the kernel on every MSI.
  if (MsiNeedsDeviceId()) return absl::OkStatus();
  // KVM_CAP_MSI_DEVID is a property of the VM (arm64: true once a GICv3
  // ITS exists), so it is asked now rather than at creation.
  int uses_devid = 0;
  if (device_->caps.check_extension_vm > 0) {
    uses_devid = sys_->Ioctl(vm_fd_.get(), KVM_CHECK_EXTENSION,
                             KVM_CAP_MSI_DEVID);
  }
  if (uses_devid <= 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: MSI (address %#x) carries device id %u, but this VM takes none "
        "(no KVM_CAP_MSI_DEVID: device ids are for a GICv3 ITS)",
        operation, msi.address, *msi.device_id));
  }
  return absl::OkStatus();
}

namespace {

// ToKvmMsi(): `msi` into the address/data/devid fields that struct kvm_msi
// and a routing entry's kvm_irq_routing_msi both have; returns the flags
// their owner carries (KVM_MSI_VALID_DEVID with a device id).
template <typename KvmMsiFields>
uint32_t ToKvmMsi(const MsiMessage& msi, KvmMsiFields& out) {
  out.address_lo = static_cast<uint32_t>(msi.address);
  out.address_hi = static_cast<uint32_t>(msi.address >> 32);
  out.data = msi.data;
  if (!msi.device_id.has_value()) return 0;
  out.devid = *msi.device_id;
  return KVM_MSI_VALID_DEVID;
}

}  // namespace

template <typename ArchVm>
absl::Status KvmVmCore<ArchVm>::SetGsiRouting(
    absl::Span<const IrqRoute> routes) {
  if (caps_.irq_routing <= 0) {
    return absl::UnimplementedError(
        "set GSI routing: this KVM lacks KVM_CAP_IRQ_ROUTING");
  }
  RETURN_IF_ERROR(CheckGsiRoutes(routes, MaxGsiRoutes()));
  for (const IrqRoute& route : routes) {
    if (route.kind != IrqRoute::Kind::kMsi) continue;
    if (!HasMsiController()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "set GSI routing: GSI %u is an MSI route, but the VM has nothing "
          "to take an MSI (arm64: no GICv3 ITS; VmAArch64::CreateGicIts)",
          route.gsi));
    }
    RETURN_IF_ERROR(CheckMsiDeviceId("set GSI routing", route.msi));
  }
  RETURN_IF_ERROR(CheckIrqChip("set GSI routing", /*full=*/false));
  kvm_abi::FlexBuffer<kvm_abi::IrqRoutingHeader, kvm_irq_routing_entry> table(
      routes.size());
  table.header()->nr = static_cast<uint32_t>(routes.size());
  for (size_t i = 0; i < routes.size(); ++i) {
    const IrqRoute& route = routes[i];
    kvm_irq_routing_entry& entry = table.entries()[i];
    entry.gsi = route.gsi;
    if (route.kind == IrqRoute::Kind::kIrqChipPin) {
      entry.type = KVM_IRQ_ROUTING_IRQCHIP;
      entry.u.irqchip.irqchip = route.chip;
      entry.u.irqchip.pin = route.pin;
    } else {
      entry.type = KVM_IRQ_ROUTING_MSI;
      entry.flags = ToKvmMsi(route.msi, entry.u.msi);
    }
  }
  return KvmIoctl(sys_, vm_fd_.get(), kvm_abi::kSetGsiRouting, table.data(),
                  absl::StrFormat("KVM_SET_GSI_ROUTING (%u routes; the "
                                  "previous table stays)",
                                  routes.size()));
}

template <typename ArchVm>
absl::StatusOr<bool> KvmVmCore<ArchVm>::SignalMsi(const MsiMessage& msi) {
  if (caps_.signal_msi <= 0) {
    return absl::UnimplementedError(
        "signal MSI: this KVM lacks KVM_CAP_SIGNAL_MSI");
  }
  if (!HasMsiController()) {
    return absl::UnimplementedError(
        "signal MSI: the VM has nothing to take an MSI (arm64: no GICv3 ITS; "
        "VmAArch64::CreateGicIts)");
  }
  RETURN_IF_ERROR(CheckMsiDeviceId("signal MSI", msi));
  RETURN_IF_ERROR(CheckIrqChip("signal MSI", /*full=*/false));
  kvm_msi request = {};
  request.flags = ToKvmMsi(msi, request);
  // A hot path: the message is formatted only on failure.
  const int delivered = sys_->IoctlPtr(vm_fd_.get(), KVM_SIGNAL_MSI, &request);
  if (delivered < 0) {
    const int error = errno;
    return ErrnoStatus(absl::StrFormat("KVM_SIGNAL_MSI (address %#x, data %#x)",
                                       msi.address, msi.data),
                       error);
  }
  return delivered > 0;
}

// Both architectures' cores, whichever the target is: the code is the same
// and BUILD.bazel select()s the final class that uses one.
template class KvmVmCore<VmX86_64>;
template class KvmVmCore<VmAArch64>;

}  // namespace hv
