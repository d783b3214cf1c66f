#include "testing/fakes/gunyah_fake.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <utility>

#include "absl/strings/str_format.h"
#include "hypervisor/os/memfd.h"
#include "testing/fakes/eventfd_check.h"
#include "testing/fakes/user_memory.h"

namespace hv::testing {

namespace abi = gunyah_abi;

struct GunyahFake::Event {
  enum class Kind { kMmio, kSystemEvent };
  Kind kind = Kind::kMmio;
  uint64_t address = 0;
  bool is_write = false;
  std::vector<uint8_t> data;
  uint16_t exit_type = 0;
};

struct GunyahFake::Vcpu {
  ~Vcpu() {
    if (kernel_view != nullptr) ::munmap(kernel_view, page);
  }
  uint32_t id = 0;
  bool bound = true;  // the GH_FN_VCPU function still exists
  UniqueFd memfd;     // the run page, shared with the backend's mapping
  // SAFETY (of every use): the fake's own MAP_SHARED mapping of the memfd's
  // one page, page aligned; the kernel side of struct gh_vcpu_run.
  abi::VcpuRun* kernel_view = nullptr;
  size_t page = 0;
  // gh_vcpu.state: why GH_VCPU_RUN last returned.
  enum class State { kUnknown, kReady, kMmioRead, kSystemDown };
  State state = State::kUnknown;
  uint32_t mmio_read_len = 0;
};

struct GunyahFake::Vm {
  using Status = VmState::Status;
  struct Region {
    abi::UserspaceMemoryRegion request;
    bool shared_with_guest = true;  // false: added after the start
  };
  struct Irqfd {
    abi::FnIrqfdArg arg;
    UniqueFd eventfd;  // the kernel's reference to the user's eventfd
  };
  struct Ioeventfd {
    // As the kernel's io handler: len and datamatch only with DATAMATCH.
    uint64_t addr = 0;
    uint32_t len = 0;
    uint64_t datamatch = 0;
    bool has_datamatch = false;
    abi::FnIoeventfdArg arg;
    UniqueFd eventfd;
  };

