// kvm_memory_benchmark: hv's memory and creation paths against the raw
// system calls, each on a VM of its own in the same process.
//
//   BM_MemoryRegion_*/N  add + remove a 2 MiB region with N other regions
//                        present: Vm::AddMemoryRegion + RemoveMemoryRegion
//                        vs two KVM_SET_USER_MEMORY_REGION (add, delete)
//   BM_FdMapping_*       a 64 KiB memfd mapped into a registered 2 MiB arena
//                        and removed again: Vm::AddFdMapping + RemoveMapping
//                        vs mmap(MAP_FIXED memfd) + mmap(MAP_FIXED anon, RO)
//   BM_CreateVm_*        Hypervisor::CreateVm + destroy vs KVM_CREATE_VM +
//                        close
//   BM_CreateVcpu_*      Vm::CreateVcpu vs KVM_CREATE_VCPU + mmap(kvm_run)
//                        (16 vCPUs per VM; VM turnover is not timed)
//
// Every _Hv benchmark first repeats its operation over a counting KvmSys
// seam (untimed) and reports the system calls per operation as the counter
// `syscalls_per_op`; the raw path's count is stated in its own counter.
// The region and fd-mapping benchmarks also report `allocs_per_op`: heap
// allocations (operator new, replaced below to count) per timed operation.
// The region and fd-mapping _Hv benchmarks also run hv and raw operations
// alternately (MeasurePaired) and report each side's median as
// `paired_hv_ns` / `paired_raw_ns`, the steadier ratio on a noisy machine.
// Fixtures with N filler regions are built once per process and reused.
//
//   tools/bazel run --config=opt //hypervisor/kvm:kvm_memory_benchmark
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <new>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/kvm/kvm_benchmark_main.h"
#include "hypervisor/kvm/kvm_benchmark_support.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/os/unique_fd.h"
#include "hypervisor/vm.h"

namespace hv::bench {
namespace {

// Every operator new of the process (counted by the replacement below).
std::atomic<uint64_t> allocations{0};

constexpr uint64_t kPage = 0x1000;
constexpr uint64_t kRegionSize = 0x200000;        // the 2 MiB region
constexpr uint64_t kRegionAddress = 0x100000000;  // at 4 GiB
constexpr uint64_t kFillerBase = 0x40000000;      // filler regions from 1 GiB
constexpr uint64_t kFillerStride = 2 * kPage;     // one page each, spaced
constexpr uint64_t kBlobSize = 0x10000;           // the 64 KiB memfd
constexpr uint64_t kBlobOffset = 0x100000;        // where it goes in the arena
constexpr uint32_t kVcpusPerVm = 16;

void* MapAnonymousReadOnly(size_t size) {
  return ::mmap(nullptr, size, PROT_READ,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
}

// ---- memory regions ----------------------------------------------------

// HvRegions: an hv VM with `fillers` one-page arenas and a 2 MiB shared
// region that the benchmark adds and removes.
struct HvRegions {
  std::unique_ptr<Hypervisor> hypervisor;
  std::unique_ptr<Vm> vm;
  std::unique_ptr<MemoryRegion> region;

  // One add + remove; the region comes back for the next round.
  absl::Status AddRemove() {
    ASSIGN_OR_RETURN(MemSlot slot,
                     vm->AddMemoryRegion(kRegionAddress, std::move(region), {}));
    ASSIGN_OR_RETURN(region, vm->RemoveMemoryRegion(slot));
    return absl::OkStatus();
  }
};

absl::StatusOr<std::unique_ptr<HvRegions>> CreateHvRegions(int fillers,
                                                           KvmSys* sys) {
  auto f = std::make_unique<HvRegions>();
  ASSIGN_OR_RETURN(f->hypervisor, CreateHvKvm(sys));
  ASSIGN_OR_RETURN(f->vm, f->hypervisor->CreateVm());
  for (int i = 0; i < fillers; ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<MemoryRegion> filler,
                     MemoryRegion::CreateArena(kPage));
    RETURN_IF_ERROR(f->vm->AddMemoryRegion(kFillerBase + i * kFillerStride,
                                           std::move(filler), {})
                        .status());
  }
  ASSIGN_OR_RETURN(f->region,
                   MemoryRegion::CreateShared("bench region", kRegionSize));
  return f;
}

// RawRegions: the same with raw ioctls: one-page anonymous read-only
// mappings in slots 0..N-1, and a 2 MiB memfd mapping added in slot N.
struct RawRegions {
  std::unique_ptr<RawVm> vm;
  std::vector<void*> fillers;
  void* region = nullptr;
  uint32_t slot = 0;

