#include "testing/fakes/geniezone_fake.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"
#include "testing/fakes/eventfd_check.h"
#include "testing/fakes/user_memory.h"

namespace hv::testing {
namespace {

namespace abi = ::hv::geniezone_abi;

size_t PageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

uint64_t LittleEndian(absl::Span<const uint8_t> data) {
  uint64_t value = 0;
  for (size_t i = 0; i < data.size() && i < 8; ++i) {
    value |= uint64_t{data[i]} << (8 * i);
  }
  return value;
}

uint32_t ToAbiEvent(SystemEventKind kind) {
  switch (kind) {
    case SystemEventKind::kShutdown: return abi::kSystemEventShutdown;
    case SystemEventKind::kReset: return abi::kSystemEventReset;
    case SystemEventKind::kCrash: return abi::kSystemEventCrash;
    case SystemEventKind::kWakeup: return abi::kSystemEventWakeup;
    case SystemEventKind::kOther: break;
  }
  return 0;
}

}  // namespace

// What a queued guest action does when its vCPU runs.
struct GeniezoneFake::Action {
  enum class Kind { kMmio, kSystemEvent, kRaw };
  Kind kind = Kind::kMmio;
  uint64_t address = 0;
  bool is_write = false;
  std::vector<uint8_t> data;
  uint32_t event_type = 0;
  abi::VcpuRun raw = {};
};

struct GeniezoneFake::IoEvent {
  uint64_t addr = 0;
  uint32_t len = 0;
  bool wildcard = true;
  uint64_t datamatch = 0;
  int fd = -1;   // the caller's descriptor (deassign matches it)
  int dup = -1;  // the fake's reference to the eventfd
};

struct GeniezoneFake::IrqfdEntry {
  int fd = -1;
  int dup = -1;
  uint32_t gsi = 0;
  int resample_dup = -1;
};

struct GeniezoneFake::VmModel {
  bool closed = false;
  std::map<uint32_t, abi::UserspaceMemoryRegion> slots;
  std::set<uint32_t> vcpu_ids;
  std::vector<Device> devices;
  std::vector<IoEvent> ioevents;
  std::vector<IrqfdEntry> irqfds;
  std::map<uint32_t, uint64_t> delivered;  // SPI -> injections
  std::map<uint32_t, uint32_t> line_levels;
  std::optional<abi::DtbConfig> dtb;
  std::map<uint32_t, std::deque<Action>> queues;  // by vCPU id
  std::map<uint32_t, std::shared_ptr<VcpuModel>> vcpus;
};

struct GeniezoneFake::VcpuModel {
  uint32_t id = 0;
  std::weak_ptr<VmModel> vm;
  std::map<uint64_t, uint64_t> regs;
  // The kernel's copy of the run struct (vcpu->run in the driver).
  abi::VcpuRun run = {};
  bool mmio_read_pending = false;
  std::vector<uint8_t> completed_read;
  bool running = false;
};

std::shared_ptr<GeniezoneFake> GeniezoneFake::Create(Options options) {
  return std::shared_ptr<GeniezoneFake>(new GeniezoneFake(std::move(options)));
}

GeniezoneFake::GeniezoneFake(Options options) : options_(std::move(options)) {}

GeniezoneFake::~GeniezoneFake() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [fd, entry] : fds_) {
    if (entry.kind == FdKind::kVm && entry.vm != nullptr) ReleaseVm(*entry.vm);
  }
}

bool GeniezoneFake::Faulted(const std::string& name) {
  std::optional<int> error = log_.Count(name);
  if (!error.has_value()) return false;
  errno = *error;
  return true;
}

void GeniezoneFake::Record(Call call) { log_.Add(std::move(call)); }

int GeniezoneFake::RecordErrno(Call call, int result) {
  const int saved = errno;
  call.result = result;
  call.error = result < 0 ? saved : 0;
  Record(std::move(call));
  errno = saved;
  return result;
}

void GeniezoneFake::FailCall(uint64_t index, int error) {
  log_.plan().FailCall(index, error);
}

std::vector<GeniezoneFake::Call> GeniezoneFake::calls() const {
  return log_.Calls();
}

uint64_t GeniezoneFake::call_count() const { return log_.count(); }

std::vector<std::string> GeniezoneFake::CallNames() const {
  return log_.Names();
}

void GeniezoneFake::ClearCalls() { log_.Clear(); }

