#include "testing/fakes/haxm_fake.h"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace hv::testing {
namespace {

using haxm_abi::DeviceLevel;
using haxm_abi::hax_tunnel;

constexpr uint64_t kPage = haxm_abi::kPageSize;

bool PageAligned(uint64_t value) { return value % kPage == 0; }

// MSRs the fake's vCPUs implement, with their reset values (a subset of
// those core/vcpu.c handles).
const std::map<uint32_t, uint64_t>& DefaultMsrs() {
  static const auto* msrs = new std::map<uint32_t, uint64_t>{
      {0x10, 0},            // IA32_TIME_STAMP_COUNTER
      {0x1b, 0xfee00900},   // IA32_APIC_BASE: enabled, BSP
      {0x174, 0},           // IA32_SYSENTER_CS
      {0x175, 0},           // IA32_SYSENTER_ESP
      {0x176, 0},           // IA32_SYSENTER_EIP
      {0x277, 0x0007040600070406},  // IA32_PAT
      {0xc0000080, 0},      // IA32_EFER
      {0xc0000081, 0},      // IA32_STAR
      {0xc0000082, 0},      // IA32_LSTAR
      {0xc0000083, 0},      // IA32_CSTAR
      {0xc0000084, 0},      // IA32_FMASK
      {0xc0000100, 0},      // IA32_FS_BASE
      {0xc0000101, 0},      // IA32_GS_BASE
      {0xc0000102, 0},      // IA32_KERNEL_GS_BASE
  };
  return *msrs;
}

// The vCPU state HAXM's vcpu_init gives a new vCPU: the x86 reset state.
haxm_abi::vcpu_state_t ResetState() {
  haxm_abi::vcpu_state_t state = {};
  state.rip = 0xfff0;
  state.rflags = 0x2;
  state.cr0 = 0x60000010;
  state.dr6 = 0xffff0ff0;
  state.dr7 = 0x400;
  auto segment = [](uint16_t selector, uint64_t base, uint32_t type) {
    haxm_abi::segment_desc_t s = {};
    s.selector = selector;
    s.base = base;
    s.limit = 0xffff;
    s.ar = type | haxm_abi::kArS | haxm_abi::kArPresent;
    return s;
  };
  state.cs = segment(0xf000, 0xffff0000, 0xb);
  state.ds = state.es = state.fs = state.gs = state.ss = segment(0, 0, 0x3);
  state.tr.limit = 0xffff;
  state.tr.ar = 0xb | haxm_abi::kArPresent;
  state.ldt.limit = 0xffff;
  state.ldt.ar = 0x2 | haxm_abi::kArPresent;
  state.gdt.limit = 0xffff;
  state.idt.limit = 0xffff;
  return state;
}

uint32_t PosixSize(uint32_t code) { return (code >> 16) & 0x3fff; }

}  // namespace

void HaxmFake::PageDeleter::operator()(uint8_t* page) const {
  ::operator delete(page, std::align_val_t(kPage));
}

HaxmFake::HaxmFake(HaxmFakeOptions options)
    : platform_(options.platform), options_(options) {}

HaxmFake::~HaxmFake() = default;

// ---------------------------------------------------------------------------
// Bookkeeping.

int HaxmFake::BeginCall(const std::string& name, const void* input,
                        size_t input_size) {
  HaxmCall call;
  call.name = name;
  if (input != nullptr && input_size > 0) {
    const auto* bytes = static_cast<const uint8_t*>(input);
    call.input.assign(bytes, bytes + input_size);
  }
  log_.Add(std::move(call));
  return log_.Count(name).value_or(0);
}

void HaxmFake::EndCall(int error) {
  log_.UpdateLast([error](HaxmCall& call) { call.error = error; });
}

void HaxmFake::FailCall(size_t call, int error) {
  log_.plan().FailCall(call, error);
}

void HaxmFake::FailNextIoctl(const std::string& name, int error) {
  log_.plan().FailNext(name, error);
}

size_t HaxmFake::call_count() { return log_.count(); }

std::vector<HaxmCall> HaxmFake::Calls() { return log_.Calls(); }

std::vector<std::string> HaxmFake::CallNames() { return log_.Names(); }

void HaxmFake::ClearCalls() { log_.Clear(); }

size_t HaxmFake::OpenHandles() {
  std::lock_guard<std::mutex> lock(mu_);
  return handles_.size();
}

size_t HaxmFake::MappedTunnels() {
  std::lock_guard<std::mutex> lock(mu_);
  size_t mapped = 0;
  for (const auto& [id, vm] : vms_) {
    for (const auto& [vcpu_id, vcpu] : vm->vcpus) mapped += vcpu->tunnel_maps;
  }
  return mapped;
}

size_t HaxmFake::LiveVms() {
  std::lock_guard<std::mutex> lock(mu_);
  return vms_.size();
}

size_t HaxmFake::LiveVcpus() {
  std::lock_guard<std::mutex> lock(mu_);
  size_t live = 0;
  for (const auto& [id, vm] : vms_) live += vm->vcpus.size();
  return live;
}

std::vector<HaxmGuestMapping> HaxmFake::Mappings() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<HaxmGuestMapping> result;
  if (VmModel* vm = LatestVm(); vm != nullptr) {
    for (const auto& [gpa, m] : vm->mappings) {
      result.push_back(
          {m.gpa, m.size, m.va, (m.flags & haxm_abi::kRamInfoRom) != 0});
    }
  }
  return result;
}

