// ExitStats: per-exit-kind counts and times of a run, in the spirit of
// `perf kvm stat`: how often the guest exited for each reason, the time
// spent inside Run() (guest plus hypervisor) before those exits, and the
// time hvrun spent handling them.
//
// One writer at a time: hvrun gives each vCPU thread an ExitStats of its
// own (no lock on the exit path) and merges them with Add() after the run.
//
// Example:
//   hv::ExitStats stats;
//   stats.Record(exit.kind, run_time, handle_time);
//   hv::ExitStats all;
//   all.Add(stats);
//   std::cout << all.Format();
#ifndef HV_TOOLS_HVRUN_EXIT_STATS_H_
#define HV_TOOLS_HVRUN_EXIT_STATS_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>

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

  // ExitStats::Count(): one exit of `kind`, untimed (an array slot).
  void Count(VcpuExitKind kind) { ++SlotFor(kind).count; }
  // ExitStats::Record(): one exit of `kind`, the time inside Run() that
  // ended in it and the time spent handling it.
  void Record(VcpuExitKind kind, absl::Duration run_time,
              absl::Duration handle_time);
  // ExitStats::Add(): adds `other`'s counts and times to these.
  void Add(const ExitStats& other);
  std::map<VcpuExitKind, Entry> Snapshot() const;
  // ExitStats::Total(): the exits of every kind.
  uint64_t Total() const;
  // ExitStats::Format(): a table, one line per exit kind, most frequent
  // first, with a total line.
  std::string Format() const;

 private:
  Entry& SlotFor(VcpuExitKind kind) {
    const size_t slot = static_cast<size_t>(kind);
    return entries_[slot < kSlots ? slot : static_cast<size_t>(VcpuExitKind::kUnknown)];
  }

  // Indexed by the kind's value; kinds past the table count as kUnknown.
  static constexpr size_t kSlots = 64;
  std::array<Entry, kSlots> entries_;
};

}  // namespace hv

#endif  // HV_TOOLS_HVRUN_EXIT_STATS_H_
