// What the KVM benchmark binaries (kvm_run_benchmark, kvm_memory_benchmark)
// share on the Google Benchmark side, which kvm_benchmark_support leaves
// out so that KVM tests can link it without Google Benchmark: skipping a
// benchmark on an error, timing round trips, and main(). Internal to those
// binaries (each lists this header in its srcs).
#ifndef HV_HYPERVISOR_KVM_KVM_BENCHMARK_MAIN_H_
#define HV_HYPERVISOR_KVM_KVM_BENCHMARK_MAIN_H_

#include <cstdint>

#include "absl/status/status.h"
#include "benchmark/benchmark.h"
#include "hypervisor/kvm/kvm_benchmark_support.h"

namespace hv::bench {

// SkipUnlessOk(): true when `status` is OK; otherwise skips the benchmark
// with `status`'s text and returns false (the caller then stops).
inline bool SkipUnlessOk(benchmark::State& state, const absl::Status& status) {
  if (status.ok()) return true;
  state.SkipWithError(status.ToString().c_str());
  return false;
}

// TimeRoundTrips(): one `round_trip(vcpu, sink)` per benchmark iteration;
// the first one that returns false (an unexpected exit) skips the
// benchmark with that error and ends the loop.
template <typename VcpuType, typename RoundTrip>
void TimeRoundTrips(benchmark::State& state, VcpuType& vcpu,
                    RoundTrip round_trip) {
  uint64_t sink = 0;
  for (auto _ : state) {
    if (!round_trip(vcpu, sink)) {
      state.SkipWithError("unexpected exit");
      break;
    }
  }
  benchmark::DoNotOptimize(sink);
}

// BenchmarkMain(): the benchmark binary's main(): runs the benchmarks the
// flags select, with the kernel described in the report's context
// ("hv_kernel", KernelDescription()). 1 for an unrecognised flag.
inline int BenchmarkMain(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("hv_kernel", KernelDescription());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace hv::bench

#endif  // HV_HYPERVISOR_KVM_KVM_BENCHMARK_MAIN_H_
