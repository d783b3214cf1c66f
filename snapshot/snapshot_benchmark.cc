// snapshot_benchmark: snapshot and restore of a 256 MiB x86_64 guest on the
// host's real KVM (snapshot/x86_64_snapshot.h), with the in-kernel irqchip
// and the guest RAM in one dirty-logged slot.
//
//   BM_SnapshotCaptureFull         CaptureX86_64, every byte of RAM
//   BM_SnapshotCaptureIncremental  CaptureX86_64 with a parent, after the
//                                  guest (touch_pages, at CPL3) wrote 64
//                                  pages: the dirty log's pages only (the
//                                  guest's run is not timed)
//   BM_SnapshotWriteTo             SnapshotFile::WriteTo of the full file
//                                  (write, fsync, rename)
//   BM_SnapshotReadFrom            SnapshotFile::ReadFrom of that file
//   BM_SnapshotRestore             RestoreX86_64 of the full snapshot into a
//                                  new VM built the same way (its creation
//                                  not timed; its RAM's first touch is)
//
// Each reports `file_bytes`, the size of the file it made or read. Without
// a usable /dev/kvm, or with less than 1.5 GiB of free memory (a small test
// VM), every benchmark is skipped, saying so.
//
//   tools/bazel run --config=opt //snapshot:snapshot_benchmark
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vcpu_exit.h"
#include "hypervisor/x86_64/boot.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "snapshot/x86_64_snapshot.h"
#include "testing/guest/layout.h"
#include "testing/guest_programs.h"

namespace hv::snapshot {
namespace {

constexpr uint64_t kRamSize = uint64_t{256} << 20;
constexpr uint64_t kTouchedPages = 64;
constexpr uint64_t kTouchedArea = uint64_t{16} << 20;  // guest-physical

// One VM as the benchmarks use it: 256 MiB of RAM at guest-physical 0 with
// dirty logging, vCPU 0, the kernel's irqchip.
struct Machine {
  std::unique_ptr<Vm> vm;
  std::unique_ptr<VcpuX86_64> vcpu;
  absl::Span<uint8_t> ram;
  MemSlot slot = 0;

  std::vector<GuestRam> Ram() const { return {{0, ram, slot}}; }
};

absl::StatusOr<Machine> NewMachine(Hypervisor& hypervisor) {
  Machine machine;
  ASSIGN_OR_RETURN(machine.vm, hypervisor.CreateVm());
  RETURN_IF_ERROR(machine.vm->AsX86_64()->CreateIrqChip(IrqChipKind::kKernel));
  ASSIGN_OR_RETURN(std::unique_ptr<MemoryRegion> region,
                   MemoryRegion::CreateShared("snapshot-bench-ram", kRamSize));
  machine.ram = absl::Span<uint8_t>(region->data(), region->size());
  MemoryRegionOptions options;
  options.log_dirty_pages = true;
  ASSIGN_OR_RETURN(machine.slot,
                   machine.vm->AddMemoryRegion(0, std::move(region), options));
  ASSIGN_OR_RETURN(machine.vcpu, machine.vm->AsX86_64()->CreateVcpuX86_64(0));
  return machine;
}

// Everything the benchmarks share, made once: the guest VM with
// touch_pages loaded and a full snapshot of it (its file on disk too).
struct Bench {
  std::unique_ptr<Hypervisor> hypervisor;
  Machine guest;
  Regs start;  // touch_pages' entry state
  std::optional<SnapshotFile> full;
  uint64_t full_id = 0;
  std::string path;
};

absl::Status LoadTouchPages(Bench& bench) {
  const testing::GuestProgram program = testing::guest::TouchPages();
  std::memcpy(bench.guest.ram.data() + HV_GUEST_CODE, program.bytes.data(),
              program.bytes.size());
  X86BootOptions boot;
  boot.mode = X86Mode::kLong;
  boot.entry = HV_GUEST_CODE;
  boot.stack = HV_GUEST_STACK_TOP;
  boot.tables = HV_GUEST_TABLES;
  boot.user_mode = true;  // CPL3: the code kvm_pvm runs natively
  RETURN_IF_ERROR(SetupX86Boot(*bench.guest.vcpu, bench.guest.ram, 0, boot));
  ASSIGN_OR_RETURN(bench.start, bench.guest.vcpu->GetRegs());
  bench.start.rdi = kTouchedArea;
  bench.start.rsi = ~uint64_t{0};  // every one of the pages
  bench.start.rcx = kTouchedPages;
  return absl::OkStatus();
}

// The size SnapshotFile::Serialize() gives `file`, without making the
// copy: the header (magic, version, architecture, backend blob), each
// section's 20-byte header and payload, and the end section.
uint64_t FileBytes(const SnapshotFile& file) {
  uint64_t bytes = 8 + 4 + 4 + 8 + file.backend().size() + 20;
  for (const SnapshotFile::Section& section : file.sections()) {
    bytes += 20 + section.payload.size();
  }
  return bytes;
}

// The file MakeBench wrote, for main() to remove (empty: none).
std::string& FileToRemove() {
  static std::string* path = new std::string;
  return *path;
}

std::string FilePath() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/hv_snapshot_bench_",
                      ::getpid(), ".hvsnap");
}