  Status status = Status::kNotStarted;
  bool fd_open = true;
  std::map<uint32_t, Region> regions;
  abi::VmDtbConfig dtb = {};
  bool dtb_set = false;
  std::map<uint32_t, uint64_t> boot_context;
  std::map<uint32_t, std::shared_ptr<Vcpu>> vcpus;
  std::map<uint32_t, Irqfd> irqfds;
  std::vector<Ioeventfd> ioeventfds;
  abi::VmExitInfo exit_info = {};
  std::map<uint32_t, std::deque<Event>> queues;
  std::map<uint32_t, std::vector<uint8_t>> completed_reads;
  std::map<uint32_t, uint64_t> delivered;
  uint64_t premature_injections = 0;
};

struct GunyahFake::FdEntry {
  enum class Kind { kDevice, kVm, kVcpu };
  Kind kind = Kind::kDevice;
  std::shared_ptr<Vm> vm;
  std::shared_ptr<Vcpu> vcpu;
};

namespace {

size_t PageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

bool PageAligned(uint64_t value) { return value % PageSize() == 0; }

// eventfd_ctx_fdget(): EBADF for a closed descriptor, EINVAL for a file
// that is not an eventfd. On success, the fake's own reference (a dup).
int EventfdGet(int fd, UniqueFd& out) {
  if (int error = CheckEventfd(fd)) return -error;
  const int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return -errno;
  out = UniqueFd(dup);
  return 0;
}

// pin_user_pages() of [start, start + size): every page mapped, readable,
// and writable when the guest may write (FOLL_WRITE).
bool HostRangePinnable(uint64_t start, uint64_t size, bool write) {
  return UserRangeMapped(start, size,
                         write ? UserAccess::kReadWrite : UserAccess::kRead);
}

}  // namespace

GunyahFake::GunyahFake(std::string device_path)
    : device_path_(std::move(device_path)) {}

GunyahFake::~GunyahFake() {
  std::lock_guard<std::mutex> lock(mutex_);
  fds_.clear();
  for (const auto& [address, length] : mappings_) ::munmap(address, length);
  mappings_.clear();
}

// --- bookkeeping -------------------------------------------------------------

int GunyahFake::FailOrZero(const std::string& name) {
  return log_.Count(name).value_or(0);
}

int GunyahFake::Record(Call call, int result, int error) {
  call.result = result;
  call.error = result < 0 ? error : 0;
  log_.Add(std::move(call));
  if (result < 0) errno = error;
  return result;
}

int GunyahFake::NewFd(FdEntry entry) {
  const int fd = next_fd_++;
  fds_[fd] = std::make_unique<FdEntry>(std::move(entry));
  return fd;
}

std::shared_ptr<GunyahFake::Vm> GunyahFake::LatestVmLocked() const {
  return latest_vm_.lock();
}

// --- GunyahSys -----------------------------------------------------------

int GunyahFake::Open(const char* path, int flags) {
  std::lock_guard<std::mutex> lock(mutex_);
  Call call;
  call.name = "open";
  call.int_arg = static_cast<uintptr_t>(flags);
  if (int error = FailOrZero("open")) {
    return Record(std::move(call), -1, error);
  }
  if (path == nullptr) return Record(std::move(call), -1, EFAULT);
  if (device_path_ != path) return Record(std::move(call), -1, ENOENT);
  FdEntry entry;
  entry.kind = FdEntry::Kind::kDevice;
  const int fd = NewFd(std::move(entry));
  call.fd = fd;
  return Record(std::move(call), fd, 0);
}

int GunyahFake::Ioctl(int fd, unsigned long request, uintptr_t arg) {
  std::unique_lock<std::mutex> lock(mutex_);
  Call call;
  call.name = GunyahIoctlName(request);
  call.fd = fd;
  call.request = request;
  call.int_arg = arg;
  // Keep the bytes a _IOW request points to (and a function's argument),
  // so tests can check exactly what the backend handed the kernel.
  const uint32_t size = (request >> 16) & 0x3fff;
  if (((request >> 30) & abi::kIocWrite) != 0 && arg != 0) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(arg);
    call.arg.assign(bytes, bytes + size);
    if ((request == abi::kVmAddFunction ||
         request == abi::kVmRemoveFunction) &&
        size == sizeof(abi::FnDesc)) {
      abi::FnDesc desc;
      std::memcpy(&desc, bytes, sizeof(desc));
      if (desc.arg != 0 && desc.arg_size <= abi::kFnMaxArgSize) {
        const auto* fn = reinterpret_cast<const uint8_t*>(desc.arg);
        call.fn_arg.assign(fn, fn + desc.arg_size);
      }
    }
  }
  if (int error = FailOrZero(call.name)) {
    return Record(std::move(call), -1, error);
  }
  auto it = fds_.find(fd);
  if (it == fds_.end()) return Record(std::move(call), -1, EBADF);
  // Copies: a concurrent Close() may drop the entry while a run waits.
  const FdEntry::Kind kind = it->second->kind;
  std::shared_ptr<Vm> vm = it->second->vm;
  std::shared_ptr<Vcpu> vcpu = it->second->vcpu;
  int result = 0;
  switch (kind) {
    case FdEntry::Kind::kDevice:
      result = DeviceIoctl(request, arg, call);
      break;
    case FdEntry::Kind::kVm:
      result = VmIoctl(vm, request, arg, call);
      break;
    case FdEntry::Kind::kVcpu:
      result = VcpuIoctl(vm, vcpu, request, lock);
      break;
  }
  if (result < 0) return Record(std::move(call), -1, -result);
  return Record(std::move(call), result, 0);
}