  ~RawRegions() {
    vm.reset();
    for (void* filler : fillers) ::munmap(filler, kPage);
    if (region != nullptr) ::munmap(region, kRegionSize);
  }

  absl::Status AddRemove() {
    RETURN_IF_ERROR(vm->SetRegion(slot, kRegionAddress, kRegionSize, region));
    return vm->SetRegion(slot, kRegionAddress, 0, region);
  }
};

absl::StatusOr<std::unique_ptr<RawRegions>> CreateRawRegions(int fillers) {
  auto f = std::make_unique<RawRegions>();
  ASSIGN_OR_RETURN(f->vm, RawVm::Create());
  for (int i = 0; i < fillers; ++i) {
    void* filler = MapAnonymousReadOnly(kPage);
    if (filler == MAP_FAILED) return ErrnoStatus("mmap filler");
    f->fillers.push_back(filler);
    RETURN_IF_ERROR(f->vm->SetRegion(static_cast<uint32_t>(i),
                                     kFillerBase + i * kFillerStride, kPage,
                                     filler));
  }
  const int memfd = ::memfd_create("raw bench region", MFD_CLOEXEC);
  if (memfd < 0) return ErrnoStatus("memfd_create");
  const bool sized = ::ftruncate(memfd, kRegionSize) == 0;
  void* region = sized ? ::mmap(nullptr, kRegionSize, PROT_READ | PROT_WRITE,
                                MAP_SHARED, memfd, 0)
                       : MAP_FAILED;
  ::close(memfd);
  if (region == MAP_FAILED) return ErrnoStatus("ftruncate/mmap region");
  f->region = region;
  f->slot = static_cast<uint32_t>(fillers);
  return f;
}

// Fixtures by filler count, built on first use and kept for the process:
// adding 10 000 regions is far slower than the operation measured.
template <typename Fixture, typename Create>
absl::StatusOr<Fixture*> CachedFixture(int fillers, Create create) {
  static auto* cache = new std::map<int, std::unique_ptr<Fixture>>();
  auto it = cache->find(fillers);
  if (it == cache->end()) {
    auto fixture = create(fillers);
    if (!fixture.ok()) return fixture.status();
    it = cache->emplace(fillers, std::move(*fixture)).first;
  }
  return it->second.get();
}

// The untimed seam check: system calls per operation of `fixture`.
template <typename Fixture>
absl::StatusOr<double> SyscallsPerOp(Fixture& fixture) {
  constexpr int kRounds = 16;
  CountingSys().ResetCount();
  for (int i = 0; i < kRounds; ++i) RETURN_IF_ERROR(fixture.AddRemove());
  return static_cast<double>(CountingSys().calls()) / kRounds;
}

template <typename Fixture>
void TimeAddRemove(benchmark::State& state, absl::StatusOr<Fixture*> fixture,
                   double syscalls_per_op) {
  if (!SkipUnlessOk(state, fixture.status())) return;
  const uint64_t allocations_before = allocations.load();
  for (auto _ : state) {
    if (!SkipUnlessOk(state, (*fixture)->AddRemove())) break;
  }
  state.counters["syscalls_per_op"] = syscalls_per_op;
  if (state.iterations() > 0) {
    state.counters["allocs_per_op"] =
        static_cast<double>(allocations.load() - allocations_before) /
        static_cast<double>(state.iterations());
  }
}

absl::StatusOr<HvRegions*> HvRegionsFor(int fillers) {
  return CachedFixture<HvRegions>(
      fillers, [](int n) { return CreateHvRegions(n, RealKvmSys()); });
}
absl::StatusOr<RawRegions*> RawRegionsFor(int fillers) {
  return CachedFixture<RawRegions>(fillers, CreateRawRegions);
}

// The alternating measurement (MeasurePaired) of two fixtures' AddRemove,
// once per benchmark name and process.
template <typename HvFixture, typename RawFixture>
absl::StatusOr<PairedTimes> CachedPaired(const std::string& name, int rounds,
                                         HvFixture* hv, RawFixture* raw) {
  static auto* cache = new std::map<std::string, absl::StatusOr<PairedTimes>>();
  auto it = cache->find(name);
  if (it == cache->end()) {
    it = cache
             ->emplace(name, MeasurePaired(
                                 rounds, [&] { return hv->AddRemove().ok(); },
                                 [&] { return raw->AddRemove().ok(); }))
             .first;
  }
  return it->second;
}

void SetPairedCounters(benchmark::State& state,
                       const absl::StatusOr<PairedTimes>& paired) {
  if (!paired.ok()) return;
  state.counters["paired_hv_ns"] = paired->hv_ns;
  state.counters["paired_raw_ns"] = paired->raw_ns;
}

void BM_MemoryRegion_Hv(benchmark::State& state) {
  static absl::StatusOr<double> syscalls = []() -> absl::StatusOr<double> {
    ASSIGN_OR_RETURN(auto counted, CreateHvRegions(0, &CountingSys()));
    return SyscallsPerOp(*counted);
  }();
  if (!SkipUnlessOk(state, syscalls.status())) return;
  const int fillers = static_cast<int>(state.range(0));
  absl::StatusOr<HvRegions*> hv = HvRegionsFor(fillers);
  absl::StatusOr<RawRegions*> raw = RawRegionsFor(fillers);
  if (hv.ok() && raw.ok()) {
    SetPairedCounters(state, CachedPaired(absl::StrCat("region/", fillers), 1000, *hv, *raw));
  }
  TimeAddRemove(state, hv, *syscalls);
}

void BM_MemoryRegion_Raw(benchmark::State& state) {
  TimeAddRemove(state, RawRegionsFor(static_cast<int>(state.range(0))), 2);
}

BENCHMARK(BM_MemoryRegion_Hv)->Arg(0)->Arg(1000)->Arg(10000);
BENCHMARK(BM_MemoryRegion_Raw)->Arg(0)->Arg(1000)->Arg(10000);

// ---- fd mappings into an arena -----------------------------------------

// HvFdMapping: a 2 MiB arena in slot 0 of an hv VM and a 64 KiB memfd.
struct HvFdMapping {
  std::unique_ptr<Hypervisor> hypervisor;
  std::unique_ptr<Vm> vm;
  MemSlot slot = 0;
  UniqueFd blob;

