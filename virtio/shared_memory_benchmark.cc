// shared_memory_benchmark: one blob mapped into a virtio shared-memory BAR
// and unmapped again through VmMemoryService, on hv's KVM backend, in the
// two prepare modes, and the prepared mode against its raw limit:
//
//   BM_BarMapUnmap_Prepared/N  SingleMappingOnFirst: the BAR is one arena
//                              slot; a mapping is Vm::AddFdMapping (an mmap)
//   BM_BarMapUnmap_Dynamic/N   DynamicPerMapping: each mapping is its own
//                              memory region (a KVM memslot add and delete)
//   BM_PreparedBar_Hv/N        the prepared map + unmap again, reporting
//                              `paired_hv_ns` / `paired_raw_ns` (MeasurePaired)
//   BM_PreparedBar_Raw/N       the raw limit of the same operation: the two
//                              mmap(MAP_FIXED) calls (blob in, read-only
//                              anonymous pages back) into a 256 MiB arena
//                              registered with KVM_SET_USER_MEMORY_REGION in
//                              a raw VM, with the same N background pages
//
// The blob is a 64 KiB memfd; N other mappings (one page each) are live in
// the same BAR while it is measured (N = 0, 100, 1000, 10000), to show how
// the cost grows with the number of mappings. Prepared background mappings
// are pages of one memfd; dynamic ones are one-page anonymous host
// allocations (their own regions), so 10 000 of them need no descriptors.
// Fixtures are built once per (mode, N) and kept for the process.
//
//   tools/bazel run --config=opt //virtio:shared_memory_benchmark
#include <sys/mman.h>
#include <sys/utsname.h>

#include <cstdint>
#include <map>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/kvm/kvm_benchmark_support.h"
#include "hypervisor/memory.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/os/unique_fd.h"
#include "hypervisor/vm.h"
#include "virtio/shared_memory.h"
#include "virtio/vm_memory_service.h"

namespace hv::virtio {
namespace {

constexpr uint64_t kPage = 0x1000;
constexpr GuestAddress kBarAddress = 0x100000000;  // 4 GiB
constexpr uint64_t kBarSize = 0x10000000;          // 256 MiB
constexpr uint64_t kBlobSize = 0x10000;            // 64 KiB
// The measured blob's offset: past the largest set of background pages.
constexpr uint64_t kBlobOffset = 0x4000000;  // 64 MiB

struct BarFixture {
  std::unique_ptr<Hypervisor> hypervisor;
  std::unique_ptr<Vm> vm;
  std::unique_ptr<VmMemoryService> service;  // destroyed before the Vm
  VmMemoryService::RegionId id = 0;
  UniqueFd blob;
  UniqueFd background;

  ~BarFixture() { service.reset(); }

  absl::Status MapUnmap() {
    RETURN_IF_ERROR(service->AddMapping(
        id, MappingSource::Fd(blob.get(), 0, kBlobSize), kBlobOffset,
        Protection::ReadWrite(), MemCacheType::kCacheCoherent));
    return service->RemoveMapping(id, kBlobOffset);
  }
};

absl::StatusOr<std::unique_ptr<BarFixture>> CreateBarFixture(bool prepared,
                                                             int live) {
  auto f = std::make_unique<BarFixture>();
  ASSIGN_OR_RETURN(f->hypervisor, CreateHypervisor("kvm"));
  ASSIGN_OR_RETURN(f->vm, f->hypervisor->CreateVm());
  ASSIGN_OR_RETURN(f->service, VmMemoryService::Create(f->vm.get()));
  ASSIGN_OR_RETURN(
      f->id, f->service->RegisterRegion(
                 kBarAddress, kBarSize,
                 prepared ? PrepareType::SingleMappingOnFirst(
                                MemCacheType::kCacheCoherent)
                          : PrepareType::DynamicPerMapping()));
  ASSIGN_OR_RETURN(f->blob, CreateMemfd("bench blob", kBlobSize));
  ASSIGN_OR_RETURN(f->background, CreateMemfd("bench background", kPage));
  for (int i = 0; i < live; ++i) {
    MappingSource source = MappingSource::Fd(f->background.get(), 0, kPage);
    if (!prepared) {
      ASSIGN_OR_RETURN(std::unique_ptr<MemoryRegion> page,
                       MemoryRegion::CreateArena(kPage));
      source = MappingSource::HostAllocation(std::move(page));
    }
    RETURN_IF_ERROR(f->service->AddMapping(f->id, std::move(source), i * kPage,
                                           Protection::Read(),
                                           MemCacheType::kCacheCoherent));
  }
  // A prepared BAR is prepared by its first mapping; do that untimed.
  RETURN_IF_ERROR(f->MapUnmap());
  return f;
}

void TimeMapUnmap(benchmark::State& state, bool prepared) {
  static auto* cache = new std::map<std::pair<bool, int64_t>,
                                    std::unique_ptr<BarFixture>>();
  const auto key = std::make_pair(prepared, state.range(0));
  auto it = cache->find(key);
  if (it == cache->end()) {
    auto fixture = CreateBarFixture(prepared, static_cast<int>(key.second));
    if (!fixture.ok()) {
      state.SkipWithError(fixture.status().ToString().c_str());
      return;
    }
    it = cache->emplace(key, std::move(*fixture)).first;
  }
  BarFixture& fixture = *it->second;
  for (auto _ : state) {
    absl::Status status = fixture.MapUnmap();
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      break;
    }
  }
}

void BM_BarMapUnmap_Prepared(benchmark::State& state) {
  TimeMapUnmap(state, true);
}
void BM_BarMapUnmap_Dynamic(benchmark::State& state) {
  TimeMapUnmap(state, false);
}
BENCHMARK(BM_BarMapUnmap_Prepared)->Arg(0)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK(BM_BarMapUnmap_Dynamic)->Arg(0)->Arg(100)->Arg(1000)->Arg(10000);

// RawBarFixture: the raw limit of a prepared BAR. The same arena (read-only
// anonymous pages, as MemoryRegion::CreateArena makes) registered at the
// same guest address in a raw VM, the same N background pages of one memfd
// mapped read-only into it, and the two mmap calls that VmMemoryService's
// AddMapping and RemoveMapping stand for.
struct RawBarFixture {
  std::unique_ptr<bench::RawVm> vm;
  uint8_t* arena = nullptr;
  UniqueFd blob;
  UniqueFd background;