void* GunyahFake::Mmap(void* addr, size_t length, int prot, int flags, int fd,
                       off_t offset) {
  std::lock_guard<std::mutex> lock(mutex_);
  Call call;
  call.name = "mmap";
  call.fd = fd;
  call.int_arg = length;
  if (int error = FailOrZero("mmap")) {
    Record(std::move(call), -1, error);
    return MAP_FAILED;
  }
  auto it = fds_.find(fd);
  int error = 0;
  if (it == fds_.end()) {
    error = EBADF;
  } else if (it->second->kind != FdEntry::Kind::kVcpu) {
    error = ENODEV;  // /dev/gunyah and VM fds have no mmap
  } else if (offset != 0 || length == 0 || length > PageSize()) {
    // The kernel has only page 0 to give (gh_vcpu_fault); it would map a
    // longer range and fault on it. The fake refuses it up front.
    error = EINVAL;
  }
  if (error != 0) {
    Record(std::move(call), -1, error);
    return MAP_FAILED;
  }
  void* mapping = ::mmap(addr, length, prot, flags,
                         it->second->vcpu->memfd.get(), 0);
  if (mapping == MAP_FAILED) {
    Record(std::move(call), -1, errno);
    return MAP_FAILED;
  }
  mappings_[mapping] = length;
  Record(std::move(call), 0, 0);
  return mapping;
}

int GunyahFake::Munmap(void* addr, size_t length) {
  std::lock_guard<std::mutex> lock(mutex_);
  Call call;
  call.name = "munmap";
  call.int_arg = length;
  const int injected = FailOrZero("munmap");
  auto it = mappings_.find(addr);
  if (it == mappings_.end() || it->second != length) {
    return Record(std::move(call), -1, injected != 0 ? injected : EINVAL);
  }
  ::munmap(addr, length);
  mappings_.erase(it);
  // A failed munmap is reported after the range was released, as a real
  // failure would leave nothing mapped that the caller still tracks.
  if (injected != 0) return Record(std::move(call), -1, injected);
  return Record(std::move(call), 0, 0);
}

int GunyahFake::Close(int fd) {
  std::shared_ptr<Vm> vm;
  std::shared_ptr<Vcpu> vcpu;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Call call;
    call.name = "close";
    call.fd = fd;
    const int injected = FailOrZero("close");
    auto it = fds_.find(fd);
    if (it == fds_.end()) {
      return Record(std::move(call), -1, injected != 0 ? injected : EBADF);
    }
    // Linux releases the descriptor even when close reports an error.
    vm = std::move(it->second->vm);
    vcpu = std::move(it->second->vcpu);
    if (it->second->kind == FdEntry::Kind::kVm && vm != nullptr) {
      vm->fd_open = false;
    }
    fds_.erase(it);
    if (injected != 0) return Record(std::move(call), -1, injected);
    Record(std::move(call), 0, 0);
  }
  // The last references (and with them the VM's eventfd dups and run
  // pages) go outside the lock.
  vcpu.reset();
  vm.reset();
  return 0;
}

// --- /dev/gunyah -------------------------------------------------------------

int GunyahFake::DeviceIoctl(unsigned long request, uintptr_t arg, Call&) {
  if (request != abi::kCreateVm) return -ENOTTY;
  if (arg != 0) return -EINVAL;  // reserved for future use
  auto vm = std::make_shared<Vm>();
  FdEntry entry;
  entry.kind = FdEntry::Kind::kVm;
  entry.vm = vm;
  latest_vm_ = vm;
  return NewFd(std::move(entry));
}

// --- VM fds --------------------------------------------------------------------

