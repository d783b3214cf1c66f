#include "testing/fakes/fake_vm.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vm_checks.h"

namespace hv::testing {
namespace {

// Copies `size` bytes at `from` (this process's memory) to `to`, failing
// with errno set instead of faulting where `from` is unreadable. The kernel
// does the reading: process_vm_readv on this process, or where that is not
// implemented (qemu-user, which runs the --config=aarch64 tests) a write
// of each piece into a pipe, which fails with EFAULT on the same pages.
bool CopyReadableMemory(uint8_t* to, const uint8_t* from, size_t size) {
  struct iovec local = {to, size};
  struct iovec remote = {const_cast<uint8_t*>(from), size};
  const ssize_t copied = ::process_vm_readv(::getpid(), &local, 1, &remote, 1, 0);
  if (copied == static_cast<ssize_t>(size)) return true;
  if (copied >= 0) {
    errno = EFAULT;
    return false;
  }
  if (errno != ENOSYS) return false;

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  bool ok = true;
  // A pipe takes at least a page (PIPE_BUF) at once, so a piece written to
  // an empty pipe either goes in whole or stops at an unreadable byte.
  constexpr size_t kPiece = 4096;
  for (size_t done = 0; ok && done < size;) {
    const size_t piece = std::min(kPiece, size - done);
    const ssize_t written = ::write(fds[1], from + done, piece);
    if (written != static_cast<ssize_t>(piece)) {
      if (written >= 0) errno = EFAULT;
      ok = false;
      break;
    }
    for (size_t got = 0; got < piece;) {
      const ssize_t n = ::read(fds[0], to + done + got, piece - got);
      if (n <= 0) {
        if (n == 0) errno = EIO;
        ok = false;
        break;
      }
      got += static_cast<size_t>(n);
    }
    done += piece;
  }
  const int saved_errno = errno;
  ::close(fds[0]);
  ::close(fds[1]);
  errno = saved_errno;
  return ok;
}

}  // namespace

const char* FakeVmMethodName(FakeVm::Method method) {
  switch (method) {
    case FakeVm::Method::kAddMemoryRegion: return "AddMemoryRegion";
    case FakeVm::Method::kRemoveMemoryRegion: return "RemoveMemoryRegion";
    case FakeVm::Method::kAddFdMapping: return "AddFdMapping";
    case FakeVm::Method::kRemoveMapping: return "RemoveMapping";
    case FakeVm::Method::kGetDirtyLog: return "GetDirtyLog";
    case FakeVm::Method::kRegisterIoEvent: return "RegisterIoEvent";
    case FakeVm::Method::kUnregisterIoEvent: return "UnregisterIoEvent";
    case FakeVm::Method::kRegisterIrqfd: return "RegisterIrqfd";
    case FakeVm::Method::kUnregisterIrqfd: return "UnregisterIrqfd";
    case FakeVm::Method::kSetIrqLine: return "SetIrqLine";
    case FakeVm::Method::kRegisterResampleIrqfd: return "RegisterResampleIrqfd";
    case FakeVm::Method::kSetGsiRouting: return "SetGsiRouting";
    case FakeVm::Method::kSignalMsi: return "SignalMsi";
    case FakeVm::Method::kCreateVcpu: return "CreateVcpu";
  }
  return "?";
}

std::string FakeVm::Call::ToString() const {
  return absl::StrFormat(
      "%s(slot=%u gpa=%#x offset=%#x size=%#x fd=%d fd_offset=%#x prot=%s "
      "read_only=%d cache=%s value=%u) -> %s",
      FakeVmMethodName(method), slot, guest_address, offset, size, fd,
      fd_offset, ProtectionName(prot), options.read_only,
      MemCacheTypeName(options.cache), value, result.ToString());
}

FakeVm::FakeVm(const Options& options)
    : max_slots_(options.max_slots),
      address_limit_(options.address_limit),
      max_gsi_routes_(options.max_gsi_routes),
      capabilities_(options.capabilities),
      table_(options.max_slots, options.address_limit, HostPageSize()) {}

absl::StatusOr<std::unique_ptr<FakeVm>> FakeVm::Create(const Options& options) {
  if (options.max_slots == 0) {
    return absl::InvalidArgumentError("FakeVm needs at least one slot");
  }
  if (options.address_limit == 0 || options.address_limit % HostPageSize()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "FakeVm address limit %#x is not a non-zero page multiple",
        options.address_limit));
  }
  return std::unique_ptr<FakeVm>(new FakeVm(options));
}

