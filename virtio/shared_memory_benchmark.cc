// shared_memory_benchmark: one blob mapped into a virtio shared-memory BAR
// and unmapped again through VmMemoryService, on hv's KVM backend, in the
// two prepare modes:
//
//   BM_BarMapUnmap_Prepared/N  SingleMappingOnFirst: the BAR is one arena
//                              slot; a mapping is Vm::AddFdMapping (an mmap)
//   BM_BarMapUnmap_Dynamic/N   DynamicPerMapping: each mapping is its own
//                              memory region (a KVM memslot add and delete)
//
// The blob is a 64 KiB memfd; N other mappings (one page each) are live in
// the same BAR while it is measured (N = 0, 100, 1000, 10000), to show how
// the cost grows with the number of mappings. Prepared background mappings
// are pages of one memfd; dynamic ones are one-page anonymous host
// allocations (their own regions), so 10 000 of them need no descriptors.
// Fixtures are built once per (mode, N) and kept for the process.
//
//   tools/bazel run --config=opt //virtio:shared_memory_benchmark
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
#include "hypervisor/memory.h"
#include "hypervisor/memory_region.h"
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