int GunyahFake::VmIoctl(const std::shared_ptr<Vm>& vm, unsigned long request,
                        uintptr_t arg, Call&) {
  switch (request) {
    case abi::kVmSetUserMemRegion: {
      abi::UserspaceMemoryRegion region;
      if (int r = CopyFromUser(arg, region)) return -r;
      if ((region.flags & ~abi::kMemAllowAll) != 0) return -EINVAL;
      return SetUserMemRegion(*vm, region);
    }
    case abi::kVmSetDtbConfig: {
      abi::VmDtbConfig config;
      if (int r = CopyFromUser(arg, config)) return -r;
      const uint64_t page = PageSize();
      config.size = (config.size + page - 1) / page * page;
      if (config.guest_phys_addr + config.size < config.guest_phys_addr) {
        return -EOVERFLOW;
      }
      vm->dtb = config;
      vm->dtb_set = true;
      return 0;
    }
    case abi::kVmStart:
      return Start(*vm);
    case abi::kVmAddFunction:
    case abi::kVmRemoveFunction: {
      abi::FnDesc desc;
      if (int r = CopyFromUser(arg, desc)) return -r;
      std::vector<uint8_t> fn_arg;
      if (request == abi::kVmAddFunction && desc.arg_size > abi::kFnMaxArgSize) {
        return -EINVAL;
      }
      if (desc.arg_size > 0) {
        if (desc.arg == 0 || desc.arg_size > abi::kFnMaxArgSize) return -EFAULT;
        const auto* bytes = reinterpret_cast<const uint8_t*>(desc.arg);
        fn_arg.assign(bytes, bytes + desc.arg_size);
      }
      return request == abi::kVmAddFunction
                 ? AddFunction(vm, desc, fn_arg)
                 : RemoveFunction(*vm, desc, fn_arg);
    }
    case abi::kVmSetBootContext: {
      abi::VmBootContext context;
      if (int r = CopyFromUser(arg, context)) return -r;
      if ((context.reg & ~0xffffu) != 0) return -EINVAL;
      const uint32_t set = (context.reg >> abi::kBootContextRegShift) & 0xff;
      const uint32_t index = context.reg & 0xff;
      if ((set == abi::kBootContextSetX && index > 31) ||
          (set == abi::kBootContextSetPc && index != 0) ||
          (set == abi::kBootContextSetSp && index > 2) ||
          set > abi::kBootContextSetSp) {
        return -EINVAL;
      }
      if (vm->status != Vm::Status::kNotStarted) return -EINVAL;
      vm->boot_context[context.reg] = context.value;
      return 0;
    }
    default:
      return -ENOTTY;
  }
}

int GunyahFake::SetUserMemRegion(Vm& vm,
                                 const abi::UserspaceMemoryRegion& region) {
  // gh_vm_mem_alloc(): there is no delete in this revision (size 0 is
  // EINVAL like any unaligned value).
  if (region.memory_size == 0 || !PageAligned(region.memory_size) ||
      !PageAligned(region.userspace_addr) ||
      !PageAligned(region.guest_phys_addr)) {
    return -EINVAL;
  }
  if (region.guest_phys_addr + region.memory_size < region.guest_phys_addr) {
    return -EOVERFLOW;
  }
  if (vm.regions.count(region.label) != 0) return -EEXIST;
  const uint64_t end = region.guest_phys_addr + region.memory_size;
  for (const auto& [label, existing] : vm.regions) {
    const uint64_t start = existing.request.guest_phys_addr;
    if (start < end &&
        region.guest_phys_addr < start + existing.request.memory_size) {
      return -EEXIST;
    }
  }
  if (!HostRangePinnable(region.userspace_addr, region.memory_size,
                         (region.flags & abi::kMemAllowWrite) != 0)) {
    return -EFAULT;
  }
  Vm::Region entry;
  entry.request = region;
  // This revision shares (or lends) a VM's parcels only in gh_vm_start():
  // a region added later is pinned but never reaches the guest.
  entry.shared_with_guest = vm.status == Vm::Status::kNotStarted;
  vm.regions[region.label] = entry;
  return 0;
}

int GunyahFake::Start(Vm& vm) {
  if (vm.status == Vm::Status::kNotStarted) {
    // gh_vm_start(): the devicetree must overlap a region's parcel.
    bool found = false;
    const uint64_t dtb_end = vm.dtb.guest_phys_addr + vm.dtb.size;
    for (const auto& [label, region] : vm.regions) {
      const uint64_t start = region.request.guest_phys_addr;
      if (start < dtb_end &&
          vm.dtb.guest_phys_addr < start + region.request.memory_size) {
        found = true;
        break;
      }
    }
    if (!found) {
      vm.status = Vm::Status::kStartFailed;
      changed_.notify_all();
      return -EINVAL;
    }
    vm.status = Vm::Status::kRunning;
    changed_.notify_all();
    return 0;
  }
  // gh_vm_ensure_started() on a VM that is not (or no longer) running.
  return vm.status == Vm::Status::kRunning ? 0 : -ENODEV;
}