  absl::Status AddRemove() {
    RETURN_IF_ERROR(vm->AddFdMapping(slot, kBlobOffset, kBlobSize, blob.get(),
                                     0, Protection::ReadWrite()));
    return vm->RemoveMapping(slot, kBlobOffset, kBlobSize);
  }
};

absl::StatusOr<std::unique_ptr<HvFdMapping>> CreateHvFdMapping(KvmSys* sys) {
  auto f = std::make_unique<HvFdMapping>();
  ASSIGN_OR_RETURN(f->hypervisor, CreateHvKvm(sys));
  ASSIGN_OR_RETURN(f->vm, f->hypervisor->CreateVm());
  ASSIGN_OR_RETURN(std::unique_ptr<MemoryRegion> arena,
                   MemoryRegion::CreateArena(kRegionSize));
  ASSIGN_OR_RETURN(f->slot, f->vm->AddMemoryRegion(0, std::move(arena), {}));
  ASSIGN_OR_RETURN(f->blob, CreateMemfd("bench blob", kBlobSize));
  return f;
}

// RawFdMapping: the same arena (anonymous, read-only) in slot 0 of a raw
// VM, and the two mmap calls hv's AddFdMapping and RemoveMapping stand for.
struct RawFdMapping {
  std::unique_ptr<RawVm> vm;
  uint8_t* arena = nullptr;
  UniqueFd blob;