absl::StatusOr<Bench*> MakeBench() {
  if (::access("/dev/kvm", R_OK | W_OK) != 0) {
    return absl::UnavailableError(
        "no usable /dev/kvm on this machine: the snapshot benchmarks need "
        "the host's KVM");
  }
  // Two VMs' RAM (the guest's, a restore's), the full snapshot, a second
  // one being captured or read (its read buffer and its parsed copy): six
  // times the guest's RAM.
  const uint64_t needed = 6 * kRamSize;
  const uint64_t free_bytes = static_cast<uint64_t>(::sysconf(_SC_AVPHYS_PAGES)) *
                              static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  if (free_bytes < needed) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the snapshot benchmarks need ", needed >> 20, " MiB of free memory; ",
        free_bytes >> 20, " MiB are free here"));
  }
  auto bench = std::make_unique<Bench>();
  ASSIGN_OR_RETURN(bench->hypervisor, CreateHypervisor("kvm"));
  ASSIGN_OR_RETURN(bench->guest, NewMachine(*bench->hypervisor));
  RETURN_IF_ERROR(LoadTouchPages(*bench));
  VcpuX86_64* vcpus[] = {bench->guest.vcpu.get()};
  ASSIGN_OR_RETURN(SnapshotFile full,
                   CaptureX86_64(*bench->guest.vm->AsX86_64(), vcpus,
                                 bench->guest.Ram(), "kvm"));
  ASSIGN_OR_RETURN(bench->full_id, SnapshotId(full));
  if (FileBytes(full) != full.Serialize().size()) {
    return absl::InternalError("FileBytes() disagrees with Serialize()");
  }
  bench->full = std::move(full);
  bench->path = FilePath();
  RETURN_IF_ERROR(bench->full->WriteTo(bench->path));
  FileToRemove() = bench->path;
  return bench.release();
}

// The shared Bench, made by the first benchmark that asks; its error,
// once, as every benchmark's skip reason.
absl::StatusOr<Bench*>& Shared() {
  static absl::StatusOr<Bench*>* bench =
      new absl::StatusOr<Bench*>(MakeBench());
  return *bench;
}

Bench* BenchOrSkip(benchmark::State& state) {
  absl::StatusOr<Bench*>& bench = Shared();
  if (!bench.ok()) {
    state.SkipWithError(bench.status().ToString().c_str());
    return nullptr;
  }
  return *bench;
}

bool SkipUnlessOk(benchmark::State& state, const absl::Status& status) {
  if (status.ok()) return true;
  state.SkipWithError(status.ToString().c_str());
  return false;
}

// Runs touch_pages from its entry to its done port.
absl::Status TouchPages(Bench& bench) {
  RETURN_IF_ERROR(bench.guest.vcpu->SetRegs(bench.start));
  ASSIGN_OR_RETURN(VcpuExit exit, bench.guest.vcpu->Run());
  if (exit.kind != VcpuExitKind::kIo || exit.io.port != HV_GUEST_DONE_PORT) {
    return absl::InternalError(absl::StrCat(
        "touch_pages ended with ", VcpuExitKindName(exit.kind), " at port ",
        exit.io.port, " instead of its done port"));
  }
  return absl::OkStatus();
}