size_t HaxmFake::RamBlocks() {
  std::lock_guard<std::mutex> lock(mu_);
  VmModel* vm = LatestVm();
  return vm == nullptr ? 0 : vm->blocks.size();
}

std::optional<haxm_abi::hax_qemu_version> HaxmFake::QemuVersion() {
  std::lock_guard<std::mutex> lock(mu_);
  VmModel* vm = LatestVm();
  return vm == nullptr ? std::nullopt : vm->qemu_version;
}

template <typename T>
absl::StatusOr<T> HaxmFake::OfVcpu(uint32_t vcpu, T VcpuModel::*field) {
  std::lock_guard<std::mutex> lock(mu_);
  VcpuModel* model = LatestVcpu(vcpu);
  if (model == nullptr) return absl::NotFoundError("no such vCPU");
  return model->*field;
}

std::vector<uint8_t> HaxmFake::InjectedVectors(uint32_t vcpu) {
  return OfVcpu(vcpu, &VcpuModel::vectors).value_or(std::vector<uint8_t>());
}

absl::StatusOr<haxm_abi::vcpu_state_t> HaxmFake::VcpuState(uint32_t vcpu) {
  return OfVcpu(vcpu, &VcpuModel::state);
}

absl::StatusOr<haxm_abi::fx_layout> HaxmFake::VcpuFpu(uint32_t vcpu) {
  return OfVcpu(vcpu, &VcpuModel::fpu);
}

absl::StatusOr<uint64_t> HaxmFake::VcpuMsr(uint32_t vcpu, uint32_t index) {
  absl::StatusOr<std::map<uint32_t, uint64_t>> msrs =
      OfVcpu(vcpu, &VcpuModel::msrs);
  if (!msrs.ok()) return msrs.status();
  auto it = msrs->find(index);
  if (it == msrs->end()) return absl::NotFoundError("no such MSR");
  return it->second;
}

std::vector<haxm_abi::hax_cpuid_entry> HaxmFake::VcpuCpuid(uint32_t vcpu) {
  return OfVcpu(vcpu, &VcpuModel::cpuid)
      .value_or(std::vector<haxm_abi::hax_cpuid_entry>());
}

std::vector<std::string> HaxmFake::Violations() {
  std::lock_guard<std::mutex> lock(mu_);
  return violations_;
}

HaxmFake::VmModel* HaxmFake::LatestVm() {
  if (!latest_vm_.has_value()) return nullptr;
  auto it = vms_.find(*latest_vm_);
  return it == vms_.end() ? nullptr : it->second.get();
}

HaxmFake::VcpuModel* HaxmFake::LatestVcpu(uint32_t vcpu) {
  VmModel* vm = LatestVm();
  if (vm == nullptr) return nullptr;
  auto it = vm->vcpus.find(vcpu);
  return it == vm->vcpus.end() ? nullptr : it->second.get();
}

// ---------------------------------------------------------------------------
// Devices and handles.

int HaxmFake::Open(const std::string& path, HaxmHandle* handle) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int error = BeginCall("open " + path, nullptr, 0); error != 0) {
    EndCall(error);
    return error;
  }
  std::optional<HandleModel> model;
  // hax_vm_core_open / hax_vcpu_core_open: a VM or vCPU device opens once.
  const int busy = platform_->kind == haxm_abi::PlatformKind::kPosix
                       ? EBUSY
                       : platform_->errors.unsuccessful;
  bool already_open = false;
  if (path == haxm_abi::SystemDevicePath(*platform_)) {
    model = HandleModel{DeviceLevel::kSystem, 0, 0};
  }
  for (auto& [vm_id, vm] : vms_) {
    if (model.has_value() || already_open) break;
    if (!vm->closed && path == haxm_abi::VmDevicePath(*platform_, vm_id)) {
      if (vm->opened) {
        already_open = true;
      } else {
        vm->opened = true;
        model = HandleModel{DeviceLevel::kVm, vm_id, 0};
      }
      break;
    }
    for (auto& [vcpu_id, vcpu] : vm->vcpus) {
      if (!vcpu->closed &&
          path == haxm_abi::VcpuDevicePath(*platform_, vm_id, vcpu_id)) {
        if (vcpu->opened) {
          already_open = true;
        } else {
          vcpu->opened = true;
          model = HandleModel{DeviceLevel::kVcpu, vm_id, vcpu_id};
        }
        break;
      }
    }
  }
  if (already_open) {
    EndCall(busy);
    return busy;
  }
  if (!model.has_value()) {
    EndCall(platform_->errors.no_device);
    return platform_->errors.no_device;
  }
  const HaxmHandle opened = next_handle_++;
  handles_[opened] = *model;
  *handle = opened;
  EndCall(0);
  return 0;
}

int HaxmFake::Close(HaxmHandle handle) {
  std::lock_guard<std::mutex> lock(mu_);
  const int injected = BeginCall("close", &handle, sizeof(handle));
  auto it = handles_.find(handle);
  if (it == handles_.end()) {
    EndCall(platform_->errors.bad_handle);
    return platform_->errors.bad_handle;
  }
  // Both platforms release the handle even when close reports an error.
  const HandleModel model = it->second;
  handles_.erase(it);
  if (model.level == DeviceLevel::kVcpu) {
    VmModel& vm = *vms_.at(model.vm_id);
    VcpuModel& vcpu = *vm.vcpus.at(model.vcpu_id);
    if (vcpu.tunnel_maps > 0) {
      violations_.push_back(absl::StrFormat(
          "vCPU %u of VM %u closed with its tunnel still in use", vcpu.id,
          vm.id));
    }
    if (vcpu.running) {
      violations_.push_back(absl::StrFormat(
          "vCPU %u of VM %u closed while HAX_VCPU_IOCTL_RUN runs", vcpu.id,
          vm.id));
    }
    // The close drops the last references: HAXM destroys the vCPU.
    vm.vcpus.erase(model.vcpu_id);
    MaybeDestroyVm(model.vm_id);
  } else if (model.level == DeviceLevel::kVm) {
    vms_.at(model.vm_id)->closed = true;
    MaybeDestroyVm(model.vm_id);
  }
  EndCall(injected);
  return injected;
}

