// Raw-ioctl VMs and hv guests for the KVM benchmarks; see
// kvm_benchmark_support.h.
#include "hypervisor/kvm/kvm_benchmark_support.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "hypervisor/kvm/kvm_abi.h"
#include "hypervisor/kvm/kvm_hypervisor.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/arch_bits.h"
#include "hypervisor/x86_64/boot.h"
#include "hypervisor/x86_64/vm_x86_64.h"

// The programs of kvm_benchmark_guest.S.
#define HV_BENCH_GUEST_SYMBOLS(name)                       \
  extern "C" const uint8_t hv_bench_guest_##name##_start[]; \
  extern "C" const uint8_t hv_bench_guest_##name##_end[];
HV_BENCH_GUEST_SYMBOLS(pio_out_loop)
HV_BENCH_GUEST_SYMBOLS(pio_in_loop)
HV_BENCH_GUEST_SYMBOLS(mmio_write_loop)
HV_BENCH_GUEST_SYMBOLS(mmio_read_loop)
HV_BENCH_GUEST_SYMBOLS(hlt_loop)
#undef HV_BENCH_GUEST_SYMBOLS

namespace hv::bench {
namespace {

#define HV_BENCH_GUEST_SPAN(name)                                    \
  absl::Span<const uint8_t>(hv_bench_guest_##name##_start,           \
                            static_cast<size_t>(                     \
                                hv_bench_guest_##name##_end -        \
                                hv_bench_guest_##name##_start))

// Table pages at kGuestTables: PML4, PDPT, four page directories, the GDT.
constexpr uint64_t kPml4 = kGuestTables;
constexpr uint64_t kPdpt = kGuestTables + x86::kPageSize;
constexpr uint64_t kPd = kGuestTables + 2 * x86::kPageSize;
constexpr uint64_t kGdt = kGuestTables + 6 * x86::kPageSize;
// GDT selectors: null, code64 (DPL0), data (DPL0), code64 (DPL3), data (DPL3).
constexpr uint16_t kCode64 = 1 * 8;
constexpr uint16_t kData = 2 * 8;
constexpr uint16_t kUserCode64 = 3 * 8 | 3;
constexpr uint16_t kUserData = 4 * 8 | 3;
constexpr uint64_t kGdtDescriptors[] = {
    0,
    0x00af9b000000ffff,  // code64, DPL0
    0x00cf93000000ffff,  // data, DPL0
    0x00affb000000ffff,  // code64, DPL3
    0x00cff3000000ffff,  // data, DPL3
};

kvm_segment FlatSegment(uint16_t selector, uint8_t type, bool code64) {
  kvm_segment s = {};
  s.base = 0;
  s.limit = 0xffffffff;
  s.selector = selector;
  s.type = type;
  s.present = 1;
  s.dpl = selector & 3;
  s.db = code64 ? 0 : 1;
  s.s = 1;
  s.l = code64 ? 1 : 0;
  s.g = 1;
  return s;
}

void WriteU64(absl::Span<uint8_t> ram, uint64_t address, uint64_t value) {
  std::memcpy(ram.data() + address, &value, sizeof(value));
}

}  // namespace

absl::Span<const uint8_t> GuestLoopCode(GuestLoop loop) {
  switch (loop) {
    case GuestLoop::kPioOut:
      return HV_BENCH_GUEST_SPAN(pio_out_loop);
    case GuestLoop::kPioIn:
      return HV_BENCH_GUEST_SPAN(pio_in_loop);
    case GuestLoop::kMmioWrite:
      return HV_BENCH_GUEST_SPAN(mmio_write_loop);
    case GuestLoop::kMmioRead:
      return HV_BENCH_GUEST_SPAN(mmio_read_loop);
    case GuestLoop::kHlt:
      return HV_BENCH_GUEST_SPAN(hlt_loop);
  }
  return {};
}

bool GuestLoopUserMode(GuestLoop loop) { return loop != GuestLoop::kHlt; }

absl::StatusOr<std::unique_ptr<RawVm>> RawVm::Create() {
  const int kvm = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) return ErrnoStatus("open /dev/kvm");
  const int mmap_size = ::ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (mmap_size < static_cast<int>(sizeof(kvm_run))) {
    absl::Status status = ErrnoStatus("KVM_GET_VCPU_MMAP_SIZE");
    ::close(kvm);
    return status;
  }
  const int vm = ::ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) {
    absl::Status status = ErrnoStatus("KVM_CREATE_VM");
    ::close(kvm);
    return status;
  }
  return std::unique_ptr<RawVm>(
      new RawVm(kvm, vm, static_cast<size_t>(mmap_size)));
}

RawVm::~RawVm() {
  ::close(vm_fd_);
  ::close(kvm_fd_);
}

absl::Status RawVm::SetRegion(uint32_t slot, uint64_t guest_address,
                              uint64_t size, void* host, uint32_t flags) {
  const kvm_userspace_memory_region region =
      kvm_abi::UserMemoryRegion(slot, flags, guest_address, size, host);
  if (::ioctl(vm_fd_, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
    return ErrnoStatus(absl::StrFormat("KVM_SET_USER_MEMORY_REGION (slot %u)",
                                       slot));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<RawVcpu>> RawVcpu::Create(const RawVm& vm,
                                                         uint32_t id) {
  const int fd = ::ioctl(vm.vm_fd(), KVM_CREATE_VCPU, id);
  if (fd < 0) return ErrnoStatus("KVM_CREATE_VCPU");
  void* run = ::mmap(nullptr, vm.vcpu_mmap_size(), PROT_READ | PROT_WRITE,
                     MAP_SHARED, fd, 0);
  if (run == MAP_FAILED) {
    absl::Status status = ErrnoStatus("mmap kvm_run");
    ::close(fd);
    return status;
  }
  // The vCPU fd's mapping at offset 0 is the kernel's struct kvm_run (api.rst
  // "KVM_RUN"); vcpu_mmap_size() is at least sizeof(kvm_run) (checked in
  // RawVm::Create) and mmap returns page-aligned memory, so the cast is to
  // an object that really lies there, suitably aligned.
  return std::unique_ptr<RawVcpu>(
      new RawVcpu(fd, static_cast<kvm_run*>(run), vm.vcpu_mmap_size()));
}

RawVcpu::~RawVcpu() {
  ::munmap(run_, run_size_);
  ::close(fd_);
}

absl::Status RawVcpu::SetupLongMode(absl::Span<uint8_t> ram, uint64_t entry,
                                    bool user_mode, uint64_t rax,
                                    uint64_t rdi) {
  if (ram.size() < kGdt + x86::kPageSize || entry >= ram.size()) {
    return absl::InvalidArgumentError("raw long mode: RAM too small");
  }
  // Identity map of [0, 4 GiB) with 2 MiB pages, user accessible.
  const uint64_t flags = x86::kPtePresent | x86::kPteWritable | x86::kPteUser;
  WriteU64(ram, kPml4, kPdpt | flags);
  for (uint64_t i = 0; i < 4; ++i) {
    WriteU64(ram, kPdpt + 8 * i, (kPd + i * x86::kPageSize) | flags);
    for (uint64_t j = 0; j < 512; ++j) {
      WriteU64(ram, kPd + i * x86::kPageSize + 8 * j,
               ((i << 30) | (j << 21)) | flags | x86::kPdeLargePage);
    }
  }
  for (size_t i = 0; i < sizeof(kGdtDescriptors) / 8; ++i) {
    WriteU64(ram, kGdt + 8 * i, kGdtDescriptors[i]);
  }

  kvm_sregs sregs = {};
  if (::ioctl(fd_, KVM_GET_SREGS, &sregs) < 0) {
    return ErrnoStatus("KVM_GET_SREGS");
  }
  sregs.cs = FlatSegment(user_mode ? kUserCode64 : kCode64, 0xb, true);
  const kvm_segment data = FlatSegment(user_mode ? kUserData : kData, 0x3,
                                       false);
  sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
  sregs.tr = {};
  sregs.tr.limit = 0x67;
  sregs.tr.type = 0xb;  // busy 64-bit TSS
  sregs.tr.present = 1;
  sregs.ldt = {};
  sregs.ldt.type = 0x2;
  sregs.ldt.unusable = 1;
  sregs.gdt.base = kGdt;
  sregs.gdt.limit = sizeof(kGdtDescriptors) - 1;
  sregs.idt.base = 0;
  sregs.idt.limit = 0;
  sregs.cr0 = x86::kCr0Pe | x86::kCr0Et | x86::kCr0Pg;
  sregs.cr3 = kPml4;
  sregs.cr4 = x86::kCr4Pae;
  sregs.efer = x86::kEferLme | x86::kEferLma;
  if (::ioctl(fd_, KVM_SET_SREGS, &sregs) < 0) {
    return ErrnoStatus("KVM_SET_SREGS");
  }
  kvm_regs regs = {};
  regs.rip = entry;
  regs.rsp = kGuestStack;
  regs.rax = rax;
  regs.rdi = rdi;
  regs.rflags = x86::kRflagsReserved1 | (user_mode ? x86::kRflagsIopl3 : 0);
  if (::ioctl(fd_, KVM_SET_REGS, &regs) < 0) return ErrnoStatus("KVM_SET_REGS");
  return absl::OkStatus();
}

RawGuest::~RawGuest() {
  vcpu.reset();
  vm.reset();
  if (ram != nullptr) ::munmap(ram, kGuestRamSize);
}

absl::StatusOr<std::unique_ptr<RawGuest>> CreateRawGuest(GuestLoop loop) {
  auto guest = std::make_unique<RawGuest>();
  ASSIGN_OR_RETURN(guest->vm, RawVm::Create());
  const int memfd = ::memfd_create("raw bench ram", MFD_CLOEXEC);
  if (memfd < 0) return ErrnoStatus("memfd_create");
  if (::ftruncate(memfd, kGuestRamSize) < 0) {
    absl::Status status = ErrnoStatus("ftruncate");
    ::close(memfd);
    return status;
  }
  void* ram = ::mmap(nullptr, kGuestRamSize, PROT_READ | PROT_WRITE,
                     MAP_SHARED, memfd, 0);
  ::close(memfd);
  if (ram == MAP_FAILED) return ErrnoStatus("mmap guest RAM");
  guest->ram = static_cast<uint8_t*>(ram);
  absl::Span<const uint8_t> code = GuestLoopCode(loop);
  std::memcpy(guest->ram + kGuestCode, code.data(), code.size());
  RETURN_IF_ERROR(guest->vm->SetRegion(0, 0, kGuestRamSize, guest->ram));
  ASSIGN_OR_RETURN(guest->vcpu, RawVcpu::Create(*guest->vm, 0));
  RETURN_IF_ERROR(guest->vcpu->SetupLongMode(
      absl::Span<uint8_t>(guest->ram, kGuestRamSize), kGuestCode,
      GuestLoopUserMode(loop), kGuestValue, kGuestMmioAddress));
  return guest;
}

absl::StatusOr<std::unique_ptr<Hypervisor>> CreateHvKvm(KvmSys* sys) {
  ASSIGN_OR_RETURN(std::unique_ptr<KvmHypervisor> kvm,
                   KvmHypervisor::Create("/dev/kvm", sys));
  return std::unique_ptr<Hypervisor>(std::move(kvm));
}

absl::StatusOr<std::unique_ptr<HvGuest>> CreateHvGuest(GuestLoop loop,
                                                       KvmSys* sys) {
  auto guest = std::make_unique<HvGuest>();
  ASSIGN_OR_RETURN(guest->hypervisor, CreateHvKvm(sys));
  ASSIGN_OR_RETURN(guest->vm, guest->hypervisor->CreateVm());
  ASSIGN_OR_RETURN(std::unique_ptr<MemoryRegion> ram,
                   MemoryRegion::CreateShared("hv bench ram", kGuestRamSize));
  const absl::Span<uint8_t> ram_span(ram->data(), ram->size());
  absl::Span<const uint8_t> code = GuestLoopCode(loop);
  std::memcpy(ram_span.data() + kGuestCode, code.data(), code.size());
  // The region object moves into the Vm; its mapping (ram_span) stays put.
  RETURN_IF_ERROR(guest->vm->AddMemoryRegion(0, std::move(ram), {}).status());
  VmX86_64* vm86 = guest->vm->AsX86_64();
  if (vm86 == nullptr) return absl::InternalError("KVM VM is not x86_64");
  ASSIGN_OR_RETURN(guest->vcpu, vm86->CreateVcpuX86_64(0));
  X86BootOptions boot;
  boot.mode = X86Mode::kLong;
  boot.entry = kGuestCode;
  boot.stack = kGuestStack;
  boot.tables = kGuestTables;
  boot.user_mode = GuestLoopUserMode(loop);
  RETURN_IF_ERROR(SetupX86Boot(*guest->vcpu, ram_span, 0, boot));
  ASSIGN_OR_RETURN(Regs regs, guest->vcpu->GetRegs());
  regs.rax = kGuestValue;
  regs.rdi = kGuestMmioAddress;
  RETURN_IF_ERROR(guest->vcpu->SetRegs(regs));
  return guest;
}

absl::Status RawMapUnmap(uint8_t* at, size_t size, int fd) {
  if (::mmap(at, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
             0) == MAP_FAILED) {
    return ErrnoStatus("mmap blob");
  }
  if (::mmap(at, size, PROT_READ,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1,
             0) == MAP_FAILED) {
    return ErrnoStatus("mmap anonymous");
  }
  return absl::OkStatus();
}

hv::testing::FaultInjectingKvmSys& CountingSys() {
  static auto* sys = new hv::testing::FaultInjectingKvmSys();
  return *sys;
}

std::string KernelDescription() {
  utsname name = {};
  std::string kernel = ::uname(&name) == 0 ? name.release : "unknown";
  // /sys/module lists built-in modules too (kvm_pvm is built in on some
  // hosts here, so /proc/modules lacks it), loaded ones as well.
  std::vector<std::string> modules;
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator("/sys/module", error)) {
    const std::string module = entry.path().filename().string();
    if (module.rfind("kvm", 0) == 0) modules.push_back(module);
  }
  std::sort(modules.begin(), modules.end());
  std::string model = "unknown";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  return absl::StrCat(kernel, "; KVM modules: ",
                      modules.empty() ? "none"
                                      : absl::StrJoin(modules, ", "),
                      "; CPU: ", model);
}

}  // namespace hv::bench