void FakeVm::SetCapability(VmCap cap, bool offered) {
  std::lock_guard<std::mutex> lock(mu_);
  if (offered) {
    capabilities_.insert(cap);
  } else {
    capabilities_.erase(cap);
  }
}

void FakeVm::FailNext(Method method, absl::Status status, int skip) {
  std::lock_guard<std::mutex> lock(mu_);
  if (status.ok()) status = absl::InternalError("FailNext given OK");
  injected_[method].push_back(Injected{skip < 0 ? 0 : skip, std::move(status)});
}

std::vector<FakeVm::Call> FakeVm::Calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

std::vector<FakeVm::Call> FakeVm::CallsOf(Method method) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Call> result;
  for (const Call& call : calls_) {
    if (call.method == method) result.push_back(call);
  }
  return result;
}

void FakeVm::ClearCalls() {
  std::lock_guard<std::mutex> lock(mu_);
  calls_.clear();
}

std::vector<IrqRoute> FakeVm::GsiRoutes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return gsi_routes_;
}

void FakeVm::set_recording(bool recording) {
  std::lock_guard<std::mutex> lock(mu_);
  recording_ = recording;
}

std::optional<absl::Status> FakeVm::TakeInjected(Method method) {
  auto it = injected_.find(method);
  if (it == injected_.end() || it->second.empty()) return std::nullopt;
  Injected& next = it->second.front();
  if (next.skip > 0) {
    --next.skip;
    return std::nullopt;
  }
  absl::Status status = std::move(next.status);
  it->second.pop_front();
  return status;
}

absl::Status FakeVm::Record(Call call, absl::Status result) {
  if (recording_) {
    call.result = result;
    calls_.push_back(std::move(call));
  }
  return result;
}

absl::StatusOr<std::vector<uint8_t>> FakeVm::ReadGuest(GuestAddress address,
                                                       uint64_t size) const {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<MemSlot> slot = table_.FindByAddress(address);
  if (!slot.ok()) {
    return absl::NotFoundError(absl::StrFormat(
        "no memory region at guest address %#x (an MMIO exit)", address));
  }
  ASSIGN_OR_RETURN(MemorySlotTable::Entry * entry, table_.Find(*slot));
  const MemoryRegion& region = *entry->region;
  const uint64_t offset = address - entry->guest_address;
  if (size > region.size() - offset) {
    return absl::NotFoundError(absl::StrFormat(
        "guest range [%#x, %#x) runs past the region in slot %u", address,
        address + size, *slot));
  }
  // Every page of the range must be readable in the host mapping, or the
  // copy below would fault: an arena's empty pages are PROT_READ, its fd
  // mappings and whole fd regions carry their own protection.
  if (!region.is_arena() && !region.protection().read) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "slot %u is mapped without read permission", *slot));
  }
  if (region.is_arena()) {
    auto mappings = arena_mappings_.find(*slot);
    if (mappings != arena_mappings_.end()) {
      for (const auto& [start, mapping] : mappings->second) {
        if (start < offset + size && offset < start + mapping.first &&
            !mapping.second.read) {
          return absl::PermissionDeniedError(absl::StrFormat(
              "arena offset %#x of slot %u is mapped without read permission",
              start, *slot));
        }
      }
    }
  }
  // Copy through the kernel, not with memcpy: a page the host mapping cannot
  // read (PROT_NONE, or a shared file mapping past the file's end) then
  // fails the read as it would fail the guest's access, instead of
  // crashing the test. The checks above do not see every such page: an
  // arena's fd mappings are recorded per slot and forgotten when the arena
  // is removed, though they stay in its host mapping across a re-add.
  std::vector<uint8_t> bytes(size);
  if (size == 0) return bytes;
  if (!CopyReadableMemory(bytes.data(), region.data() + offset, size)) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "guest range [%#x, %#x) in slot %u is not readable in the host "
        "mapping (%s)",
        address, address + size, *slot, std::strerror(errno)));
  }
  return bytes;
}

bool FakeVm::CheckCapability(VmCap cap) const {
  if (cap == VmCap::kDirtyLogSwitch || cap == VmCap::kDirtyLogManualProtect) {
    return false;  // logging is fixed when a region is added
  }
  std::lock_guard<std::mutex> lock(mu_);
  return capabilities_.count(cap) != 0;
}

uint32_t FakeVm::MaxMemorySlots() const { return max_slots_; }

uint64_t FakeVm::GuestAddressLimit() const { return address_limit_; }