void HaxmFake::MaybeDestroyVm(uint32_t vm_id) {
  auto it = vms_.find(vm_id);
  // Each vCPU holds a reference on its VM, as in HAXM.
  if (it != vms_.end() && it->second->closed && it->second->vcpus.empty()) {
    vms_.erase(it);
  }
}

int HaxmFake::MapTunnel(HaxmHandle vcpu, const haxm_abi::hax_tunnel_info& info,
                        HaxmTunnel* tunnel) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int error = BeginCall("map tunnel", &info, sizeof(info)); error != 0) {
    EndCall(error);
    return error;
  }
  auto it = handles_.find(vcpu);
  if (it == handles_.end() || it->second.level != DeviceLevel::kVcpu) {
    EndCall(platform_->errors.bad_handle);
    return platform_->errors.bad_handle;
  }
  VcpuModel& model = *vms_.at(it->second.vm_id)->vcpus.at(it->second.vcpu_id);
  if (info.va != reinterpret_cast<uintptr_t>(model.tunnel.get()) ||
      info.io_va != reinterpret_cast<uintptr_t>(model.io_buffer.get())) {
    EndCall(platform_->errors.invalid_parameter);
    return platform_->errors.invalid_parameter;
  }
  const int error = MapDriverTunnel(*platform_, info, tunnel);
  if (error == 0) ++model.tunnel_maps;
  EndCall(error);
  return error;
}

void HaxmFake::UnmapTunnel(HaxmHandle vcpu, const HaxmTunnel& tunnel) {
  std::lock_guard<std::mutex> lock(mu_);
  BeginCall("unmap tunnel", nullptr, 0);
  auto it = handles_.find(vcpu);
  if (it == handles_.end() || it->second.level != DeviceLevel::kVcpu) {
    violations_.push_back("unmap tunnel on a handle that is not a vCPU");
    EndCall(0);
    return;
  }
  VcpuModel& model = *vms_.at(it->second.vm_id)->vcpus.at(it->second.vcpu_id);
  if (model.tunnel_maps == 0 ||
      tunnel.tunnel != reinterpret_cast<hax_tunnel*>(model.tunnel.get())) {
    violations_.push_back(
        absl::StrFormat("unmap of a tunnel vCPU %u did not map", model.id));
  } else {
    --model.tunnel_maps;
  }
  EndCall(0);
}

uint64_t HaxmFake::CurrentThread() {
  return std::hash<std::thread::id>()(std::this_thread::get_id());
}

int HaxmFake::SignalThread(uint64_t thread) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int error = BeginCall("signal thread", &thread, sizeof(thread));
      error != 0) {
    EndCall(error);
    return error;
  }
  // The signal IPIs the CPU running the guest: that vCPU takes a VM exit.
  for (auto& [vm_id, vm] : vms_) {
    for (auto& [vcpu_id, vcpu] : vm->vcpus) {
      if (vcpu->running && vcpu->run_thread == thread) vcpu->signalled = true;
    }
  }
  cv_.notify_all();
  EndCall(0);
  return 0;
}

// ---------------------------------------------------------------------------
// Ioctls.

int HaxmFake::CheckBuffer(uint32_t code, const void* buffer, uint32_t in_size,
                          uint32_t out_size, size_t need_in, size_t need_out,
                          bool too_small_error) const {
  if (platform_->kind == haxm_abi::PlatformKind::kWindows) {
    if (in_size < need_in || out_size < need_out) {
      return too_small_error ? platform_->errors.buffer_too_small
                             : platform_->errors.invalid_parameter;
    }
    if ((in_size > 0 || out_size > 0) && buffer == nullptr) {
      return platform_->errors.fault;
    }
    return 0;
  }
  // POSIX: the driver copies the size the number encodes to/from the
  // pointer; a smaller caller buffer would be overrun.
  const uint32_t size = PosixSize(code);
  if (size > 0 && (buffer == nullptr || std::max(in_size, out_size) < size)) {
    return platform_->errors.fault;
  }
  return 0;
}

int HaxmFake::Ioctl(HaxmHandle handle, uint32_t code, void* buffer,
                    uint32_t in_size, uint32_t out_size) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = handles_.find(handle);
  const DeviceLevel level =
      it == handles_.end() ? DeviceLevel::kSystem : it->second.level;
  const std::string name = haxm_abi::IoctlName(*platform_, level, code);
  if (int error = BeginCall(name, buffer, buffer == nullptr ? 0 : in_size);
      error != 0) {
    EndCall(error);
    return error;
  }
  if (it == handles_.end()) {
    EndCall(platform_->errors.bad_handle);
    return platform_->errors.bad_handle;
  }
  const HandleModel model = it->second;
  int error;
  switch (model.level) {
    case DeviceLevel::kSystem:
      error = SystemIoctl(code, buffer, in_size, out_size);
      break;
    case DeviceLevel::kVm:
      error = VmIoctl(*vms_.at(model.vm_id), code, buffer, in_size, out_size);
      break;
    case DeviceLevel::kVcpu:
    default:
      error = VcpuIoctl(*vms_.at(model.vm_id)->vcpus.at(model.vcpu_id), code,
                        buffer, in_size, out_size, lock);
      break;
  }
  // Run() may have waited; the last call is still ours (the lock is held
  // again).
  EndCall(error);
  return error;
}