int GunyahFake::AddFunction(const std::shared_ptr<Vm>& vm,
                            const abi::FnDesc& desc,
                            const std::vector<uint8_t>& arg) {
  switch (desc.type) {
    case abi::kFnVcpu: {
      if (arg.size() != sizeof(abi::FnVcpuArg)) return -EINVAL;
      abi::FnVcpuArg vcpu_arg;
      std::memcpy(&vcpu_arg, arg.data(), sizeof(vcpu_arg));
      if (vm->vcpus.count(vcpu_arg.id) != 0) return -EEXIST;
      auto vcpu = std::make_shared<Vcpu>();
      vcpu->id = vcpu_arg.id;
      vcpu->page = PageSize();
      auto memfd = CreateMemfd("gunyah-fake-vcpu-run", vcpu->page);
      if (!memfd.ok()) return -ENOMEM;
      vcpu->memfd = std::move(*memfd);
      void* view = ::mmap(nullptr, vcpu->page, PROT_READ | PROT_WRITE,
                          MAP_SHARED, vcpu->memfd.get(), 0);
      if (view == MAP_FAILED) return -ENOMEM;
      // SAFETY: a fresh MAP_SHARED mapping of the memfd's one page: page
      // aligned and large enough for struct gh_vcpu_run (40 bytes), zeroed
      // as the kernel's alloc_page(__GFP_ZERO) is.
      vcpu->kernel_view = static_cast<abi::VcpuRun*>(view);
      vm->vcpus[vcpu->id] = vcpu;
      FdEntry entry;
      entry.kind = FdEntry::Kind::kVcpu;
      entry.vm = vm;
      entry.vcpu = std::move(vcpu);
      return NewFd(std::move(entry));
    }
    case abi::kFnIrqfd: {
      if (arg.size() != sizeof(abi::FnIrqfdArg)) return -EINVAL;
      abi::FnIrqfdArg irqfd_arg;
      std::memcpy(&irqfd_arg, arg.data(), sizeof(irqfd_arg));
      if ((irqfd_arg.flags & ~abi::kIrqfdLevel) != 0) return -EINVAL;
      Vm::Irqfd irqfd;
      irqfd.arg = irqfd_arg;
      if (int r = EventfdGet(static_cast<int>(irqfd_arg.fd), irqfd.eventfd)) {
        return r;
      }
      // The doorbell's resource ticket: one per label.
      if (vm->irqfds.count(irqfd_arg.label) != 0) return -EEXIST;
      vm->irqfds[irqfd_arg.label] = std::move(irqfd);
      return 0;
    }
    case abi::kFnIoeventfd: {
      if (arg.size() != sizeof(abi::FnIoeventfdArg)) return -EINVAL;
      abi::FnIoeventfdArg io;
      std::memcpy(&io, arg.data(), sizeof(io));
      if (io.len != 0 && io.len != 1 && io.len != 2 && io.len != 4 &&
          io.len != 8) {
        return -EINVAL;
      }
      if (io.addr + io.len < io.addr) return -EINVAL;
      if (io.len == 0 && (io.flags & abi::kIoeventfdDatamatch) != 0) {
        return -EINVAL;
      }
      if ((io.flags & ~abi::kIoeventfdDatamatch) != 0) return -EINVAL;
      Vm::Ioeventfd handler;
      if (int r = EventfdGet(io.fd, handler.eventfd)) return r;
      handler.addr = io.addr;
      handler.arg = io;
      if ((io.flags & abi::kIoeventfdDatamatch) != 0) {
        handler.has_datamatch = true;
        handler.len = io.len;
        handler.datamatch = io.datamatch;
      }
      // gh_vm_add_io_handler(): the handler tree's comparison; a handler
      // without a length equals any handler at the same address.
      for (const Vm::Ioeventfd& other : vm->ioeventfds) {
        if (other.addr != handler.addr) continue;
        if ((other.len == 0) != (handler.len == 0) ||
            (other.len == handler.len && other.datamatch == handler.datamatch)) {
          return -EEXIST;
        }
      }
      vm->ioeventfds.push_back(std::move(handler));
      return 0;
    }
    default:
      // No function module of that type.
      return -ENOENT;
  }
}