absl::Status FakeVm::Recorded(Call call,
                              absl::FunctionRef<absl::Status(Call&)> body) {
  std::optional<absl::Status> injected = TakeInjected(call.method);
  absl::Status result =
      injected.has_value() ? *std::move(injected) : body(call);
  return Record(std::move(call), std::move(result));
}

absl::StatusOr<MemSlot> FakeVm::AddMemoryRegionLocked(
    GuestAddress guest_address, std::unique_ptr<MemoryRegion> region,
    const MemoryRegionOptions& options) {
  if (region == nullptr) {
    return absl::InvalidArgumentError("AddMemoryRegion: null region");
  }
  if (options.cache == MemCacheType::kCacheNonCoherent &&
      capabilities_.count(VmCap::kMemNoncoherentDma) == 0) {
    return absl::UnimplementedError(
        "AddMemoryRegion: kCacheNonCoherent needs VmCap::kMemNoncoherentDma, "
        "which this VM does not offer");
  }
  if (options.read_only &&
      capabilities_.count(VmCap::kReadOnlyMemoryRegion) == 0) {
    return absl::UnimplementedError(
        "AddMemoryRegion: read-only regions need "
        "VmCap::kReadOnlyMemoryRegion");
  }
  if (options.log_dirty_pages && capabilities_.count(VmCap::kDirtyLog) == 0) {
    return absl::UnimplementedError(
        "AddMemoryRegion: dirty logging needs VmCap::kDirtyLog");
  }
  ASSIGN_OR_RETURN(MemSlot slot, table_.Check(guest_address, region->size()));
  table_.Insert(slot, guest_address, std::move(region), options);
  return slot;
}

absl::StatusOr<MemSlot> FakeVm::AddMemoryRegion(
    GuestAddress guest_address, std::unique_ptr<MemoryRegion> region,
    const MemoryRegionOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  Call call;
  call.method = Method::kAddMemoryRegion;
  call.guest_address = guest_address;
  call.size = region == nullptr ? 0 : region->size();
  call.fd = region == nullptr ? -1 : region->fd();
  call.options = options;
  MemSlot slot = 0;
  RETURN_IF_ERROR(Recorded(std::move(call), [&](Call& added) -> absl::Status {
    ASSIGN_OR_RETURN(
        slot, AddMemoryRegionLocked(guest_address, std::move(region), options));
    added.slot = slot;
    return absl::OkStatus();
  }));
  return slot;
}

absl::StatusOr<std::unique_ptr<MemoryRegion>> FakeVm::RemoveMemoryRegion(
    MemSlot slot) {
  std::lock_guard<std::mutex> lock(mu_);
  Call call;
  call.method = Method::kRemoveMemoryRegion;
  call.slot = slot;
  std::unique_ptr<MemoryRegion> region;
  RETURN_IF_ERROR(Recorded(std::move(call), [&](Call& removed) -> absl::Status {
    ASSIGN_OR_RETURN(MemorySlotTable::Entry entry, table_.Remove(slot));
    removed.guest_address = entry.guest_address;
    removed.size = entry.region->size();
    removed.options = entry.options;
    arena_mappings_.erase(slot);
    region = std::move(entry.region);
    return absl::OkStatus();
  }));
  return region;
}

std::vector<MemoryRegionInfo> FakeVm::MemoryRegions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_.List();
}

absl::Status FakeVm::ArenaCall(
    Method method, MemSlot slot, uint64_t offset, uint64_t size,
    absl::FunctionRef<void(Call&)> fill,
    absl::FunctionRef<absl::Status(MemoryRegion&)> body) {
  Call call;
  call.method = method;
  call.slot = slot;
  call.offset = offset;
  call.size = size;
  fill(call);
  return Recorded(std::move(call), [&](Call& recorded) -> absl::Status {
    absl::StatusOr<MemorySlotTable::Entry*> entry = table_.Find(recorded.slot);
    if (!entry.ok()) return entry.status();
    recorded.guest_address = (*entry)->guest_address + recorded.offset;
    if (!(*entry)->region->is_arena()) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s: the region in slot %u is not an arena",
                          FakeVmMethodName(recorded.method), recorded.slot));
    }
    return body(*(*entry)->region);
  });
}

absl::Status FakeVm::AddFdMapping(MemSlot slot, uint64_t offset, uint64_t size,
                                  int fd, uint64_t fd_offset, Protection prot) {
  std::lock_guard<std::mutex> lock(mu_);
  return ArenaCall(
      Method::kAddFdMapping, slot, offset, size,
      [&](Call& call) {
        call.fd = fd;
        call.fd_offset = fd_offset;
        call.prot = prot;
      },
      [&](MemoryRegion& arena) -> absl::Status {
        RETURN_IF_ERROR(arena.MapFd(offset, size, fd, fd_offset, prot));
        arena_mappings_[slot][offset] = {size, prot};
        return absl::OkStatus();
      });
}