int HaxmFake::SystemIoctl(uint32_t code, void* buffer, uint32_t in_size,
                          uint32_t out_size) {
  const haxm_abi::IoctlCodes& c = platform_->codes;
  const haxm_abi::DriverErrors& e = platform_->errors;
  if (code == c.version) {
    return WriteOut(code, buffer, in_size, out_size, options_.version);
  }
  if (code == c.capability) {
    haxm_abi::hax_capabilityinfo caps = {};
    caps.wstatus = options_.wstatus;
    caps.winfo = options_.winfo;
    caps.win_refcount = 1;
    return WriteOut(code, buffer, in_size, out_size, caps);
  }
  if (code == c.create_vm) {
    if (int error = CheckBuffer(code, buffer, in_size, out_size, 0,
                                sizeof(uint32_t), /*too_small_error=*/true);
        error != 0) {
      return error;
    }
    if ((options_.wstatus & haxm_abi::kCapStatusWorking) == 0) {
      return platform_->kind == haxm_abi::PlatformKind::kPosix ? e.no_memory
                                                               : e.unsuccessful;
    }
    uint32_t id = 0;
    while (id < haxm_abi::kMaxVms && vms_.count(id) != 0) ++id;
    if (id == haxm_abi::kMaxVms) {
      return platform_->kind == haxm_abi::PlatformKind::kPosix ? e.no_memory
                                                               : e.unsuccessful;
    }
    auto vm = std::make_unique<VmModel>();
    vm->id = id;
    vms_[id] = std::move(vm);
    latest_vm_ = id;
    std::memcpy(buffer, &id, sizeof(id));
    return 0;
  }
  if (code == c.set_memlimit) {
    // Not modelled: the backend never issues it.
    violations_.push_back("HAX_IOCTL_SET_MEMLIMIT is not modelled");
    return e.unsuccessful;
  }
  // Windows: STATUS_INVALID_DEVICE_REQUEST. (The Linux port returns 0 for
  // an unknown system ioctl; the fake refuses, so such a bug shows.)
  return e.unknown_ioctl;
}

int HaxmFake::AddBlock(VmModel& vm, uint64_t start, uint64_t size,
                       bool standalone) {
  // handle_alloc_ram / ramblock_add: non-zero, and no overlap.
  if (start == 0 || size == 0 || !PageAligned(start) || !PageAligned(size)) {
    return platform_->errors.unsuccessful;
  }
  for (const Block& block : vm.blocks) {
    if (start < block.start + block.size && block.start < start + size) {
      return platform_->errors.unsuccessful;
    }
  }
  vm.blocks.push_back({start, size, standalone, 0});
  return 0;
}

void HaxmFake::DropBlockRef(VmModel& vm, uint64_t block_start) {
  for (auto it = vm.blocks.begin(); it != vm.blocks.end(); ++it) {
    if (it->start != block_start) continue;
    // A stand-alone block goes away with its last mapping.
    if (--it->refs == 0 && it->standalone) vm.blocks.erase(it);
    return;
  }
}

void HaxmFake::Unmap(VmModel& vm, uint64_t gpa, uint64_t size) {
  const uint64_t end = gpa + size;
  std::vector<Mapping> keep;
  for (auto it = vm.mappings.begin(); it != vm.mappings.end();) {
    const Mapping m = it->second;
    const uint64_t m_end = m.gpa + m.size;
    if (m_end <= gpa || m.gpa >= end) {
      ++it;
      continue;
    }
    it = vm.mappings.erase(it);
    // The pieces outside the range stay, each holding its own reference.
    if (m.gpa < gpa) {
      Mapping left = m;
      left.size = gpa - m.gpa;
      keep.push_back(left);
    }
    if (m_end > end) {
      Mapping right = m;
      right.gpa = end;
      right.size = m_end - end;
      right.va = m.va + (end - m.gpa);
      keep.push_back(right);
    }
    for (Block& block : vm.blocks) {
      if (block.start == m.block_start) {
        block.refs += static_cast<int>((m.gpa < gpa) + (m_end > end));
      }
    }
    DropBlockRef(vm, m.block_start);
  }
  for (const Mapping& m : keep) vm.mappings[m.gpa] = m;
}

