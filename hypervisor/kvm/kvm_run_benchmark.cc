// kvm_run_benchmark: one vCPU exit round trip through hv (Vcpu::Run plus
// HandleIo / HandleMmio) against the same round trip with a raw
// ioctl(KVM_RUN) that reads and writes kvm_run itself, on two VMs in the
// same process running the same guest loop (kvm_benchmark_guest.S).
//
//   BM_PioOut_*         `out %al, $0xec` (CPL3); the host reads the byte
//   BM_PioIn_*          `in $0xec, %al` (CPL3); the host answers it
//   BM_MmioWrite_*      byte store to unbacked GPA 0xd0000000 (CPL3)
//   BM_MmioRead_*       byte load from it (CPL3); the host answers it
//   BM_Hlt_*            `hlt` at CPL0, no in-kernel irqchip
//   BM_ImmediateExit_*  KVM_RUN with immediate_exit set: returns EINTR at once
//
// Before timing, each _Hv benchmark repeats its round trip on a second hv
// guest built over a counting KvmSys seam and reports the system calls per
// round trip as the counter `syscalls_per_op` (the raw path makes exactly
// one, KVM_RUN); the timed guest itself runs over RealKvmSys(). It also
// runs 2000 hv and raw round trips alternately on fresh guests and reports
// the median of each as `paired_hv_ns` / `paired_raw_ns` (MeasurePaired),
// the steadier ratio on a noisy machine. Benchmarks
// are never asserted on; see tools/bench_report for the report.
//
//   tools/bazel run --config=opt //hypervisor/kvm:kvm_run_benchmark
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "hypervisor/kvm/kvm_benchmark_main.h"
#include "hypervisor/kvm/kvm_benchmark_support.h"
#include "hypervisor/vcpu.h"
#include "hypervisor/vcpu_exit.h"