absl::Status FakeVm::RemoveMapping(MemSlot slot, uint64_t offset,
                                   uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  return ArenaCall(
      Method::kRemoveMapping, slot, offset, size, [](Call&) {},
      [&](MemoryRegion& arena) -> absl::Status {
        RETURN_IF_ERROR(arena.Unmap(offset, size));
        auto& mappings = arena_mappings_[slot];
        for (auto it = mappings.lower_bound(offset);
             it != mappings.end() && it->first < offset + size;) {
          it = mappings.erase(it);
        }
        return absl::OkStatus();
      });
}

absl::StatusOr<std::vector<uint64_t>> FakeVm::GetDirtyLog(MemSlot slot) {
  std::lock_guard<std::mutex> lock(mu_);
  Call call;
  call.method = Method::kGetDirtyLog;
  call.slot = slot;
  std::vector<uint64_t> bitmap;
  RETURN_IF_ERROR(Recorded(std::move(call), [&](Call&) -> absl::Status {
    ASSIGN_OR_RETURN(MemorySlotTable::Entry * entry, table_.Find(slot));
    if (!entry->options.log_dirty_pages) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "GetDirtyLog: slot %u does not log dirty pages", slot));
    }
    // No guest runs in the fake, so no page is ever dirty.
    const uint64_t pages = entry->region->size() / HostPageSize();
    bitmap.assign((pages + 63) / 64, 0);
    return absl::OkStatus();
  }));
  return bitmap;
}

FakeVm::IoEventKey FakeVm::KeyOf(const EventFd& event,
                                 const IoEventAddress& address) {
  return IoEventKey(event.fd(), static_cast<int>(address.space),
                    address.address, address.length,
                    address.datamatch.has_value(),
                    address.datamatch.value_or(0));
}

absl::Status FakeVm::IoEvent(const EventFd& event,
                             const IoEventAddress& address, bool assign) {
  std::lock_guard<std::mutex> lock(mu_);
  Call call;
  call.method = assign ? Method::kRegisterIoEvent : Method::kUnregisterIoEvent;
  call.fd = event.fd();
  call.guest_address = address.address;
  call.size = address.length;
  return Recorded(std::move(call), [&](Call&) -> absl::Status {
    const IoEventKey key = KeyOf(event, address);
    if (assign && !io_events_.insert(key).second) {
      return absl::AlreadyExistsError(
          absl::StrFormat("RegisterIoEvent: fd %d is already registered at %#x",
                          event.fd(), address.address));
    }
    if (!assign && io_events_.erase(key) == 0) {
      return absl::NotFoundError(
          absl::StrFormat("UnregisterIoEvent: fd %d is not registered at %#x",
                          event.fd(), address.address));
    }
    return absl::OkStatus();
  });
}

absl::Status FakeVm::RegisterIoEvent(const EventFd& event,
                                     const IoEventAddress& address) {
  return IoEvent(event, address, true);
}

absl::Status FakeVm::UnregisterIoEvent(const EventFd& event,
                                       const IoEventAddress& address) {
  return IoEvent(event, address, false);
}

absl::Status FakeVm::Irqfd(const EventFd& event, uint32_t gsi, bool assign) {
  std::lock_guard<std::mutex> lock(mu_);
  Call call;
  call.method = assign ? Method::kRegisterIrqfd : Method::kUnregisterIrqfd;
  call.fd = event.fd();
  call.value = gsi;
  return Recorded(std::move(call), [&](Call&) -> absl::Status {
    if (assign && !irqfds_.insert({event.fd(), gsi}).second) {
      return absl::AlreadyExistsError(absl::StrFormat(
          "RegisterIrqfd: fd %d already drives gsi %u", event.fd(), gsi));
    }
    if (!assign && irqfds_.erase({event.fd(), gsi}) == 0) {
      return absl::NotFoundError(absl::StrFormat(
          "UnregisterIrqfd: fd %d does not drive gsi %u", event.fd(), gsi));
    }
    return absl::OkStatus();
  });
}

absl::Status FakeVm::RegisterIrqfd(const EventFd& event, uint32_t gsi) {
  return Irqfd(event, gsi, true);
}

absl::Status FakeVm::UnregisterIrqfd(const EventFd& event, uint32_t gsi) {
  return Irqfd(event, gsi, false);
}