int GunyahFake::RemoveFunction(Vm& vm, const abi::FnDesc& desc,
                               const std::vector<uint8_t>& arg) {
  if (arg.empty()) return 0;  // nothing to compare with: the kernel's no-op
  bool removed = false;
  switch (desc.type) {
    case abi::kFnVcpu: {
      if (arg.size() != sizeof(abi::FnVcpuArg)) break;
      abi::FnVcpuArg vcpu_arg;
      std::memcpy(&vcpu_arg, arg.data(), sizeof(vcpu_arg));
      auto it = vm.vcpus.find(vcpu_arg.id);
      if (it != vm.vcpus.end()) {
        it->second->bound = false;  // its fd now runs into ENODEV
        vm.vcpus.erase(it);
        removed = true;
      }
      break;
    }
    case abi::kFnIrqfd: {
      if (arg.size() != sizeof(abi::FnIrqfdArg)) break;
      abi::FnIrqfdArg irqfd_arg;
      std::memcpy(&irqfd_arg, arg.data(), sizeof(irqfd_arg));
      removed = vm.irqfds.erase(irqfd_arg.label) != 0;
      break;
    }
    case abi::kFnIoeventfd: {
      if (arg.size() != sizeof(abi::FnIoeventfdArg)) break;
      abi::FnIoeventfdArg io;
      std::memcpy(&io, arg.data(), sizeof(io));
      // Every ioeventfd at the address goes (the kernel compares addr only).
      const size_t before = vm.ioeventfds.size();
      vm.ioeventfds.erase(
          std::remove_if(vm.ioeventfds.begin(), vm.ioeventfds.end(),
                         [&](const Vm::Ioeventfd& h) { return h.addr == io.addr; }),
          vm.ioeventfds.end());
      removed = vm.ioeventfds.size() != before;
      break;
    }
    default:
      break;
  }
  return removed ? 0 : -ENOENT;
}

// --- vCPU fds ------------------------------------------------------------------

int GunyahFake::VcpuIoctl(const std::shared_ptr<Vm>& vm,
                          const std::shared_ptr<Vcpu>& vcpu,
                          unsigned long request,
                          std::unique_lock<std::mutex>& lock) {
  switch (request) {
    case abi::kVcpuRun:
      return RunVcpu(*vm, *vcpu, lock);
    case abi::kVcpuMmapSize:
      return static_cast<int>(PageSize());
    default:
      return -EINVAL;  // gh_vcpu_ioctl's default
  }
}

bool GunyahFake::CheckSystem(Vm& vm, Vcpu& vcpu) {
  if (vm.status == Vm::Status::kRunning) return true;
  abi::VcpuRun* run = vcpu.kernel_view;
  switch (vm.status) {
    case Vm::Status::kStartFailed:
      run->status.status = abi::kVmStatusLoadFailed;
      break;
    case Vm::Status::kExited:
      run->status.status = abi::kVmStatusExited;
      break;
    default:
      run->status.status = abi::kVmStatusCrashed;
      break;
  }
  run->status.exit_info = vm.exit_info;
  run->exit_reason = abi::kVcpuExitStatus;
  vcpu.state = Vcpu::State::kSystemDown;
  return false;
}

bool GunyahFake::IoeventfdWrite(Vm& vm, uint64_t address,
                                absl::Span<const uint8_t> data) {
  uint64_t value = 0;
  for (size_t i = 0; i < data.size() && i < 8; ++i) {
    value |= static_cast<uint64_t>(data[i]) << (8 * i);
  }
  for (const Vm::Ioeventfd& handler : vm.ioeventfds) {
    if (handler.addr != address) continue;
    if (handler.len != 0 &&
        (handler.len != data.size() || handler.datamatch != value)) {
      continue;
    }
    SignalEventfd(handler.eventfd.get());
    return true;
  }
  return false;
}

