#include "tools/hvrun/exit_stats.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_format.h"

namespace hv {

void ExitStats::Record(VcpuExitKind kind, absl::Duration run_time,
                       absl::Duration handle_time) {
  Entry& e = SlotFor(kind);
  ++e.count;
  e.run_time += run_time;
  e.handle_time += handle_time;
  e.max_run_time = std::max(e.max_run_time, run_time);
}

void ExitStats::Add(const ExitStats& other) {
  for (size_t i = 0; i < kSlots; ++i) {
    Entry& e = entries_[i];
    const Entry& more = other.entries_[i];
    e.count += more.count;
    e.run_time += more.run_time;
    e.handle_time += more.handle_time;
    e.max_run_time = std::max(e.max_run_time, more.max_run_time);
  }
}

std::map<VcpuExitKind, ExitStats::Entry> ExitStats::Snapshot() const {
  std::map<VcpuExitKind, Entry> entries;
  for (size_t i = 0; i < kSlots; ++i) {
    if (entries_[i].count != 0) entries.emplace(static_cast<VcpuExitKind>(i), entries_[i]);
  }
  return entries;
}

uint64_t ExitStats::Total() const {
  uint64_t total = 0;
  for (const Entry& e : entries_) total += e.count;
  return total;
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