int HaxmFake::SetRam2(VmModel& vm, const haxm_abi::hax_set_ram_info2& info) {
  const int invalid = platform_->errors.invalid_parameter;
  if (info.reserved1 != 0 || info.reserved2 != 0) return invalid;
  const uint32_t known = haxm_abi::kRamInfoRom | haxm_abi::kRamInfoStandalone |
                         haxm_abi::kRamInfoInvalid;
  if ((info.flags & ~known) != 0) return invalid;
  if (info.size == 0 || !PageAligned(info.pa_start) ||
      !PageAligned(info.size) || !PageAligned(info.va)) {
    return invalid;
  }
  if (info.pa_start + info.size < info.pa_start) return invalid;
  const bool unmap = (info.flags & haxm_abi::kRamInfoInvalid) != 0;
  if (unmap) {
    // INVALID alone, with va 0.
    if (info.flags != haxm_abi::kRamInfoInvalid || info.va != 0) return invalid;
    Unmap(vm, info.pa_start, info.size);
    return 0;
  }
  if (info.va == 0) return invalid;
  uint64_t block_start = 0;
  if (info.flags & haxm_abi::kRamInfoStandalone) {
    if ((options_.winfo & haxm_abi::kCapImplicitRamblock) == 0) return invalid;
    if (int error = AddBlock(vm, info.va, info.size, true); error != 0) {
      return invalid;
    }
    block_start = info.va;
  } else {
    const Block* found = nullptr;
    for (const Block& block : vm.blocks) {
      if (info.va >= block.start &&
          info.va + info.size <= block.start + block.size) {
        found = &block;
      }
    }
    if (found == nullptr) return invalid;
    block_start = found->start;
  }
  Unmap(vm, info.pa_start, info.size);
  for (Block& block : vm.blocks) {
    if (block.start == block_start) ++block.refs;
  }
  vm.mappings[info.pa_start] =
      Mapping{info.pa_start, info.size, info.va, info.flags, block_start};
  return 0;
}

int HaxmFake::VmIoctl(VmModel& vm, uint32_t code, void* buffer,
                      uint32_t in_size, uint32_t out_size) {
  const haxm_abi::IoctlCodes& c = platform_->codes;
  const haxm_abi::DriverErrors& e = platform_->errors;
  if (code == c.vm_vcpu_create) {
    uint32_t id;
    if (int error = ReadIn(code, buffer, in_size, out_size, &id)) return error;
    // vcpu_create fails for ids >= HAX_MAX_VCPUS and (its device name being
    // taken) for an id that exists.
    if (id >= haxm_abi::kMaxVcpus || vm.vcpus.count(id) != 0) {
      return e.unsuccessful;
    }
    auto vcpu = std::make_unique<VcpuModel>();
    vcpu->vm_id = vm.id;
    vcpu->id = id;
    // Page-aligned pages, as HAXM maps the tunnel and the I/O buffer.
    vcpu->tunnel.reset(
        static_cast<uint8_t*>(::operator new(kPage, std::align_val_t(kPage))));
    vcpu->io_buffer.reset(
        static_cast<uint8_t*>(::operator new(kPage, std::align_val_t(kPage))));
    std::memset(vcpu->tunnel.get(), 0, kPage);
    std::memset(vcpu->io_buffer.get(), 0, kPage);
    vcpu->state = ResetState();
    vcpu->fpu.fcw = 0x37f;
    vcpu->fpu.mxcsr = 0x1f80;
    vcpu->fpu.mxcsr_mask = 0xffff;
    vcpu->msrs = DefaultMsrs();
    if (latest_vm_ == vm.id) {
      auto early = early_script_.find(id);
      if (early != early_script_.end()) {
        vcpu->script = std::move(early->second);
        early_script_.erase(early);
      }
    }
    vm.vcpus[id] = std::move(vcpu);
    return 0;
  }
  if (code == c.vm_alloc_ram) {
    haxm_abi::hax_alloc_ram_info info;
    if (int error = ReadIn(code, buffer, in_size, out_size, &info)) {
      return error;
    }
    return AddBlock(vm, info.va, info.size, false);
  }
  if (code == c.vm_add_ramblock) {
    if ((options_.winfo & haxm_abi::kCap64BitRamblock) == 0) {
      return platform_->kind == haxm_abi::PlatformKind::kWindows
                 ? e.invalid_parameter
                 : e.unknown_ioctl;
    }
    haxm_abi::hax_ramblock_info info;
    if (int error = ReadIn(code, buffer, in_size, out_size, &info)) {
      return error;
    }
    if (info.reserved != 0) return e.invalid_parameter;
    return AddBlock(vm, info.start_va, info.size, false);
  }
  if (code == c.vm_set_ram2) {
    haxm_abi::hax_set_ram_info2 info;
    if (int error = ReadIn(code, buffer, in_size, out_size, &info)) {
      return error;
    }
    return SetRam2(vm, info);
  }
  if (code == c.vm_notify_qemu_version) {
    haxm_abi::hax_qemu_version version;
    if (int error = ReadIn(code, buffer, in_size, out_size, &version)) {
      return error;
    }
    vm.qemu_version = version;
    return 0;
  }
  if (code == c.vm_set_ram || code == c.vm_protect_ram) {
    violations_.push_back(absl::StrCat(
        haxm_abi::IoctlName(*platform_, DeviceLevel::kVm, code),
        " is not modelled"));
    return e.unsuccessful;
  }
  // Windows: STATUS_INVALID_PARAMETER. (The Linux port returns 0 here.)
  return platform_->kind == haxm_abi::PlatformKind::kWindows
             ? e.invalid_parameter
             : e.unknown_ioctl;
}

int HaxmFake::MsrIoctl(VcpuModel& vcpu, bool set, void* buffer,
                       uint32_t in_size) {
  haxm_abi::hax_msr_data data;
  std::memcpy(&data, buffer, sizeof(data));
  const bool windows = platform_->kind == haxm_abi::PlatformKind::kWindows;
  // Both ports refuse nr_msr >= HAX_MAX_MSR_ARRAY (Linux with -EFAULT).
  if (data.nr_msr >= haxm_abi::kMaxMsrs ||
      (windows && data.nr_msr >= in_size / sizeof(haxm_abi::vmx_msr))) {
    return windows ? platform_->errors.invalid_parameter
                   : platform_->errors.fault;
  }
  uint16_t i = 0;
  for (; i < data.nr_msr; ++i) {
    auto it = vcpu.msrs.find(static_cast<uint32_t>(data.entries[i].entry));
    if (it == vcpu.msrs.end()) break;
    if (set) {
      it->second = data.entries[i].value;
    } else {
      data.entries[i].value = it->second;
    }
  }
  data.done = i;
  if (set && !windows) {
    // The Linux port computes `done` for SET_MSRS but never copies it back.
    return 0;
  }
  std::memcpy(buffer, &data, sizeof(data));
  return 0;
}