  ~RawFdMapping() {
    vm.reset();
    if (arena != nullptr) ::munmap(arena, kRegionSize);
  }

  absl::Status AddRemove() {
    return RawMapUnmap(arena + kBlobOffset, kBlobSize, blob.get());
  }
};

absl::StatusOr<std::unique_ptr<RawFdMapping>> CreateRawFdMapping() {
  auto f = std::make_unique<RawFdMapping>();
  ASSIGN_OR_RETURN(f->vm, RawVm::Create());
  void* arena = MapAnonymousReadOnly(kRegionSize);
  if (arena == MAP_FAILED) return ErrnoStatus("mmap arena");
  f->arena = static_cast<uint8_t*>(arena);
  RETURN_IF_ERROR(f->vm->SetRegion(0, 0, kRegionSize, arena));
  ASSIGN_OR_RETURN(f->blob, CreateMemfd("raw bench blob", kBlobSize));
  return f;
}

void BM_FdMapping_Hv(benchmark::State& state) {
  absl::StatusOr<double> syscalls = [&]() -> absl::StatusOr<double> {
    ASSIGN_OR_RETURN(auto counted, CreateHvFdMapping(&CountingSys()));
    return SyscallsPerOp(*counted);
  }();
  if (!SkipUnlessOk(state, syscalls.status())) return;
  auto fixture = CreateHvFdMapping(RealKvmSys());
  if (fixture.ok()) {
    auto raw = CreateRawFdMapping();
    if (raw.ok()) {
      SetPairedCounters(state, CachedPaired("fd mapping", 2000, fixture->get(),
                                            raw->get()));
    }
  }
  TimeAddRemove(state,
                fixture.ok() ? absl::StatusOr<HvFdMapping*>(fixture->get())
                             : absl::StatusOr<HvFdMapping*>(fixture.status()),
                *syscalls);
}

void BM_FdMapping_Raw(benchmark::State& state) {
  auto fixture = CreateRawFdMapping();
  TimeAddRemove(state,
                fixture.ok() ? absl::StatusOr<RawFdMapping*>(fixture->get())
                             : absl::StatusOr<RawFdMapping*>(fixture.status()),
                2);
}

BENCHMARK(BM_FdMapping_Hv);
BENCHMARK(BM_FdMapping_Raw);

// ---- VM and vCPU creation ----------------------------------------------

absl::StatusOr<double> CreateVmSyscalls() {
  ASSIGN_OR_RETURN(auto hypervisor, CreateHvKvm(&CountingSys()));
  constexpr int kRounds = 4;
  CountingSys().ResetCount();
  for (int i = 0; i < kRounds; ++i) {
    RETURN_IF_ERROR(hypervisor->CreateVm().status());
  }
  return static_cast<double>(CountingSys().calls()) / kRounds;
}

void BM_CreateVm_Hv(benchmark::State& state) {
  absl::StatusOr<double> syscalls = CreateVmSyscalls();
  auto hypervisor = CreateHvKvm();
  if (!SkipUnlessOk(state, syscalls.status()) ||
      !SkipUnlessOk(state, hypervisor.status())) {
    return;
  }
  for (auto _ : state) {
    // The VM is made and destroyed inside the timed iteration.
    if (!SkipUnlessOk(state, (*hypervisor)->CreateVm().status())) break;
  }
  state.counters["syscalls_per_op"] = *syscalls;
}

void BM_CreateVm_Raw(benchmark::State& state) {
  auto raw = RawVm::Create();  // for its /dev/kvm fd
  if (!SkipUnlessOk(state, raw.status())) return;
  const int kvm = (*raw)->kvm_fd();
  for (auto _ : state) {
    const int vm = ::ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) {
      state.SkipWithError("KVM_CREATE_VM failed");
      break;
    }
    ::close(vm);
  }
  state.counters["syscalls_per_op"] = 2;
}

BENCHMARK(BM_CreateVm_Hv);
BENCHMARK(BM_CreateVm_Raw);

// Times vCPU creation, kVcpusPerVm vCPUs per VM: `new_vcpu(vm, id)` for
// ids 0 to kVcpusPerVm - 1 of each VM `new_vm()` makes. VM turnover (the
// old VM's vCPUs and the VM closed, the next VM made) is not timed.
template <typename NewVm, typename NewVcpu>
void TimeVcpuCreation(benchmark::State& state, NewVm new_vm,
                      NewVcpu new_vcpu) {
  typename decltype(new_vm())::value_type vm;
  std::vector<typename decltype(new_vcpu(*vm, 0))::value_type> vcpus;
  vcpus.reserve(kVcpusPerVm);
  uint32_t id = kVcpusPerVm;
  for (auto _ : state) {
    if (id == kVcpusPerVm) {
      state.PauseTiming();
      vcpus.clear();
      vm.reset();
      auto next = new_vm();
      if (!SkipUnlessOk(state, next.status())) break;
      vm = std::move(*next);
      id = 0;
      state.ResumeTiming();
    }
    auto vcpu = new_vcpu(*vm, id++);
    if (!SkipUnlessOk(state, vcpu.status())) break;
    vcpus.push_back(std::move(*vcpu));
  }
}

void BM_CreateVcpu_Hv(benchmark::State& state) {
  // Seam check: the calls of kVcpusPerVm creations, divided.
  absl::StatusOr<double> syscalls = [&]() -> absl::StatusOr<double> {
    ASSIGN_OR_RETURN(auto hypervisor, CreateHvKvm(&CountingSys()));
    ASSIGN_OR_RETURN(auto vm, hypervisor->CreateVm());
    std::vector<std::unique_ptr<Vcpu>> vcpus;
    CountingSys().ResetCount();
    for (uint32_t id = 0; id < kVcpusPerVm; ++id) {
      ASSIGN_OR_RETURN(auto vcpu, vm->CreateVcpu(id));
      vcpus.push_back(std::move(vcpu));
    }
    return static_cast<double>(CountingSys().calls()) / kVcpusPerVm;
  }();
  auto hypervisor = CreateHvKvm();
  if (!SkipUnlessOk(state, syscalls.status()) ||
      !SkipUnlessOk(state, hypervisor.status())) {
    return;
  }
  TimeVcpuCreation(
      state, [&] { return (*hypervisor)->CreateVm(); },
      [](Vm& vm, uint32_t id) { return vm.CreateVcpu(id); });
  state.counters["syscalls_per_op"] = *syscalls;
}

void BM_CreateVcpu_Raw(benchmark::State& state) {
  TimeVcpuCreation(state, RawVm::Create, RawVcpu::Create);
  state.counters["syscalls_per_op"] = 2;
}

BENCHMARK(BM_CreateVcpu_Hv);
BENCHMARK(BM_CreateVcpu_Raw);

}  // namespace
}  // namespace hv::bench

// Counting replacements of the global allocation functions (the array and
// sized forms forward to these); aligned forms keep the library's own.
// None is inlined: GCC would otherwise see malloc() or free() meet the other
// kind of call and warn (-Wmismatched-new-delete), wrongly here.
[[gnu::noinline]] void* operator new(std::size_t size) {
  hv::bench::allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

int main(int argc, char** argv) { return hv::bench::BenchmarkMain(argc, argv); }