int GunyahFake::RunVcpu(Vm& vm, Vcpu& vcpu,
                        std::unique_lock<std::mutex>& lock) {
  if (!vcpu.bound) return -ENODEV;
  // Before a successful start the vCPU has no Gunyah resource.
  if (vm.status == Vm::Status::kNotStarted ||
      vm.status == Vm::Status::kStartFailed) {
    return -ENODEV;
  }
  abi::VcpuRun* run = vcpu.kernel_view;
  switch (vcpu.state) {
    case Vcpu::State::kUnknown:
      if (!CheckSystem(vm, vcpu)) return 0;
      vcpu.state = Vcpu::State::kReady;
      break;
    case Vcpu::State::kMmioRead: {
      // The guest's register receives what user space left in mmio.data.
      const uint32_t len = std::min<uint32_t>(vcpu.mmio_read_len, 8);
      vm.completed_reads[vcpu.id].assign(run->mmio.data, run->mmio.data + len);
      vcpu.state = Vcpu::State::kReady;
      break;
    }
    case Vcpu::State::kSystemDown:
      return 0;  // the same status exit again
    case Vcpu::State::kReady:
      break;
  }
  for (;;) {
    // Polled before every entry into the guest; the kernel never clears it.
    if (__atomic_load_n(&run->immediate_exit, __ATOMIC_SEQ_CST) != 0) {
      return -EINTR;
    }
    if (!CheckSystem(vm, vcpu)) return 0;
    std::deque<Event>& queue = vm.queues[vcpu.id];
    if (queue.empty()) {
      // The guest waits (WFI) until something happens.
      changed_.wait_for(lock, std::chrono::milliseconds(1));
      continue;
    }
    Event event = std::move(queue.front());
    queue.pop_front();
    if (event.kind == Event::Kind::kSystemEvent) {
      vm.status = Vm::Status::kExited;
      vm.exit_info = {};
      vm.exit_info.type = event.exit_type;
      changed_.notify_all();
      CheckSystem(vm, vcpu);
      return 0;
    }
    if (event.is_write && IoeventfdWrite(vm, event.address, event.data)) {
      continue;  // taken in the kernel: no exit
    }
    run->exit_reason = abi::kVcpuExitMmio;
    run->mmio.phys_addr = event.address;
    run->mmio.len = static_cast<uint32_t>(event.data.size());
    run->mmio.is_write = event.is_write ? 1 : 0;
    if (event.is_write) {
      std::memset(run->mmio.data, 0, sizeof(run->mmio.data));
      std::memcpy(run->mmio.data, event.data.data(), event.data.size());
    } else {
      vcpu.state = Vcpu::State::kMmioRead;
      vcpu.mmio_read_len = static_cast<uint32_t>(event.data.size());
    }
    return 0;
  }
}

// --- ScriptedGuest -------------------------------------------------------------

std::deque<GunyahFake::Event>& GunyahFake::QueueFor(Vm& vm, uint32_t vcpu) {
  return vm.queues[vcpu];
}

void GunyahFake::QueueMmio(uint32_t vcpu, uint64_t address, bool is_write,
                           std::vector<uint8_t> data) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::shared_ptr<Vm> vm = LatestVmLocked();
  // Gunyah reports accesses of 1 to 8 bytes (mmio.data is 8 bytes).
  if (vm == nullptr || data.empty() || data.size() > 8) return;
  Event event;
  event.kind = Event::Kind::kMmio;
  event.address = address;
  event.is_write = is_write;
  event.data = std::move(data);
  QueueFor(*vm, vcpu).push_back(std::move(event));
  changed_.notify_all();
}

bool GunyahFake::QueueIo(uint32_t, uint16_t, bool, std::vector<uint8_t>) {
  return false;
}

bool GunyahFake::QueueSystemEvent(uint32_t vcpu, SystemEventKind kind) {
  uint16_t type = 0;
  switch (kind) {
    case SystemEventKind::kShutdown:
      type = abi::kExitTypePsciPowerOff;
      break;
    case SystemEventKind::kReset:
      type = abi::kExitTypePsciSystemReset;
      break;
    case SystemEventKind::kCrash:
      type = abi::kExitTypeWatchdogBite;
      break;
    default:
      return false;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  std::shared_ptr<Vm> vm = LatestVmLocked();
  if (vm == nullptr || vm->status == Vm::Status::kExited) return false;
  Event event;
  event.kind = Event::Kind::kSystemEvent;
  event.exit_type = type;
  QueueFor(*vm, vcpu).push_back(std::move(event));
  changed_.notify_all();
  return true;
}

bool GunyahFake::QueueHalt(uint32_t) { return false; }

std::vector<uint8_t> GunyahFake::CompletedRead(uint32_t vcpu) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::shared_ptr<Vm> vm = LatestVmLocked();
  if (vm == nullptr) return {};
  auto it = vm->completed_reads.find(vcpu);
  return it == vm->completed_reads.end() ? std::vector<uint8_t>{} : it->second;
}