namespace hv::bench {
namespace {

// One exit round trip through hv; false if the exit was not the expected one.
template <GuestLoop kLoop>
bool HvRoundTrip(Vcpu& vcpu, uint64_t& sink) {
  absl::StatusOr<VcpuExit> exit = vcpu.Run();
  if (!exit.ok()) return false;
  switch (kLoop) {
    case GuestLoop::kPioOut:
      if (exit->kind != VcpuExitKind::kIo || !exit->io.is_write) return false;
      return vcpu.HandleIo([&](IoRequest& io) { sink += io.data[0]; }).ok();
    case GuestLoop::kPioIn:
      if (exit->kind != VcpuExitKind::kIo || exit->io.is_write) return false;
      return vcpu.HandleIo([](IoRequest& io) { io.data[0] = kGuestValue; })
          .ok();
    case GuestLoop::kMmioWrite:
      if (exit->kind != VcpuExitKind::kMmio || !exit->mmio.is_write) {
        return false;
      }
      return vcpu.HandleMmio([&](IoRequest& io) { sink += io.data[0]; }).ok();
    case GuestLoop::kMmioRead:
      if (exit->kind != VcpuExitKind::kMmio || exit->mmio.is_write) {
        return false;
      }
      return vcpu.HandleMmio([](IoRequest& io) { io.data[0] = kGuestValue; })
          .ok();
    case GuestLoop::kHlt:
      return exit->kind == VcpuExitKind::kHlt;
  }
  return false;
}

// The same round trip with KVM_RUN and kvm_run read and written directly.
template <GuestLoop kLoop>
bool RawRoundTrip(const RawVcpu& vcpu, uint64_t& sink) {
  if (::ioctl(vcpu.fd(), KVM_RUN, 0) < 0) return false;
  // KVM_RUN returned, so the kernel has finished writing kvm_run and will
  // not touch it until the next KVM_RUN from this (the only) thread. Each
  // union member below is read only after exit_reason selected it, and the
  // I/O data offset is checked to lie inside the mapping before the cast.
  kvm_run* run = vcpu.run();
  switch (kLoop) {
    case GuestLoop::kPioOut:
    case GuestLoop::kPioIn: {
      if (run->exit_reason != KVM_EXIT_IO ||
          run->io.direction !=
              (kLoop == GuestLoop::kPioOut ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN) ||
          run->io.data_offset + run->io.size > vcpu.run_size()) {
        return false;
      }
      uint8_t* data = reinterpret_cast<uint8_t*>(run) + run->io.data_offset;
      if (kLoop == GuestLoop::kPioOut) {
        sink += data[0];
      } else {
        data[0] = kGuestValue;
      }
      return true;
    }
    case GuestLoop::kMmioWrite:
    case GuestLoop::kMmioRead:
      if (run->exit_reason != KVM_EXIT_MMIO ||
          (run->mmio.is_write != 0) != (kLoop == GuestLoop::kMmioWrite)) {
        return false;
      }
      if (kLoop == GuestLoop::kMmioWrite) {
        sink += run->mmio.data[0];
      } else {
        run->mmio.data[0] = kGuestValue;
      }
      return true;
    case GuestLoop::kHlt:
      return run->exit_reason == KVM_EXIT_HLT;
  }
  return false;
}

bool HvImmediateExit(Vcpu& vcpu, uint64_t&) {
  vcpu.SetImmediateExit(true);
  absl::StatusOr<VcpuExit> exit = vcpu.Run();
  return exit.ok() && exit->kind == VcpuExitKind::kInterrupted;
}

bool RawImmediateExit(const RawVcpu& vcpu, uint64_t&) {
  // immediate_exit is a byte of the kvm_run page, mapped for the vCPU's
  // life; only this thread and (inside KVM_RUN) the kernel use it.
  kvm_run* run = vcpu.run();
  run->immediate_exit = 1;
  const int result = ::ioctl(vcpu.fd(), KVM_RUN, 0);
  const bool interrupted = result < 0 && errno == EINTR;
  run->immediate_exit = 0;
  return interrupted;
}

// The untimed check: system calls per hv round trip, over CountingSys().
template <typename RoundTrip>
absl::StatusOr<double> HvSyscallsPerOp(GuestLoop loop, RoundTrip round_trip) {
  auto guest = CreateHvGuest(loop, &CountingSys());
  if (!guest.ok()) return guest.status();
  constexpr int kRounds = 64;
  uint64_t sink = 0;
  CountingSys().ResetCount();
  for (int i = 0; i < kRounds; ++i) {
    if (!round_trip(*(*guest)->vcpu, sink)) {
      return absl::InternalError("unexpected exit in the counting check");
    }
  }
  return static_cast<double>(CountingSys().calls()) / kRounds;
}

// The alternating measurement (MeasurePaired) on fresh guests of both kinds.
template <typename HvTrip, typename RawTrip>
absl::StatusOr<PairedTimes> PairedRoundTrips(GuestLoop loop, HvTrip hv_trip,
                                             RawTrip raw_trip) {
  constexpr int kRounds = 2000;
  auto hv = CreateHvGuest(loop);
  if (!hv.ok()) return hv.status();
  auto raw = CreateRawGuest(loop);
  if (!raw.ok()) return raw.status();
  uint64_t sink = 0;
  absl::StatusOr<PairedTimes> times = MeasurePaired(
      kRounds, [&] { return hv_trip(*(*hv)->vcpu, sink); },
      [&] { return raw_trip(*(*raw)->vcpu, sink); });
  benchmark::DoNotOptimize(sink);
  return times;
}

// Counters of the _Hv benchmarks, measured once per benchmark and process
// (Google Benchmark calls a benchmark function once per repetition).
struct HvChecks {
  absl::StatusOr<double> syscalls;
  absl::StatusOr<PairedTimes> paired;
};

template <typename RoundTrip, typename RawTrip>
void RunHv(benchmark::State& state, const std::string& name, GuestLoop loop,
           RoundTrip round_trip, RawTrip raw_trip) {
  static auto* checks = new std::map<std::string, HvChecks>();
  auto it = checks->find(name);
  if (it == checks->end()) {
    it = checks
             ->emplace(name,
                       HvChecks{HvSyscallsPerOp(loop, round_trip),
                                PairedRoundTrips(loop, round_trip, raw_trip)})
             .first;
  }
  const HvChecks& check = it->second;
  if (!SkipUnlessOk(state, check.syscalls.status()) ||
      !SkipUnlessOk(state, check.paired.status())) {
    return;
  }
  auto guest = CreateHvGuest(loop);
  if (!SkipUnlessOk(state, guest.status())) return;
  TimeRoundTrips(state, *(*guest)->vcpu, round_trip);
  state.counters["syscalls_per_op"] = *check.syscalls;
  state.counters["paired_hv_ns"] = check.paired->hv_ns;
  state.counters["paired_raw_ns"] = check.paired->raw_ns;
}

template <typename RoundTrip>
void RunRaw(benchmark::State& state, GuestLoop loop, RoundTrip round_trip) {
  auto guest = CreateRawGuest(loop);
  if (!SkipUnlessOk(state, guest.status())) return;
  const RawVcpu& vcpu = *(*guest)->vcpu;
  TimeRoundTrips(state, vcpu, round_trip);
  state.counters["syscalls_per_op"] = 1;
}

#define HV_RUN_BENCHMARKS(Name, kLoop)                              \
  void BM_##Name##_Hv(benchmark::State& state) {                    \
    RunHv(                                                          \
        state, #Name, kLoop,                                        \
        [](Vcpu& vcpu, uint64_t& sink) {                            \
          return HvRoundTrip<kLoop>(vcpu, sink);                    \
        },                                                          \
        [](const RawVcpu& vcpu, uint64_t& sink) {                   \
          return RawRoundTrip<kLoop>(vcpu, sink);                   \
        });                                                         \
  }                                                                 \
  void BM_##Name##_Raw(benchmark::State& state) {                   \
    RunRaw(state, kLoop, [](const RawVcpu& vcpu, uint64_t& sink) {  \
      return RawRoundTrip<kLoop>(vcpu, sink);                       \
    });                                                             \
  }                                                                 \
  BENCHMARK(BM_##Name##_Hv);                                        \
  BENCHMARK(BM_##Name##_Raw);

HV_RUN_BENCHMARKS(PioOut, GuestLoop::kPioOut)
HV_RUN_BENCHMARKS(PioIn, GuestLoop::kPioIn)
HV_RUN_BENCHMARKS(MmioWrite, GuestLoop::kMmioWrite)
HV_RUN_BENCHMARKS(MmioRead, GuestLoop::kMmioRead)
HV_RUN_BENCHMARKS(Hlt, GuestLoop::kHlt)
#undef HV_RUN_BENCHMARKS

void BM_ImmediateExit_Hv(benchmark::State& state) {
  RunHv(state, "ImmediateExit", GuestLoop::kPioOut, HvImmediateExit, RawImmediateExit);
}
void BM_ImmediateExit_Raw(benchmark::State& state) {
  RunRaw(state, GuestLoop::kPioOut, RawImmediateExit);
}
BENCHMARK(BM_ImmediateExit_Hv);
BENCHMARK(BM_ImmediateExit_Raw);

}  // namespace
}  // namespace hv::bench

int main(int argc, char** argv) { return hv::bench::BenchmarkMain(argc, argv); }
