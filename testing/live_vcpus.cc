#include "testing/live_vcpus.h"

#include <unistd.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/status_macros.h"
#include "testing/in_child.h"

namespace hv::testing {

LiveVcpus::LiveVcpus(std::vector<Vcpu*> vcpus, ExitHandler on_exit,
                     DeviceStep device_step, absl::Duration device_period)
    : vcpus_(std::move(vcpus)),
      on_exit_(std::move(on_exit)),
      device_step_(std::move(device_step)),
      device_period_(device_period),
      parked_(vcpus_.size(), false),
      done_(vcpus_.size(), false) {}

LiveVcpus::~LiveVcpus() { (void)Finish(absl::ZeroDuration()); }

void LiveVcpus::Start() {
  for (size_t i = 0; i < vcpus_.size(); ++i) {
    threads_.emplace_back([this, i] { RunVcpu(static_cast<int>(i)); });
  }
  threads_.emplace_back([this] { RunDevice(); });
}

absl::StatusOr<bool> LiveVcpus::Pause() {
  std::unique_lock<std::mutex> lock(mu_);
  paused_ = true;
  for (size_t i = 0; i < vcpus_.size(); ++i) {
    if (!done_[i]) RETURN_IF_ERROR(vcpus_[i]->Kick());
  }
  changed_.wait(lock, [this] { return AllStopped(); });
  if (!error_.ok()) return error_;
  for (bool done : done_) {
    if (done) return false;
  }
  return true;
}

void LiveVcpus::Resume() {
  std::lock_guard<std::mutex> lock(mu_);
  paused_ = false;
  changed_.notify_all();
}

absl::Status LiveVcpus::Finish(absl::Duration timeout) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    paused_ = false;
    changed_.notify_all();
    changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                      [this] { return AllDone() || !error_.ok(); });
    stop_ = true;
    changed_.notify_all();
    for (size_t i = 0; i < vcpus_.size(); ++i) {
      if (!done_[i]) (void)vcpus_[i]->Kick();
    }
  }
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(error_);
  for (size_t i = 0; i < vcpus_.size(); ++i) {
    if (!done_[i]) {
      return absl::DeadlineExceededError(
          absl::StrCat("vCPU ", i, " did not finish"));
    }
  }
  return absl::OkStatus();
}

bool LiveVcpus::AllStopped() const {
  for (size_t i = 0; i < vcpus_.size(); ++i) {
    if (!done_[i] && !parked_[i]) return false;
  }
  return true;
}

bool LiveVcpus::AllDone() const {
  for (bool done : done_) {
    if (!done) return false;
  }
  return true;
}

void LiveVcpus::Fail(const absl::Status& status) {
  if (error_.ok()) error_ = status;
  changed_.notify_all();
}

// One vCPU's loop: park while paused, run, hand each exit to on_exit_.
void LiveVcpus::RunVcpu(int i) {
  Vcpu& vcpu = *vcpus_[i];
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      parked_[i] = true;
      changed_.notify_all();
      changed_.wait(lock, [this] { return !paused_ || stop_; });
      parked_[i] = false;
      if (stop_) return;
    }
    absl::StatusOr<VcpuExit> exit = vcpu.Run();
    std::lock_guard<std::mutex> lock(mu_);
    if (!exit.ok()) return Fail(exit.status());
    if (exit->kind == VcpuExitKind::kInterrupted) continue;
    absl::StatusOr<bool> done = on_exit_(i, *exit);
    if (!done.ok()) return Fail(done.status());
    if (*done) {
      done_[i] = true;
      return changed_.notify_all();
    }
  }
}

// The device: a step every device_period_ while not paused, until it
// finishes, an error, or stop.
void LiveVcpus::RunDevice() {
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_ || !error_.ok()) return;
      if (!paused_) {
        absl::StatusOr<bool> done = device_step_();
        if (!done.ok()) return Fail(done.status());
        if (*done) return;
      }
    }
    absl::SleepFor(device_period_);
  }
}

uint64_t GuestWord(absl::Span<uint8_t> ram, uint64_t offset) {
  // Safe while vCPUs write it: in the mapping, aligned (the contract).
  return __atomic_load_n(reinterpret_cast<uint64_t*>(ram.data() + offset),
                         __ATOMIC_ACQUIRE);
}

absl::StatusOr<bool> PacedIrq::RaiseIfDue() {
  if (GuestWord(ram_, ready_offset_) != 1 || raised_ >= quota_ ||
      GuestWord(ram_, count_offset_) < raised_) {
    return false;
  }
  RETURN_IF_ERROR(irq_.Write(1));
  ++raised_;
  return true;
}

