// ExitStats: per-exit-kind counts and times of a run, in the spirit of
// `perf kvm stat`: how often the guest exited for each reason, the time
// spent inside Run() (guest plus hypervisor) before those exits, and the
// time hvrun spent handling them.
//
// Example:
//   hv::ExitStats stats;
//   stats.Record(exit.kind, run_time, handle_time);
//   std::cout << stats.Format();
#ifndef HV_TOOLS_HVRUN_EXIT_STATS_H_
#define HV_TOOLS_HVRUN_EXIT_STATS_H_

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "hypervisor/vcpu_exit.h"

namespace hv {

class ExitStats {
 public:
  struct Entry {
    uint64_t count = 0;
    absl::Duration run_time;     // total time inside Run() ending in this kind
    absl::Duration handle_time;  // total time handling these exits
    absl::Duration max_run_time;
  };

  // ExitStats::Record(): thread safe; one uncontended lock and an array
  // slot per call (it runs on every exit of hvrun's run loop).
  void Record(VcpuExitKind kind, absl::Duration run_time,
              absl::Duration handle_time);
  std::map<VcpuExitKind, Entry> Snapshot() const;
  // ExitStats::Format(): a table, one line per exit kind, most frequent
  // first, with a total line.
  std::string Format() const;

 private:
  // std::mutex: Debian's Abseil is not TSan-instrumented (see machine.h).
  mutable std::mutex mutex_;
  // Indexed by the kind's value; kinds past the table count as kUnknown.
  static constexpr size_t kSlots = 64;
  std::array<Entry, kSlots> entries_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace hv

#endif  // HV_TOOLS_HVRUN_EXIT_STATS_H_