void BM_SnapshotCaptureFull(benchmark::State& state) {
  Bench* bench = BenchOrSkip(state);
  if (bench == nullptr) return;
  VcpuX86_64* vcpus[] = {bench->guest.vcpu.get()};
  const std::vector<GuestRam> ram = bench->guest.Ram();
  uint64_t bytes = 0;
  for (auto _ : state) {
    absl::StatusOr<SnapshotFile> file =
        CaptureX86_64(*bench->guest.vm->AsX86_64(), vcpus, ram, "kvm");
    if (!SkipUnlessOk(state, file.status())) return;
    bytes = FileBytes(*file);
  }
  state.counters["file_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_SnapshotCaptureFull)->Unit(benchmark::kMillisecond);

void BM_SnapshotCaptureIncremental(benchmark::State& state) {
  Bench* bench = BenchOrSkip(state);
  if (bench == nullptr) return;
  VcpuX86_64* vcpus[] = {bench->guest.vcpu.get()};
  const std::vector<GuestRam> ram = bench->guest.Ram();
  CaptureOptions options;
  options.parent_id = bench->full_id;
  uint64_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    if (!SkipUnlessOk(state, TouchPages(*bench))) return;
    state.ResumeTiming();
    absl::StatusOr<SnapshotFile> file = CaptureX86_64(
        *bench->guest.vm->AsX86_64(), vcpus, ram, "kvm", options);
    if (!SkipUnlessOk(state, file.status())) return;
    bytes = FileBytes(*file);
  }
  state.counters["file_bytes"] = static_cast<double>(bytes);
  state.counters["pages_written"] = static_cast<double>(kTouchedPages);
}
BENCHMARK(BM_SnapshotCaptureIncremental)->Unit(benchmark::kMillisecond);

void BM_SnapshotWriteTo(benchmark::State& state) {
  Bench* bench = BenchOrSkip(state);
  if (bench == nullptr) return;
  const std::string path = bench->path + ".write";
  for (auto _ : state) {
    if (!SkipUnlessOk(state, bench->full->WriteTo(path))) return;
  }
  ::unlink(path.c_str());
  state.counters["file_bytes"] =
      static_cast<double>(FileBytes(*bench->full));
}
BENCHMARK(BM_SnapshotWriteTo)->Unit(benchmark::kMillisecond);

void BM_SnapshotReadFrom(benchmark::State& state) {
  Bench* bench = BenchOrSkip(state);
  if (bench == nullptr) return;
  for (auto _ : state) {
    absl::StatusOr<SnapshotFile> file = SnapshotFile::ReadFrom(bench->path);
    if (!SkipUnlessOk(state, file.status())) return;
    benchmark::DoNotOptimize(file->sections().size());
  }
  state.counters["file_bytes"] =
      static_cast<double>(FileBytes(*bench->full));
}
BENCHMARK(BM_SnapshotReadFrom)->Unit(benchmark::kMillisecond);

void BM_SnapshotRestore(benchmark::State& state) {
  Bench* bench = BenchOrSkip(state);
  if (bench == nullptr) return;
  RestoreOptions options;
  options.backend = "kvm";
  for (auto _ : state) {
    // A new VM each time (not timed), as a restore meets it: its RAM not
    // yet touched, so the timed copy also faults every page in.
    state.PauseTiming();
    absl::StatusOr<Machine> target = NewMachine(*bench->hypervisor);
    if (!SkipUnlessOk(state, target.status())) return;
    VcpuX86_64* vcpus[] = {target->vcpu.get()};
    const std::vector<GuestRam> ram = target->Ram();
    state.ResumeTiming();
    if (!SkipUnlessOk(state, RestoreX86_64(*bench->full,
                                           *target->vm->AsX86_64(), vcpus, ram,
                                           options))) {
      return;
    }
    state.PauseTiming();
    target->vcpu.reset();
    target->vm.reset();
    state.ResumeTiming();
  }
  state.counters["file_bytes"] = static_cast<double>(FileBytes(*bench->full));
}
BENCHMARK(BM_SnapshotRestore)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace hv::snapshot

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  const std::string& path = hv::snapshot::FileToRemove();
  if (!path.empty()) ::unlink(path.c_str());
  return 0;
}
