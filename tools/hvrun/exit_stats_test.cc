// ExitStats: untimed counts, timed records, the merge of per-vCPU stats
// (sums and the larger maximum), kinds past the table, and the table.
#include "tools/hvrun/exit_stats.h"

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hv {
namespace {

using ::testing::HasSubstr;

TEST(ExitStats, CountsWithoutTimes) {
  ExitStats stats;
  stats.Count(VcpuExitKind::kIo);
  stats.Count(VcpuExitKind::kIo);
  stats.Count(VcpuExitKind::kHlt);
  const auto entries = stats.Snapshot();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries.at(VcpuExitKind::kIo).count, 2u);
  EXPECT_EQ(entries.at(VcpuExitKind::kIo).run_time, absl::ZeroDuration());
  EXPECT_EQ(entries.at(VcpuExitKind::kHlt).count, 1u);
}

TEST(ExitStats, RecordSumsTimesAndKeepsTheLongestRun) {
  ExitStats stats;
  stats.Record(VcpuExitKind::kMmio, absl::Microseconds(3), absl::Nanoseconds(500));
  stats.Record(VcpuExitKind::kMmio, absl::Microseconds(7), absl::Nanoseconds(250));
  const ExitStats::Entry e = stats.Snapshot().at(VcpuExitKind::kMmio);
  EXPECT_EQ(e.count, 2u);
  EXPECT_EQ(e.run_time, absl::Microseconds(10));
  EXPECT_EQ(e.handle_time, absl::Nanoseconds(750));
  EXPECT_EQ(e.max_run_time, absl::Microseconds(7));
}

TEST(ExitStats, AddMergesPerVcpuStats) {
  ExitStats vcpu0, vcpu1, all;
  vcpu0.Record(VcpuExitKind::kIo, absl::Microseconds(9), absl::Microseconds(1));
  vcpu1.Record(VcpuExitKind::kIo, absl::Microseconds(4), absl::Microseconds(2));
  vcpu1.Count(VcpuExitKind::kHlt);
  all.Add(vcpu0);
  all.Add(vcpu1);
  const auto entries = all.Snapshot();
  EXPECT_EQ(entries.at(VcpuExitKind::kIo).count, 2u);
  EXPECT_EQ(entries.at(VcpuExitKind::kIo).run_time, absl::Microseconds(13));
  EXPECT_EQ(entries.at(VcpuExitKind::kIo).handle_time, absl::Microseconds(3));
  EXPECT_EQ(entries.at(VcpuExitKind::kIo).max_run_time, absl::Microseconds(9));
  EXPECT_EQ(entries.at(VcpuExitKind::kHlt).count, 1u);
  // The sources are unchanged.
  EXPECT_EQ(vcpu0.Snapshot().at(VcpuExitKind::kIo).count, 1u);
}

TEST(ExitStats, KindsPastTheTableCountAsUnknown) {
  ExitStats stats;
  stats.Count(static_cast<VcpuExitKind>(200));
  EXPECT_EQ(stats.Snapshot().at(VcpuExitKind::kUnknown).count, 1u);
}

TEST(ExitStats, FormatListsKindsMostFrequentFirstAndATotal) {
  ExitStats stats;
  stats.Count(VcpuExitKind::kHlt);
  for (int i = 0; i < 3; ++i) stats.Count(VcpuExitKind::kIo);
  const std::string table = stats.Format();
  EXPECT_LT(table.find("io"), table.find("hlt"));
  EXPECT_THAT(table, HasSubstr("total"));
  EXPECT_THAT(table, HasSubstr(" 4 "));
}

}  // namespace
}  // namespace hv