  ~RawBarFixture() {
    vm.reset();
    if (arena != nullptr) ::munmap(arena, kBarSize);
  }

  absl::Status MapUnmap() {
    return bench::RawMapUnmap(arena + kBlobOffset, kBlobSize, blob.get());
  }
};

absl::StatusOr<std::unique_ptr<RawBarFixture>> CreateRawBarFixture(int live) {
  auto f = std::make_unique<RawBarFixture>();
  ASSIGN_OR_RETURN(f->vm, bench::RawVm::Create());
  void* arena = ::mmap(nullptr, kBarSize, PROT_READ,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (arena == MAP_FAILED) return ErrnoStatus("mmap arena");
  f->arena = static_cast<uint8_t*>(arena);
  RETURN_IF_ERROR(f->vm->SetRegion(0, kBarAddress, kBarSize, arena));
  ASSIGN_OR_RETURN(f->blob, CreateMemfd("raw bench blob", kBlobSize));
  ASSIGN_OR_RETURN(f->background, CreateMemfd("raw bench background", kPage));
  for (int i = 0; i < live; ++i) {
    if (::mmap(f->arena + i * kPage, kPage, PROT_READ, MAP_SHARED | MAP_FIXED,
               f->background.get(), 0) == MAP_FAILED) {
      return ErrnoStatus("mmap background page");
    }
  }
  return f;
}

absl::StatusOr<RawBarFixture*> RawBarFor(int live) {
  static auto* cache = new std::map<int, std::unique_ptr<RawBarFixture>>();
  auto it = cache->find(live);
  if (it == cache->end()) {
    ASSIGN_OR_RETURN(std::unique_ptr<RawBarFixture> fixture,
                     CreateRawBarFixture(live));
    it = cache->emplace(live, std::move(fixture)).first;
  }
  return it->second.get();
}

// BM_PreparedBar_Hv: the prepared map + unmap, with the paired measurement
// against the raw fixture of the same N (2000 alternating rounds, once per
// N and process).
void BM_PreparedBar_Hv(benchmark::State& state) {
  const int live = static_cast<int>(state.range(0));
  absl::StatusOr<RawBarFixture*> raw = RawBarFor(live);
  if (!raw.ok()) {
    state.SkipWithError(raw.status().ToString().c_str());
    return;
  }
  static auto* paired = new std::map<int, absl::StatusOr<bench::PairedTimes>>();
  if (paired->find(live) == paired->end()) {
    auto fixture = CreateBarFixture(true, live);
    if (!fixture.ok()) {
      state.SkipWithError(fixture.status().ToString().c_str());
      return;
    }
    paired->emplace(live, bench::MeasurePaired(
                              2000, [&] { return (*fixture)->MapUnmap().ok(); },
                              [&] { return (*raw)->MapUnmap().ok(); }));
  }
  if (const auto& times = paired->at(live); times.ok()) {
    state.counters["paired_hv_ns"] = times->hv_ns;
    state.counters["paired_raw_ns"] = times->raw_ns;
  }
  TimeMapUnmap(state, true);
}

void BM_PreparedBar_Raw(benchmark::State& state) {
  absl::StatusOr<RawBarFixture*> raw =
      RawBarFor(static_cast<int>(state.range(0)));
  if (!raw.ok()) {
    state.SkipWithError(raw.status().ToString().c_str());
    return;
  }
  for (auto _ : state) {
    if (absl::Status status = (*raw)->MapUnmap(); !status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      break;
    }
  }
}
BENCHMARK(BM_PreparedBar_Hv)->Arg(0)->Arg(1000)->Arg(10000);
BENCHMARK(BM_PreparedBar_Raw)->Arg(0)->Arg(1000)->Arg(10000);

}  // namespace
}  // namespace hv::virtio

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  utsname name = {};
  benchmark::AddCustomContext("hv_kernel",
                              ::uname(&name) == 0 ? name.release : "unknown");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
