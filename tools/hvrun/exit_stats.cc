#include "tools/hvrun/exit_stats.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_format.h"

namespace hv {

void ExitStats::Record(VcpuExitKind kind, absl::Duration run_time,
                       absl::Duration handle_time) {
  Slot& slot = SlotFor(kind);
  const int64_t run_ns = absl::ToInt64Nanoseconds(run_time);
  ++slot.count;
  slot.run_ns += run_ns;
  slot.handle_ns += absl::ToInt64Nanoseconds(handle_time);
  slot.max_run_ns = std::max(slot.max_run_ns, run_ns);
}

void ExitStats::Add(const ExitStats& other) {
  for (size_t i = 0; i < kSlots; ++i) {
    Slot& slot = slots_[i];
    const Slot& more = other.slots_[i];
    slot.count += more.count;
    slot.run_ns += more.run_ns;
    slot.handle_ns += more.handle_ns;
    slot.max_run_ns = std::max(slot.max_run_ns, more.max_run_ns);
  }
}

std::map<VcpuExitKind, ExitStats::Entry> ExitStats::Snapshot() const {
  std::map<VcpuExitKind, Entry> entries;
  for (size_t i = 0; i < kSlots; ++i) {
    const Slot& slot = slots_[i];
    if (slot.count == 0) continue;
    entries.emplace(static_cast<VcpuExitKind>(i),
                    Entry{slot.count, absl::Nanoseconds(slot.run_ns),
                          absl::Nanoseconds(slot.handle_ns),
                          absl::Nanoseconds(slot.max_run_ns)});
  }
  return entries;
}

std::string ExitStats::Format() const {
  std::map<VcpuExitKind, Entry> entries = Snapshot();
  std::vector<std::pair<VcpuExitKind, Entry>> rows(entries.begin(), entries.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return a.second.count > b.second.count;
  });
  uint64_t total_count = 0;
  absl::Duration total_run, total_handle;
  for (const auto& [kind, e] : rows) {
    total_count += e.count;
    total_run += e.run_time;
    total_handle += e.handle_time;
  }
  std::string out = absl::StrFormat(
      "%-16s %10s %8s %14s %14s %14s\n", "exit", "count", "count%",
      "avg run (us)", "max run (us)", "avg handle (us)");
  auto us = [](absl::Duration d) { return absl::ToDoubleMicroseconds(d); };
  for (const auto& [kind, e] : rows) {
    absl::StrAppendFormat(
        &out, "%-16s %10u %7.2f%% %14.2f %14.2f %14.2f\n",
        VcpuExitKindName(kind), e.count, 100.0 * e.count / total_count,
        us(e.run_time) / e.count, us(e.max_run_time), us(e.handle_time) / e.count);
  }
  absl::StrAppendFormat(&out, "%-16s %10u %8s %14.2f %14s %14.2f\n", "total",
                        total_count, "",
                        total_count ? us(total_run) / total_count : 0.0, "",
                        total_count ? us(total_handle) / total_count : 0.0);
  return out;
}

}  // namespace hv