int GeniezoneFake::NewFd(FdEntry entry) {
  const int fd = next_fd_++;
  fds_.emplace(fd, std::move(entry));
  return fd;
}

void GeniezoneFake::ReleaseVm(VmModel& vm) {
  if (vm.closed) return;
  vm.closed = true;
  for (IoEvent& e : vm.ioevents) ::close(e.dup);
  for (IrqfdEntry& e : vm.irqfds) {
    ::close(e.dup);
    if (e.resample_dup >= 0) ::close(e.resample_dup);
  }
  vm.ioevents.clear();
  vm.irqfds.clear();
  vm.slots.clear();
}

// --- GeniezoneSys
// ---------------------------------------------------------------------

int GeniezoneFake::Open(const char* path, int flags) {
  std::lock_guard<std::mutex> lock(mu_);
  Call call;
  call.kind = Call::Kind::kOpen;
  call.name = absl::StrFormat("open %s", path);
  int result;
  if (Faulted(call.name)) {
    result = -1;
  } else if (path == nullptr || options_.device_path != path) {
    errno = ENOENT;
    result = -1;
  } else if ((flags & O_ACCMODE) != O_RDWR) {
    errno = EACCES;  // the misc device wants read-write
    result = -1;
  } else {
    result = NewFd({FdKind::kDevice, nullptr, nullptr});
  }
  return RecordErrno(std::move(call), result);
}

int GeniezoneFake::Ioctl(int fd, unsigned long request, uintptr_t arg) {
  std::unique_lock<std::mutex> lock(mu_);
  Call call;
  call.kind = Call::Kind::kIoctl;
  call.fd = fd;
  call.request = request;
  call.arg = arg;
  call.name = GeniezoneIoctlName(request);
  int result;
  if (Faulted(call.name)) {
    result = -errno;
  } else {
    auto it = fds_.find(fd);
    if (it == fds_.end()) {
      result = -EBADF;
    } else {
      // Copies, so a Close() on another thread cannot pull the entry away.
      FdEntry entry = it->second;
      switch (entry.kind) {
        case FdKind::kDevice:
          result = DeviceIoctl(request, arg, call);
          break;
        case FdKind::kVm:
          result = VmIoctl(entry.vm, request, arg, call);
          break;
        case FdKind::kVcpu:
          result = VcpuIoctl(*entry.vcpu, request, arg, call, lock);
          break;
        default:
          result = -ENOTTY;
      }
    }
  }
  call.result = result < 0 ? -1 : result;
  call.error = result < 0 ? -result : 0;
  Record(std::move(call));
  if (result < 0) {
    errno = -result;
    return -1;
  }
  return result;
}

void* GeniezoneFake::Mmap(void* addr, size_t length, int prot, int flags,
                          int fd, off_t offset) {
  std::lock_guard<std::mutex> lock(mu_);
  Call call;
  call.kind = Call::Kind::kMmap;
  call.fd = fd;
  call.name = "mmap";
  void* result = MAP_FAILED;
  if (Faulted(call.name)) {
  } else if (fds_.count(fd) != 0) {
    errno = ENODEV;  // the driver's descriptors have no mmap
  } else {
    result = ::mmap(addr, length, prot, flags, fd, offset);
    if (result != MAP_FAILED && (flags & MAP_FIXED) == 0) {
      mappings_[reinterpret_cast<uintptr_t>(result)] = length;
    }
  }
  RecordErrno(std::move(call), result == MAP_FAILED ? -1 : 0);
  return result;
}

int GeniezoneFake::Munmap(void* addr, size_t length) {
  std::lock_guard<std::mutex> lock(mu_);
  Call call;
  call.kind = Call::Kind::kMunmap;
  call.name = "munmap";
  const bool fault = Faulted(call.name);
  const int saved_fault = errno;
  int result = ::munmap(addr, length);
  if (result == 0) mappings_.erase(reinterpret_cast<uintptr_t>(addr));
  if (fault) {
    result = -1;
    errno = saved_fault;
  }
  return RecordErrno(std::move(call), result);
}