GuestMemory GunyahFake::Memory(const Vm& vm) const {
  return GuestMemory(
      "GunyahFake", "region the guest sees",
      [&vm](uint64_t gpa) -> std::optional<GuestRange> {
        // Regions added after the start never reach the guest. Their host
        // ranges were mapped and readable (writable when the guest may
        // write) when they were added, checked as pin_user_pages does, and
        // stay with the backend's VM while the test reads them.
        for (const auto& [label, region] : vm.regions) {
          const uint64_t start = region.request.guest_phys_addr;
          if (region.shared_with_guest && start <= gpa &&
              gpa - start < region.request.memory_size) {
            return GuestRange{
                start, region.request.memory_size,
                region.request.userspace_addr,
                (region.request.flags & abi::kMemAllowWrite) != 0};
          }
        }
        return std::nullopt;
      });
}

absl::StatusOr<std::vector<uint8_t>> GunyahFake::GuestRead(uint64_t gpa,
                                                           size_t size) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::shared_ptr<Vm> vm = LatestVmLocked();
  if (vm == nullptr) return absl::FailedPreconditionError("no VM");
  return Memory(*vm).Read(gpa, size);
}

absl::Status GunyahFake::GuestWrite(uint64_t gpa,
                                    absl::Span<const uint8_t> data) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::shared_ptr<Vm> vm = LatestVmLocked();
  if (vm == nullptr) return absl::FailedPreconditionError("no VM");
  absl::Status written = Memory(*vm).Write(gpa, data);
  // Not guest memory: the guest would exit with GH_VCPU_EXIT_MMIO, unless
  // an ioeventfd takes the store in the kernel.
  if (absl::IsNotFound(written) && data.size() <= 8 &&
      IoeventfdWrite(*vm, gpa, data)) {
    return absl::OkStatus();
  }
  return written;
}

uint64_t GunyahFake::InterruptsDelivered(uint32_t gsi) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::shared_ptr<Vm> vm = LatestVmLocked();
  if (vm == nullptr) return 0;
  for (auto& [label, irqfd] : vm->irqfds) {
    const uint64_t rings = DrainEventfd(irqfd.eventfd.get());
    if (rings == 0) continue;
    if (vm->status == Vm::Status::kRunning) {
      vm->delivered[label] += rings;
    } else {
      // irqfd_wakeup() before the doorbell exists: "Premature injection".
      vm->premature_injections += rings;
    }
  }
  return vm->delivered[gsi];
}

// --- inspection and faults -----------------------------------------------------

std::vector<GunyahFake::Call> GunyahFake::Calls() const {
  return log_.Calls();
}

void GunyahFake::ClearCalls() { log_.Clear(); }

uint64_t GunyahFake::call_count() const { return log_.count(); }

std::vector<std::string> GunyahFake::CallNames() const { return log_.Names(); }

size_t GunyahFake::open_fds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return fds_.size();
}

size_t GunyahFake::mappings() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return mappings_.size();
}

std::optional<GunyahFake::VmState> GunyahFake::LatestVm() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::shared_ptr<Vm> vm = LatestVmLocked();
  if (vm == nullptr) return std::nullopt;
  VmState state;
  state.status = vm->status;
  state.fd_open = vm->fd_open;
  for (const auto& [label, region] : vm->regions) {
    state.regions.push_back(region.request);
  }
  if (vm->dtb_set) state.dtb = vm->dtb;
  state.boot_context = vm->boot_context;
  for (const auto& [id, vcpu] : vm->vcpus) state.vcpus.push_back(id);
  for (const auto& [label, irqfd] : vm->irqfds) {
    state.irqfd_labels.push_back(label);
  }
  for (const Vm::Ioeventfd& handler : vm->ioeventfds) {
    state.ioeventfds.push_back(handler.arg);
  }
  state.premature_injections = vm->premature_injections;
  return state;
}

void GunyahFake::FailCall(uint64_t index, int error) {
  log_.plan().FailCall(index, error);
}

void GunyahFake::FailIoctl(unsigned long request, int error, int skip) {
  log_.plan().FailNext(GunyahIoctlName(request), error, skip);
}

}  // namespace hv::testing