int HaxmFake::SetCpuid(VcpuModel& vcpu, void* buffer, uint32_t in_size) {
  const uint8_t* source = static_cast<const uint8_t*>(buffer);
  haxm_abi::hax_cpuid header;
  if (platform_->kind == haxm_abi::PlatformKind::kPosix) {
    // The argument is the address of a pointer to the hax_cpuid.
    const void* pointer;
    std::memcpy(&pointer, buffer, sizeof(pointer));
    if (pointer == nullptr) return platform_->errors.fault;
    source = static_cast<const uint8_t*>(pointer);
    std::memcpy(&header, source, sizeof(header));
    if (header.total > haxm_abi::kMaxCpuidEntries) return E2BIG;
  } else {
    if (in_size < sizeof(header)) return platform_->errors.invalid_parameter;
    std::memcpy(&header, source, sizeof(header));
    if (in_size < sizeof(header) +
                      uint64_t{header.total} * sizeof(haxm_abi::hax_cpuid_entry)) {
      return platform_->errors.invalid_parameter;
    }
    if (header.total > haxm_abi::kMaxCpuidEntries) {
      return platform_->errors.unsuccessful;
    }
  }
  vcpu.cpuid.resize(header.total);
  std::memcpy(vcpu.cpuid.data(), source + sizeof(header),
              header.total * sizeof(haxm_abi::hax_cpuid_entry));
  return 0;
}

int HaxmFake::VcpuIoctl(VcpuModel& vcpu, uint32_t code, void* buffer,
                        uint32_t in_size, uint32_t out_size,
                        std::unique_lock<std::mutex>& lock) {
  const haxm_abi::IoctlCodes& c = platform_->codes;
  const haxm_abi::DriverErrors& e = platform_->errors;
  if (code == c.vcpu_run) return Run(vcpu, lock);
  if (code == c.vcpu_setup_tunnel) {
    haxm_abi::hax_tunnel_info info = {};
    info.va = reinterpret_cast<uintptr_t>(vcpu.tunnel.get());
    info.io_va = reinterpret_cast<uintptr_t>(vcpu.io_buffer.get());
    info.size = static_cast<uint16_t>(kPage);
    return WriteOut(code, buffer, in_size, out_size, info);
  }
  if (code == c.vcpu_get_regs || code == c.vcpu_set_regs) {
    if (code == c.vcpu_set_regs) {
      // vcpu_set_regs takes everything but EFER (an MSR), the sysenter and
      // activity fields.
      haxm_abi::vcpu_state_t in;
      if (int error = ReadIn(code, buffer, in_size, out_size, &in)) {
        return error;
      }
      const haxm_abi::vcpu_state_t old = vcpu.state;
      vcpu.state = in;
      vcpu.state.efer = old.efer;
      vcpu.state.sysenter_cs = old.sysenter_cs;
      vcpu.state.sysenter_eip = old.sysenter_eip;
      vcpu.state.sysenter_esp = old.sysenter_esp;
      vcpu.state.activity_state = old.activity_state;
      vcpu.state.interruptibility_state = old.interruptibility_state;
      vcpu.state.pde = old.pde;
      return 0;
    }
    if (int error = CheckBuffer(code, buffer, in_size, out_size, 0,
                                sizeof(haxm_abi::vcpu_state_t))) {
      return error;
    }
    // vcpu_get_regs leaves EFER as the caller had it.
    haxm_abi::vcpu_state_t out = vcpu.state;
    std::memcpy(&out.efer,
                static_cast<const uint8_t*>(buffer) +
                    offsetof(haxm_abi::vcpu_state_t, efer),
                sizeof(out.efer));
    std::memcpy(buffer, &out, sizeof(out));
    return 0;
  }
  if (code == c.vcpu_get_fpu || code == c.vcpu_set_fpu) {
    return code == c.vcpu_set_fpu
               ? ReadIn(code, buffer, in_size, out_size, &vcpu.fpu)
               : WriteOut(code, buffer, in_size, out_size, vcpu.fpu);
  }
  if (code == c.vcpu_get_msrs || code == c.vcpu_set_msrs) {
    const bool set = code == c.vcpu_set_msrs;
    // Windows: SET needs both buffers, GET the output one.
    if (int error = CheckBuffer(code, buffer, in_size, out_size,
                                set ? sizeof(haxm_abi::hax_msr_data) : 0,
                                sizeof(haxm_abi::hax_msr_data));
        error != 0) {
      return error;
    }
    return MsrIoctl(vcpu, set, buffer,
                    platform_->kind == haxm_abi::PlatformKind::kWindows && !set
                        ? out_size
                        : in_size);
  }
  if (code == c.vcpu_interrupt) {
    uint32_t vector;
    if (int error = ReadIn(code, buffer, in_size, out_size, &vector)) {
      return error;
    }
    vcpu.vectors.push_back(static_cast<uint8_t>(vector));
    return 0;
  }
  if (code == c.vcpu_set_cpuid &&
      (options_.winfo & haxm_abi::kCapCpuid) != 0) {
    if (platform_->kind == haxm_abi::PlatformKind::kPosix) {
      if (int error =
              CheckBuffer(code, buffer, in_size, out_size, sizeof(void*), 0);
          error != 0) {
        return error;
      }
    }
    return SetCpuid(vcpu, buffer, in_size);
  }
  if (c.vcpu_kickoff != 0 && code == c.vcpu_kickoff) {
    // vcpu_takeoff: IPI the CPU running the vCPU.
    if (vcpu.running) vcpu.signalled = true;
    cv_.notify_all();
    return 0;
  }
  if (code == c.vcpu_debug) {
    violations_.push_back("HAX_IOCTL_VCPU_DEBUG is not modelled");
    return e.unsuccessful;
  }
  // Windows: STATUS_INVALID_PARAMETER; Linux: -ENOSYS.
  return platform_->kind == haxm_abi::PlatformKind::kWindows
             ? e.invalid_parameter
             : e.unknown_ioctl;
}