int GeniezoneFake::Close(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  Call call;
  call.kind = Call::Kind::kClose;
  call.fd = fd;
  call.name = "close";
  const bool fault = Faulted(call.name);
  const int saved_fault = errno;
  int result = 0;
  auto it = fds_.find(fd);
  if (it == fds_.end()) {
    errno = EBADF;
    result = -1;
  } else {
    // The VM goes with its descriptor (vCPU descriptors do not keep it, as
    // in the driver); a vCPU's id stays taken until the VM goes.
    if (it->second.kind == FdKind::kVm) ReleaseVm(*it->second.vm);
    fds_.erase(it);
    if (fault) {
      errno = saved_fault;
      result = -1;
    }
  }
  return RecordErrno(std::move(call), result);
}

// --- /dev/gzvm ---------------------------------------------------------------------

int GeniezoneFake::DeviceIoctl(unsigned long request, uintptr_t arg,
                               Call& call) {
  switch (request) {
    case abi::kCreateVm: {
      if (arg != 0) return -EINVAL;  // only the ordinary VM type
      auto vm = std::make_shared<VmModel>();
      latest_vm_ = vm;
      return NewFd({FdKind::kVm, vm, nullptr});
    }
    case abi::kCheckExtension: {
      if (arg == 0) return -EINVAL;
      uint64_t cap = 0;
      if (CopyFromUser(&cap, arg, sizeof(cap))) return -EFAULT;
      call.data.assign(reinterpret_cast<uint8_t*>(&cap),
                       reinterpret_cast<uint8_t*>(&cap) + sizeof(cap));
      uint64_t answer;
      if (cap == abi::kCapVmGpaSize && options_.gpa_bits != 0) {
        answer = options_.gpa_bits;
      } else if (cap == abi::kCapProtectedVm) {
        answer = 1;
      } else {
        return -EOPNOTSUPP;
      }
      if (CopyToUser(arg, &answer, sizeof(answer))) return -EFAULT;
      return 0;
    }
    default:
      return -ENOTTY;
  }
}

// --- VM fds --------------------------------------------------------------------------