absl::StatusOr<std::string> JoinReports(
    const absl::Status& finished,
    absl::Span<const std::vector<uint64_t>> reports, size_t per_vcpu,
    const std::string& state) {
  std::vector<uint64_t> results;
  for (size_t i = 0; i < reports.size(); ++i) {
    if (!finished.ok() || reports[i].size() != per_vcpu) {
      return absl::Status(
          finished.ok() ? absl::StatusCode::kDeadlineExceeded : finished.code(),
          absl::StrCat(finished.ok() ? "" : finished.message(), "; vCPU ", i,
                       ": ", reports[i].size(), " reports; ", state));
    }
    results.insert(results.end(), reports[i].begin(), reports[i].end());
  }
  return absl::StrJoin(results, " ");
}

PacedLiveVcpus::PacedLiveVcpus(std::vector<Vcpu*> vcpus,
                               LiveVcpus::ExitHandler on_exit,
                               absl::Span<uint8_t> ram, uint64_t ready_offset,
                               uint64_t count_offset, uint64_t quota,
                               EventFd irq)
    : ram_(ram),
      device_(ram, ready_offset, count_offset, quota, std::move(irq)),
      live_(std::move(vcpus), std::move(on_exit),
            [this]() -> absl::StatusOr<bool> {
              RETURN_IF_ERROR(device_.RaiseIfDue().status());
              return device_.finished();
            }) {}

void PacedLiveVcpus::Start(uint64_t raised) {
  {
    std::lock_guard<std::mutex> lock(live_.mutex());
    device_.set_raised(raised);
  }
  live_.Start();
}

absl::StatusOr<bool> PacedLiveVcpus::PauseAgain() {
  live_.Resume();
  absl::SleepFor(absl::Microseconds(300));
  return live_.Pause();
}

absl::StatusOr<bool> PacedLiveVcpus::RaiseWhilePaused() {
  std::lock_guard<std::mutex> lock(live_.mutex());
  return device_.RaiseIfDue();
}

uint64_t PacedLiveVcpus::raised() {
  std::lock_guard<std::mutex> lock(live_.mutex());
  return device_.raised();
}

absl::StatusOr<bool> PacedLiveVcpus::NoneReported(
    absl::StatusOr<bool> paused,
    absl::Span<const std::vector<uint64_t>> reports) {
  if (!paused.ok() || !*paused) return paused;
  std::lock_guard<std::mutex> lock(live_.mutex());
  for (const std::vector<uint64_t>& made : reports) {
    if (!made.empty()) return false;
  }
  return true;
}

absl::StatusOr<std::string> PacedLiveVcpus::FinishPair(
    absl::Duration timeout, absl::Span<const std::vector<uint64_t>> reports,
    size_t per_vcpu, uint64_t shared_offset, absl::string_view irq_name) {
  const absl::Status finished = Finish(timeout);
  std::lock_guard<std::mutex> lock(live_.mutex());
  const auto word = [&](int i) {
    return GuestWord(ram_, shared_offset + 8 * i);
  };
  return JoinReports(
      finished, reports, per_vcpu,
      absl::StrCat("interrupts taken ", word(0), " and ", word(1),
                   ", computations finished ", word(2), " and ", word(3), ", ",
                   irq_name, "s raised ", device_.raised()));
}

namespace {

std::string MomentPrefix(const std::string& stem) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", stem, "_", ::getpid(),
                      "_");
}

}  // namespace

SnapshotMoments::SnapshotMoments(const std::string& stem)
    : prefix_(MomentPrefix(stem)) {}

absl::Status SnapshotMoments::Add(const snapshot::SnapshotFile& file,
                                  uint64_t raised) {
  Moment moment{absl::StrCat(prefix_, moments_.size(), ".hvsnap"), raised};
  RETURN_IF_ERROR(file.WriteTo(moment.path));
  moments_.push_back(std::move(moment));
  return absl::OkStatus();
}

void SnapshotMoments::ExpectEachRestoresTo(
    const std::string& expected, RestoreAndFinish restore_and_finish) {
  for (const Moment& moment : moments_) {
    EXPECT_EQ(InChild([&] {
                absl::StatusOr<snapshot::SnapshotFile> file =
                    snapshot::SnapshotFile::ReadFrom(moment.path);
                absl::StatusOr<std::string> result =
                    file.ok() ? restore_and_finish(*file, moment.raised)
                              : file.status();
                return result.ok() ? *result
                                   : "error: " + result.status().ToString();
              }),
              expected)
        << moment.path << " (device had raised " << moment.raised << ")";
    ::unlink(moment.path.c_str());
  }
}

}  // namespace hv::testing