absl::Status FakeVm::SetIrqLine(uint32_t irq, bool level) {
  std::lock_guard<std::mutex> lock(mu_);
  Call call;
  call.method = Method::kSetIrqLine;
  call.value = irq;
  call.size = level ? 1 : 0;
  return Recorded(std::move(call), [&](Call&) {
    irq_lines_[irq] = level;
    return absl::OkStatus();
  });
}

absl::Status FakeVm::SetDirtyLogging(MemSlot slot, bool enabled) {
  return absl::UnimplementedError(absl::StrFormat(
      "SetDirtyLogging (slot %u, %s): FakeVm fixes logging when a region is "
      "added",
      slot, enabled ? "on" : "off"));
}

absl::Status FakeVm::EnableDirtyLogManualProtect() {
  return absl::UnimplementedError(
      "EnableDirtyLogManualProtect: FakeVm has no manual dirty-log "
      "protection");
}

absl::Status FakeVm::ClearDirtyLog(MemSlot slot, uint64_t, uint64_t,
                                   absl::Span<const uint64_t>) {
  return absl::UnimplementedError(absl::StrFormat(
      "ClearDirtyLog (slot %u): FakeVm has no manual dirty-log protection",
      slot));
}

absl::Status FakeVm::RegisterResampleIrqfd(const EventFd& event, uint32_t gsi,
                                           const EventFd& resample) {
  std::lock_guard<std::mutex> lock(mu_);
  if (capabilities_.count(VmCap::kIrqfdResample) == 0) {
    return absl::UnimplementedError(absl::StrFormat(
        "RegisterResampleIrqfd (gsi %u): this FakeVm is not given "
        "VmCap::kIrqfdResample",
        gsi));
  }
  Call call;
  call.method = Method::kRegisterResampleIrqfd;
  call.fd = event.fd();
  call.resample_fd = resample.fd();
  call.value = gsi;
  return Recorded(std::move(call), [&](Call&) -> absl::Status {
    RETURN_IF_ERROR(CheckResampleIrqfdEvents(gsi, event.fd(), resample.fd()));
    // Unregistered with UnregisterIrqfd, like any irqfd.
    if (!irqfds_.insert({event.fd(), gsi}).second) {
      return absl::AlreadyExistsError(absl::StrFormat(
          "RegisterResampleIrqfd: fd %d already drives gsi %u", event.fd(),
          gsi));
    }
    return absl::OkStatus();
  });
}

uint32_t FakeVm::MaxGsiRoutes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return capabilities_.count(VmCap::kGsiRouting) != 0 ? max_gsi_routes_ : 0;
}

absl::Status FakeVm::SetGsiRouting(absl::Span<const IrqRoute> routes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (capabilities_.count(VmCap::kGsiRouting) == 0) {
    return absl::UnimplementedError(absl::StrFormat(
        "SetGsiRouting (%u routes): this FakeVm is not given "
        "VmCap::kGsiRouting",
        routes.size()));
  }
  Call call;
  call.method = Method::kSetGsiRouting;
  call.routes.assign(routes.begin(), routes.end());
  call.size = routes.size();
  return Recorded(std::move(call), [&](Call&) -> absl::Status {
    RETURN_IF_ERROR(CheckGsiRoutes(routes, max_gsi_routes_));
    gsi_routes_.assign(routes.begin(), routes.end());
    return absl::OkStatus();
  });
}

absl::StatusOr<bool> FakeVm::SignalMsi(const MsiMessage& msi) {
  std::lock_guard<std::mutex> lock(mu_);
  if (capabilities_.count(VmCap::kSignalMsi) == 0) {
    return absl::UnimplementedError(absl::StrFormat(
        "SignalMsi (address %#x): this FakeVm is not given VmCap::kSignalMsi",
        msi.address));
  }
  Call call;
  call.method = Method::kSignalMsi;
  call.msi = msi;
  call.guest_address = msi.address;
  call.value = msi.data;
  RETURN_IF_ERROR(
      Recorded(std::move(call), [](Call&) { return absl::OkStatus(); }));
  return true;
}

absl::StatusOr<std::unique_ptr<Vcpu>> FakeVm::CreateVcpu(uint32_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  Call call;
  call.method = Method::kCreateVcpu;
  call.value = id;
  return Recorded(std::move(call), [](Call&) {
    return absl::UnimplementedError(
        "FakeVm runs no guest code and has no vCPUs; use a real backend "
        "(e.g. kvm) for guest execution");
  });
}

}  // namespace hv::testing