namespace {

// Copies the struct `arg` points to into `value` and the call record.
template <typename T>
bool CopyArg(uintptr_t arg, T& value, GeniezoneFake::Call& call) {
  if (CopyFromUser(&value, arg, sizeof(T))) return false;
  call.data.assign(reinterpret_cast<const uint8_t*>(&value),
                   reinterpret_cast<const uint8_t*>(&value) + sizeof(T));
  return true;
}

// The ioctl handlers' common start: the struct `arg` points to (a T),
// copied in and recorded, handed to `handler`; its result, or -EFAULT when
// the struct is not readable.
template <typename T, typename Handler>
int WithArg(uintptr_t arg, GeniezoneFake::Call& call, Handler handler) {
  T value;
  if (!CopyArg(arg, value, call)) return -EFAULT;
  return handler(static_cast<const T&>(value));
}

template <size_t N>
bool AllZero(const uint8_t (&bytes)[N]) {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

}  // namespace

int GeniezoneFake::VmIoctl(const std::shared_ptr<VmModel>& vm_ptr,
                      unsigned long request, uintptr_t arg, Call& call) {
  VmModel& vm = *vm_ptr;
  switch (request) {
    case abi::kCheckExtension:
      return DeviceIoctl(request, arg, call);
    case abi::kCreateVcpu: {
      const uint64_t id = arg;
      if (id >= abi::kMaxVcpus) return -EINVAL;
      if (vm.vcpu_ids.count(static_cast<uint32_t>(id)) != 0) return -EEXIST;
      auto vcpu = std::make_shared<VcpuModel>();
      vcpu->id = static_cast<uint32_t>(id);
      vcpu->vm = vm_ptr;
      vm.vcpu_ids.insert(vcpu->id);
      vm.vcpus[vcpu->id] = vcpu;
      return NewFd({FdKind::kVcpu, vm_ptr, vcpu});
    }
    case abi::kSetUserMemoryRegion:
      return WithArg<abi::UserspaceMemoryRegion>(
          arg, call, [&](const auto& r) { return SetUserMemoryRegion(vm, r); });
    case abi::kIrqLine:
      return WithArg<abi::IrqLevel>(arg, call, [&](const auto& level) {
        return IrqLineIoctl(vm, level);
      });
    case abi::kCreateDevice:
      return WithArg<abi::CreateDevice>(
          arg, call, [&](const auto& d) { return CreateDeviceIoctl(vm, d); });
    case abi::kIrqfd:
      return WithArg<abi::Irqfd>(
          arg, call, [&](const auto& irqfd) { return IrqfdIoctl(vm, irqfd); });
    case abi::kIoeventfd:
      return WithArg<abi::Ioeventfd>(
          arg, call, [&](const auto& io) { return IoeventfdIoctl(vm, io); });
    case abi::kEnableCap:
      // The fake models no protected VMs or demand-paging policies.
      return WithArg<abi::EnableCap>(arg, call,
                                     [](const auto&) { return -EINVAL; });
    case abi::kSetDtbConfig:
      // The driver passes the place on to the hypervisor (MT_HVC_GZVM_
      // SET_DTB_CONFIG), which reads the devicetree when the VM boots; the
      // fake boots no guest from it, so it keeps the place for tests.
      return WithArg<abi::DtbConfig>(arg, call, [&](const auto& config) {
        vm.dtb = config;
        return 0;
      });
    default:
      return -ENOTTY;
  }
}

int GeniezoneFake::IrqLineIoctl(VmModel& vm, const abi::IrqLevel& level) {
  const uint32_t type = (level.irq >> abi::kIrqTypeShift) & abi::kIrqTypeMask;
  const uint32_t num = (level.irq >> abi::kIrqNumShift) & abi::kIrqNumMask;
  if (type != abi::kIrqTypeSpi && type != abi::kIrqTypePpi) return -EINVAL;
  if (type == abi::kIrqTypeSpi) {
    if (level.level != 0 && vm.line_levels[num] == 0) ++vm.delivered[num];
    vm.line_levels[num] = level.level != 0 ? 1 : 0;
  }
  return 0;
}

int GeniezoneFake::SetUserMemoryRegion(VmModel& vm,
                                  const abi::UserspaceMemoryRegion& r) {
  if (r.slot >= abi::kMaxMemRegions) return -ENXIO;
  if ((r.flags & ~abi::kUserMemRegionValidFlags) != 0) return -EINVAL;
  const uint64_t page = PageSize();
  // Size 0 is no delete: the driver compares it with the host VMA's size.
  if (r.memory_size == 0 || r.memory_size % page != 0 ||
      r.guest_phys_addr % page != 0 || r.userspace_addr % page != 0) {
    return -EINVAL;
  }
  if (r.guest_phys_addr + r.memory_size < r.guest_phys_addr) return -EINVAL;
  if (options_.gpa_bits != 0 &&
      r.guest_phys_addr + r.memory_size > (uint64_t{1} << options_.gpa_bits)) {
    return -EINVAL;
  }
  if (!UserRangeMapped(r.userspace_addr, r.memory_size, UserAccess::kMapped)) return -EFAULT;
  if (vm.slots.count(r.slot) != 0) return -EEXIST;
  for (const auto& [slot, other] : vm.slots) {
    if (r.guest_phys_addr < other.guest_phys_addr + other.memory_size &&
        other.guest_phys_addr < r.guest_phys_addr + r.memory_size) {
      return -EEXIST;
    }
  }
  vm.slots[r.slot] = r;
  return 0;
}

int GeniezoneFake::CreateDeviceIoctl(VmModel& vm, const abi::CreateDevice& d) {
  if (d.dev_type >= abi::kDevTypeMax || d.flags != 0 || d.id != 0) {
    return -EINVAL;
  }
  if ((d.attr_addr == 0) != (d.attr_size == 0) || d.attr_size > PageSize()) {
    return -EINVAL;
  }
  const uint64_t want =
      d.dev_type == abi::kDevTypeArmVgicV3Dist ? 0x10000 : 0x20000;
  if (d.dev_reg_size < want || d.dev_reg_size % 0x10000 != 0 ||
      d.dev_addr % 0x10000 != 0) {
    return -EINVAL;
  }
  for (const Device& other : vm.devices) {
    if (other.dev_type == d.dev_type) return -EEXIST;
    if (d.dev_addr < other.dev_addr + other.dev_reg_size &&
        other.dev_addr < d.dev_addr + d.dev_reg_size) {
      return -EINVAL;
    }
  }
  vm.devices.push_back({d.dev_type, d.dev_addr, d.dev_reg_size});
  return 0;
}

int GeniezoneFake::IoeventfdIoctl(VmModel& vm, const abi::Ioeventfd& args) {
  if (!AllZero(args.pad)) return -EINVAL;
  switch (args.len) {
    case 0: case 1: case 2: case 4: case 8: break;
    default: return -EINVAL;
  }
  if (args.addr + args.len < args.addr) return -EINVAL;
  if ((args.flags & ~abi::kIoeventfdValidFlagMask) != 0) return -EINVAL;
  if (args.len == 0 && (args.flags & abi::kIoeventfdFlagDatamatch) != 0) {
    return -EINVAL;
  }
  if ((args.flags & abi::kIoeventfdFlagPio) != 0) return -EINVAL;
  if (const int error = CheckEventfd(args.fd); error != 0) return -error;
  const bool wildcard = (args.flags & abi::kIoeventfdFlagDatamatch) == 0;
  if ((args.flags & abi::kIoeventfdFlagDeassign) != 0) {
    for (auto it = vm.ioevents.begin(); it != vm.ioevents.end(); ++it) {
      if (it->fd != args.fd || it->addr != args.addr || it->len != args.len ||
          it->wildcard != wildcard) {
        continue;
      }
      if (!wildcard && it->datamatch != args.datamatch) continue;
      ::close(it->dup);
      vm.ioevents.erase(it);
      return 0;
    }
    return -ENOENT;
  }
  for (const IoEvent& e : vm.ioevents) {
    if (e.addr == args.addr &&
        (e.len == 0 || args.len == 0 ||
         (e.len == args.len &&
          (e.wildcard || wildcard || e.datamatch == args.datamatch)))) {
      return -EEXIST;
    }
    if (args.addr >= e.addr && args.addr < e.addr + e.len) return -EEXIST;
  }
  IoEvent event;
  event.addr = args.addr;
  event.len = args.len;
  event.wildcard = wildcard;
  event.datamatch = wildcard ? 0 : args.datamatch;
  event.fd = args.fd;
  event.dup = ::fcntl(args.fd, F_DUPFD_CLOEXEC, 0);
  if (event.dup < 0) return -ENOMEM;
  vm.ioevents.push_back(event);
  return 0;
}

int GeniezoneFake::IrqfdIoctl(VmModel& vm, const abi::Irqfd& args) {
  if (!AllZero(args.pad)) return -EINVAL;
  if ((args.flags & ~(abi::kIrqfdFlagDeassign | abi::kIrqfdFlagResample)) != 0) {
    return -EINVAL;
  }
  const int fd = static_cast<int>(args.fd);
  if (const int error = CheckEventfd(fd); error != 0) return -error;
  if ((args.flags & abi::kIrqfdFlagDeassign) != 0) {
    // Injections already pending on the eventfd happened before the
    // deassign (the driver injects at write time).
    DrainIrqfds(vm);
    for (auto it = vm.irqfds.begin(); it != vm.irqfds.end();) {
      if (it->fd == fd && it->gsi == args.gsi) {
        ::close(it->dup);
        if (it->resample_dup >= 0) ::close(it->resample_dup);
        it = vm.irqfds.erase(it);
      } else {
        ++it;
      }
    }
    return 0;  // the driver does not report a missing irqfd
  }
  IrqfdEntry entry;
  entry.fd = fd;
  entry.gsi = args.gsi;
  if ((args.flags & abi::kIrqfdFlagResample) != 0) {
    const int resample = static_cast<int>(args.resamplefd);
    if (const int error = CheckEventfd(resample); error != 0) return -error;
    entry.resample_dup = ::fcntl(resample, F_DUPFD_CLOEXEC, 0);
    if (entry.resample_dup < 0) return -ENOMEM;
  }
  for (const IrqfdEntry& other : vm.irqfds) {
    if (other.fd == fd) {
      if (entry.resample_dup >= 0) ::close(entry.resample_dup);
      return -EBUSY;  // this eventfd drives another irq already
    }
  }
  entry.dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (entry.dup < 0) {
    if (entry.resample_dup >= 0) ::close(entry.resample_dup);
    return -ENOMEM;
  }
  vm.irqfds.push_back(entry);
  // An event pending before the assign is injected at once.
  DrainIrqfds(vm);
  return 0;
}

void GeniezoneFake::DrainIrqfds(VmModel& vm) {
  for (const IrqfdEntry& e : vm.irqfds) {
    vm.delivered[e.gsi] += DrainEventfd(e.dup);
  }
}

bool GeniezoneFake::SignalIoevent(VmModel& vm, uint64_t address,
                             absl::Span<const uint8_t> data) {
  for (const IoEvent& e : vm.ioevents) {
    if (e.addr != address) continue;
    if (e.len != 0) {
      if (e.len != data.size()) continue;
      if (!e.wildcard && LittleEndian(data) != e.datamatch) continue;
    }
    SignalEventfd(e.dup);
    return true;
  }
  return false;
}

// --- vCPU fds --------------------------------------------------------------------------

int GeniezoneFake::VcpuIoctl(VcpuModel& vcpu, unsigned long request,
                             uintptr_t arg, Call& call,
                             std::unique_lock<std::mutex>& lock) {
  switch (request) {
    case abi::kRun:
      return Run(vcpu, arg, lock);
    case abi::kGetOneReg:
      return OneRegIoctl(vcpu, arg, false, call);
    case abi::kSetOneReg:
      return OneRegIoctl(vcpu, arg, true, call);
    default:
      return -ENOTTY;
  }
}

int GeniezoneFake::OneRegIoctl(VcpuModel& vcpu, uintptr_t arg, bool write,
                          Call& call) {
  abi::OneReg reg;
  if (!CopyArg(arg, reg, call)) return -EFAULT;
  const uint64_t size = abi::RegSizeBytes(reg.id);
  if (size != 1 && size != 2 && size != 4 && size != 8) return -EINVAL;
  if (!write && !options_.get_one_reg) return -EOPNOTSUPP;
  // The hypervisor's filter: arm64 core registers by their size and
  // place in gzvm_regs (the V registers are 128-bit, so never here), and
  // 64-bit system registers.
  if ((reg.id & abi::kRegArchMask) != abi::kRegArm64) return -EINVAL;
  const uint64_t coproc = reg.id & abi::kRegCoprocMask;
  const uint64_t index = reg.id & abi::kRegIndexMask;
  if (coproc == abi::kRegArmCore) {
    const uint64_t offset = index * 4;
    const bool u64 = size == 8 && offset % 8 == 0 &&
                     offset + 8 <= offsetof(abi::Regs, padding0);
    const bool u32 = size == 4 && (offset == offsetof(abi::Regs, fpsr) ||
                                   offset == offsetof(abi::Regs, fpcr));
    if (!u64 && !u32) return -ENOENT;
  } else if (coproc == abi::kRegArm64Sysreg) {
    if (size != 8 || (reg.id & ~(abi::kRegArchMask | abi::kRegSizeMask |
                                 abi::kRegCoprocMask | abi::kRegIndexMask)) != 0) {
      return -ENOENT;
    }
  } else {
    return -ENOENT;
  }
  uint64_t value = 0;
  if (write) {
    if (CopyFromUser(&value, reg.addr, size)) return -EFAULT;
    vcpu.regs[reg.id] = value;
    return 0;
  }
  auto it = vcpu.regs.find(reg.id);
  if (it != vcpu.regs.end()) value = it->second;
  if (CopyToUser(reg.addr, &value, size)) return -EFAULT;
  return 0;
}

int GeniezoneFake::Run(VcpuModel& vcpu, uintptr_t arg,
                  std::unique_lock<std::mutex>& lock) {
  if (vcpu.running) return -EBUSY;  // the driver's vcpu lock, in effect
  // copy_from_user of the whole struct. The immediate_exit byte is read
  // atomically: hv's Kick() stores it from another thread.
  abi::VcpuRun in;
  if (CopyFromUser(&in, arg, sizeof(in))) return -EFAULT;
  // SAFETY: the copy above proved the caller's struct is mapped (it stays
  // so while GZVM_RUN runs: the caller is blocked in it); only its
  // immediate_exit byte is touched through this pointer, atomically, as hv
  // stores it from other threads. Everything else goes through the copies.
  auto* user = reinterpret_cast<abi::VcpuRun*>(arg);
  in.immediate_exit = __atomic_load_n(&user->immediate_exit, __ATOMIC_SEQ_CST);
  if (in.padding1[0] != 0 || in.padding1[1] != 0 || in.padding1[2] != 0) {
    return -EINVAL;  // "must be zero filled"
  }
  vcpu.run = in;
  if (vcpu.mmio_read_pending) {
    // The answer to the last MMIO read goes to the guest register now.
    vcpu.mmio_read_pending = false;
    const size_t size = std::min<uint64_t>(in.mmio.size, sizeof(in.mmio.data));
    vcpu.completed_read.assign(in.mmio.data, in.mmio.data + size);
  }
  if (in.immediate_exit == 1) return -EINTR;
  std::shared_ptr<VmModel> vm = vcpu.vm.lock();
  if (vm == nullptr || vm->closed) return -EIO;

  // Writes the kernel's copy back out; the immediate_exit byte is stored
  // (atomically) with the value copied in, as the driver's copy-out does.
  auto copy_out = [&]() -> int {
    const auto* bytes = reinterpret_cast<const uint8_t*>(&vcpu.run);
    constexpr size_t kIe = offsetof(abi::VcpuRun, immediate_exit);
    if (CopyToUser(arg, bytes, kIe) ||
        CopyToUser(arg + kIe + 1, bytes + kIe + 1, sizeof(abi::VcpuRun) - kIe - 1)) {
      return -EFAULT;
    }
    __atomic_store_n(&user->immediate_exit, in.immediate_exit, __ATOMIC_SEQ_CST);
    return 0;
  };

  vcpu.running = true;
  int result = 0;
  for (;;) {
    std::deque<Action>& queue = vm->queues[vcpu.id];
    if (queue.empty()) {
      // Guest time passes until something is queued or the vCPU is kicked
      // (the immediate_exit byte set while it runs stands for the signal
      // hv sends with it).
      if (__atomic_load_n(&user->immediate_exit, __ATOMIC_SEQ_CST) == 1) {
        result = copy_out();
        if (result == 0) result = -EINTR;
        break;
      }
      cv_.wait_for(lock, std::chrono::milliseconds(1));
      if (vm->closed) {
        result = -EIO;
        break;
      }
      continue;
    }
    Action action = std::move(queue.front());
    queue.pop_front();
    abi::VcpuRun& run = vcpu.run;
    std::memset(&run.mmio, 0, sizeof(run.padding));
    if (action.kind == Action::Kind::kMmio) {
      if (action.is_write && SignalIoevent(*vm, action.address, action.data)) {
        continue;  // handled in the kernel; the guest runs on
      }
      run.exit_reason = abi::kExitMmio;
      run.mmio.phys_addr = action.address;
      run.mmio.size = action.data.size();
      run.mmio.is_write = action.is_write ? 1 : 0;
      if (action.is_write) {
        std::memcpy(run.mmio.data, action.data.data(),
                    std::min(action.data.size(), sizeof(run.mmio.data)));
      } else {
        vcpu.mmio_read_pending = true;
      }
    } else if (action.kind == Action::Kind::kSystemEvent) {
      run.exit_reason = abi::kExitSystemEvent;
      run.system_event.type = action.event_type;
      run.system_event.ndata = 0;
    } else {
      run.exit_reason = action.raw.exit_reason;
      std::memcpy(run.padding, action.raw.padding, sizeof(run.padding));
    }
    result = copy_out();
    break;
  }
  vcpu.running = false;
  return result;
}

// --- ScriptedGuest ---------------------------------------------------------------------

void GeniezoneFake::Enqueue(uint32_t vcpu, Action action) {
  std::lock_guard<std::mutex> lock(mu_);
  if (latest_vm_ == nullptr) latest_vm_ = std::make_shared<VmModel>();
  latest_vm_->queues[vcpu].push_back(std::move(action));
  cv_.notify_all();
}

void GeniezoneFake::QueueMmio(uint32_t vcpu, uint64_t address, bool is_write,
                         std::vector<uint8_t> data) {
  Enqueue(vcpu,
          Action{Action::Kind::kMmio, address, is_write, std::move(data)});
}

bool GeniezoneFake::QueueIo(uint32_t, uint16_t, bool, std::vector<uint8_t>) {
  return false;
}

bool GeniezoneFake::QueueSystemEvent(uint32_t vcpu, SystemEventKind kind) {
  const uint32_t type = ToAbiEvent(kind);
  if (type == 0) return false;
  Enqueue(vcpu, Action{Action::Kind::kSystemEvent, 0, false, {}, type});
  return true;
}

bool GeniezoneFake::QueueHalt(uint32_t) { return false; }

void GeniezoneFake::QueueRawExit(uint32_t vcpu, const abi::VcpuRun& run) {
  Enqueue(vcpu, Action{Action::Kind::kRaw, 0, false, {}, 0, run});
}

std::vector<uint8_t> GeniezoneFake::CompletedRead(uint32_t vcpu) {
  std::lock_guard<std::mutex> lock(mu_);
  if (latest_vm_ == nullptr) return {};
  auto it = latest_vm_->vcpus.find(vcpu);
  if (it == latest_vm_->vcpus.end()) return {};
  return it->second->completed_read;
}

std::optional<GuestRange> GeniezoneFake::SlotAt(uint64_t gpa) const {
  if (latest_vm_ == nullptr) return std::nullopt;
  std::optional<GuestRange> hit;
  for (const auto& [slot, r] : latest_vm_->slots) {
    if (gpa >= r.guest_phys_addr && gpa - r.guest_phys_addr < r.memory_size) {
      // Writable as far as the slot goes: the host mapping decides (an
      // arena's empty state is read-only there).
      hit = GuestRange{r.guest_phys_addr, r.memory_size, r.userspace_addr};
    }
  }
  return hit;
}

GuestMemory GeniezoneFake::Memory() const {
  // The driver's copy_from_user/copy_to_user: EFAULT where the host
  // mapping refuses the access.
  GuestMemory::Access access;
  access.load = &CopyFromUser;
  access.store = &CopyToUser;
  return GuestMemory("GeniezoneFake", "memory slot",
                     [this](uint64_t gpa) { return SlotAt(gpa); },
                     access);
}

absl::StatusOr<std::vector<uint8_t>> GeniezoneFake::GuestRead(uint64_t gpa,
                                                         size_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  return Memory().Read(gpa, size);
}

absl::Status GeniezoneFake::GuestWrite(uint64_t gpa,
                                       absl::Span<const uint8_t> data) {
  std::lock_guard<std::mutex> lock(mu_);
  if (latest_vm_ == nullptr) {
    return absl::NotFoundError("guest write: no VM");
  }
  if (SignalIoevent(*latest_vm_, gpa, data)) return absl::OkStatus();
  // As the guest's stores reach it: slot by slot, unchecked.
  return Memory().WriteUnchecked(gpa, data);
}

uint64_t GeniezoneFake::InterruptsDelivered(uint32_t gsi) {
  std::lock_guard<std::mutex> lock(mu_);
  if (latest_vm_ == nullptr) return 0;
  DrainIrqfds(*latest_vm_);
  auto it = latest_vm_->delivered.find(gsi);
  return it == latest_vm_->delivered.end() ? 0 : it->second;
}

int GeniezoneFake::GuestEoi(uint32_t gsi) {
  std::lock_guard<std::mutex> lock(mu_);
  if (latest_vm_ == nullptr) return 0;
  DrainIrqfds(*latest_vm_);
  int signalled = 0;
  for (const IrqfdEntry& e : latest_vm_->irqfds) {
    if (e.gsi != gsi || e.resample_dup < 0) continue;
    const uint64_t one = 1;
    if (::write(e.resample_dup, &one, sizeof(one)) == sizeof(one)) ++signalled;
  }
  return signalled;
}

// --- Model queries ---------------------------------------------------------------------

size_t GeniezoneFake::OpenFdCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fds_.size();
}