// ---------------------------------------------------------------------------
// Running the guest.

void HaxmFake::FillExit(VcpuModel& vcpu, const Event& event) {
  auto* tunnel = reinterpret_cast<hax_tunnel*>(vcpu.tunnel.get());
  tunnel->exit_status = event.status;
  tunnel->exit_reason = event.reason;
  __atomic_store_n(reinterpret_cast<int32_t*>(
                       vcpu.tunnel.get() +
                       offsetof(hax_tunnel, ready_for_interrupt_injection)),
                   event.ready, __ATOMIC_SEQ_CST);
  uint8_t* io_buffer = vcpu.io_buffer.get();
  if (event.status == haxm_abi::kExitIo) {
    tunnel->io.direction = event.direction;
    tunnel->io.df = event.df;
    tunnel->io.size = event.size;
    tunnel->io.port = event.port;
    tunnel->io.count = event.count;
    tunnel->io.flags = event.flags;
    std::memset(io_buffer, 0, haxm_abi::kIoBufferSize);
    if (event.direction == haxm_abi::kIoOut) {
      std::memcpy(io_buffer, event.data.data(), event.data.size());
    }
  } else if (event.status == haxm_abi::kExitFastMmio) {
    haxm_abi::hax_fastmmio mmio = {};
    mmio.gpa = event.gpa;
    mmio.size = static_cast<uint8_t>(event.data.size());
    mmio.direction = event.mmio_direction;
    if (event.mmio_direction == haxm_abi::kMmioWrite) {
      std::memcpy(&mmio.value, event.data.data(), event.data.size());
    }
    std::memcpy(io_buffer, &mmio, sizeof(mmio));
  }
}

int HaxmFake::Run(VcpuModel& vcpu, std::unique_lock<std::mutex>& lock) {
  auto* tunnel = reinterpret_cast<hax_tunnel*>(vcpu.tunnel.get());
  uint32_t* user_event = reinterpret_cast<uint32_t*>(
      vcpu.tunnel.get() + offsetof(hax_tunnel, user_event_pending));
  const uint32_t* exit_reason = reinterpret_cast<const uint32_t*>(
      vcpu.tunnel.get() + offsetof(hax_tunnel, exit_reason));
  // handle_io_post / the emulator's completion: what the last I/O read or
  // MMIO read returned reaches the guest now.
  const uint8_t* io_buffer = vcpu.io_buffer.get();
  if (tunnel->exit_status == haxm_abi::kExitIo &&
      tunnel->io.direction == haxm_abi::kIoIn) {
    vcpu.completed_read.assign(
        io_buffer, io_buffer + uint32_t{tunnel->io.size} * tunnel->io.count);
  } else if (tunnel->exit_status == haxm_abi::kExitFastMmio) {
    haxm_abi::hax_fastmmio mmio;
    std::memcpy(&mmio, io_buffer, sizeof(mmio));
    if (mmio.direction == haxm_abi::kMmioRead) {
      const uint8_t* value = io_buffer + offsetof(haxm_abi::hax_fastmmio, value);
      vcpu.completed_read.assign(value, value + mmio.size);
    }
  }
  // Only the last exit's data is pending; a paused return must not replay it.
  tunnel->exit_status = 0;
  if (__atomic_load_n(exit_reason, __ATOMIC_SEQ_CST) == haxm_abi::kExitPaused) {
    tunnel->exit_status = haxm_abi::kExitPaused;
    return 0;
  }
  vcpu.running = true;
  vcpu.run_thread = CurrentThread();
  for (;;) {
    while (!vcpu.script.empty()) {
      Event event = std::move(vcpu.script.front());
      vcpu.script.pop_front();
      if (event.needs_window && tunnel->request_interrupt_window == 0) {
        // Without the request HAXM does not report the window.
        continue;
      }
      FillExit(vcpu, event);
      vcpu.running = false;
      return 0;
    }
    // A resumable VM exit with user_event_pending set leaves with
    // HAX_EXIT_INTERRUPT (vcpu_event_pending clears the bit).
    if (__atomic_fetch_and(user_event, ~uint32_t{1}, __ATOMIC_SEQ_CST) & 1) {
      break;
    }
    // The kick signal's IPI forces a VM exit: HAX_EXIT_INTERRUPT.
    if (vcpu.signalled) break;
    cv_.wait(lock);
  }
  vcpu.signalled = false;
  vcpu.running = false;
  Event exit;
  exit.status = haxm_abi::kExitInterrupt;
  exit.ready = 1;
  FillExit(vcpu, exit);
  return 0;
}

// ---------------------------------------------------------------------------
// The scripted guest.

void HaxmFake::Queue(uint32_t vcpu, Event event) {
  std::lock_guard<std::mutex> lock(mu_);
  VcpuModel* model = LatestVcpu(vcpu);
  if (model == nullptr) {
    early_script_[vcpu].push_back(std::move(event));
  } else {
    model->script.push_back(std::move(event));
  }
  cv_.notify_all();
}

void HaxmFake::QueueMmio(uint32_t vcpu, uint64_t address, bool is_write,
                         std::vector<uint8_t> data) {
  Event event;
  event.status = haxm_abi::kExitFastMmio;
  event.reason = 48;  // VMX exit reason: EPT violation
  event.gpa = address;
  event.mmio_direction = is_write ? haxm_abi::kMmioWrite : haxm_abi::kMmioRead;
  data.resize(std::min<size_t>(data.size(), sizeof(uint64_t)));
  event.data = std::move(data);
  Queue(vcpu, std::move(event));
}

bool HaxmFake::QueueIo(uint32_t vcpu, uint16_t port, bool is_write,
                       std::vector<uint8_t> data) {
  Event event;
  event.status = haxm_abi::kExitIo;
  event.reason = 30;  // VMX exit reason: I/O instruction
  event.direction = is_write ? haxm_abi::kIoOut : haxm_abi::kIoIn;
  event.size = static_cast<uint16_t>(data.size());
  event.port = port;
  event.count = 1;
  event.data = std::move(data);
  Queue(vcpu, std::move(event));
  return true;
}

void HaxmFake::QueueStringIo(uint32_t vcpu, uint16_t port, bool is_write,
                             uint8_t size, uint16_t count, bool downwards,
                             std::vector<uint8_t> data) {
  Event event;
  event.status = haxm_abi::kExitIo;
  event.reason = 30;
  event.direction = is_write ? haxm_abi::kIoOut : haxm_abi::kIoIn;
  event.df = downwards ? 1 : 0;
  event.size = size;
  event.port = port;
  event.count = count;
  event.flags = haxm_abi::kIoFlagString;
  data.resize(std::min<size_t>(data.size(), haxm_abi::kIoBufferSize));
  event.data = std::move(data);
  Queue(vcpu, std::move(event));
}

bool HaxmFake::QueueSystemEvent(uint32_t, SystemEventKind) {
  // HAXM has no reset/shutdown request exit; its vCPU panic
  // (HAX_EXIT_STATECHANGE) is QueueExit(vcpu, kExitStateChange).
  return false;
}

bool HaxmFake::QueueHalt(uint32_t vcpu) {
  Event event;
  event.status = haxm_abi::kExitHlt;
  event.reason = 12;  // VMX exit reason: HLT
  Queue(vcpu, std::move(event));
  return true;
}

void HaxmFake::QueueHostInterrupt(uint32_t vcpu) {
  Event event;
  event.status = haxm_abi::kExitInterrupt;
  event.reason = 1;  // VMX exit reason: external interrupt
  event.ready = 0;
  Queue(vcpu, std::move(event));
}

void HaxmFake::QueueInterruptWindow(uint32_t vcpu) {
  Event event;
  event.status = haxm_abi::kExitInterrupt;
  event.reason = 7;  // VMX exit reason: interrupt window
  event.ready = 1;
  event.needs_window = true;
  Queue(vcpu, std::move(event));
}

void HaxmFake::QueueExit(uint32_t vcpu, uint32_t status, uint32_t reason) {
  Event event;
  event.status = status;
  event.reason = reason;
  Queue(vcpu, std::move(event));
}

std::vector<uint8_t> HaxmFake::CompletedRead(uint32_t vcpu) {
  return OfVcpu(vcpu, &VcpuModel::completed_read)
      .value_or(std::vector<uint8_t>());
}

const HaxmFake::Mapping* HaxmFake::FindMapping(uint64_t gpa) {
  VmModel* vm = LatestVm();
  if (vm == nullptr) return nullptr;
  auto it = vm->mappings.upper_bound(gpa);
  if (it == vm->mappings.begin()) return nullptr;
  --it;
  const Mapping& m = it->second;
  return gpa < m.gpa + m.size ? &m : nullptr;
}

GuestMemory HaxmFake::Memory() {
  return GuestMemory(
      "HaxmFake", "RAM mapping",
      [this](uint64_t gpa) -> std::optional<GuestRange> {
        // The guest sees the host pages at va + offset (the pages HAXM
        // pinned); a store to ROM exits as MMIO.
        const Mapping* m = FindMapping(gpa);
        if (m == nullptr) return std::nullopt;
        return GuestRange{m->gpa, m->size, m->va,
                          (m->flags & haxm_abi::kRamInfoRom) == 0};
      });
}

absl::StatusOr<std::vector<uint8_t>> HaxmFake::GuestRead(uint64_t gpa,
                                                         size_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  return Memory().Read(gpa, size);
}

absl::Status HaxmFake::GuestWrite(uint64_t gpa, absl::Span<const uint8_t> data) {
  std::lock_guard<std::mutex> lock(mu_);
  return Memory().Write(gpa, data);
}

uint64_t HaxmFake::InterruptsDelivered(uint32_t) {
  // HAXM has no irqfd and no irq line; interrupts are vectors
  // (InjectedVectors).
  return 0;
}

}  // namespace hv::testing