size_t GeniezoneFake::LiveMappingCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return mappings_.size();
}

std::map<uint32_t, abi::UserspaceMemoryRegion> GeniezoneFake::Slots() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (latest_vm_ == nullptr) return {};
  return latest_vm_->slots;
}

std::vector<GeniezoneFake::Device> GeniezoneFake::Devices() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (latest_vm_ == nullptr) return {};
  return latest_vm_->devices;
}

std::optional<uint64_t> GeniezoneFake::RegisterValue(uint32_t vcpu,
                                                uint64_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (latest_vm_ == nullptr) return std::nullopt;
  auto it = latest_vm_->vcpus.find(vcpu);
  if (it == latest_vm_->vcpus.end()) return std::nullopt;
  auto reg = it->second->regs.find(id);
  if (reg == it->second->regs.end()) return std::nullopt;
  return reg->second;
}

size_t GeniezoneFake::IoeventfdCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_vm_ == nullptr ? 0 : latest_vm_->ioevents.size();
}

size_t GeniezoneFake::IrqfdCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_vm_ == nullptr ? 0 : latest_vm_->irqfds.size();
}

std::optional<abi::DtbConfig> GeniezoneFake::DtbConfig() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (latest_vm_ == nullptr) return std::nullopt;
  return latest_vm_->dtb;
}

uint32_t GeniezoneFake::IrqLineLevel(uint32_t spi) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (latest_vm_ == nullptr) return 0;
  auto it = latest_vm_->line_levels.find(spi);
  return it == latest_vm_->line_levels.end() ? 0 : it->second;
}

}  // namespace hv::testing
