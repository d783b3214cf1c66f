// AArch64GuestConformance: snapshot and restore of an aarch64 VM
// (snapshot/aarch64_snapshot.h) with a guest busy with interrupts: the
// guest image's snapshot_worker computes over memory while the virtual
// timer ticks and an SPI arrives through the vGICv3. Snapshots taken
// mid-computation, with the SPI pending behind masked IRQs and with the
// vCPU waiting in WFI (a full one, then incremental ones from the dirty
// log) are each restored by a forked child into a new VM, whose guest
// finishes with an uninterrupted run's checksum and interrupt counts, its
// virtual counter not jumping over the time the snapshot waited -- or,
// restored with RestoreOptions::advance_clock_by_downtime, jumping by at
// least that time. A VM that does not fit is refused with nothing changed.

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/os/status_macros.h"
#include "snapshot/aarch64_snapshot.h"
#include "testing/aarch64/aarch64_guest_conformance.h"
#include "testing/in_child.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using a64::Routine;
using ::testing::HasSubstr;

constexpr uint32_t kSpi = 8;          // INTID 40
constexpr uint64_t kRounds = 200000;  // a multiple of 4
constexpr uint64_t kTicks = 200;      // 1 ms each
// What snapshot_worker stores at HV_A64_DATA, and the host's own stage: the
// vCPU kicked out of its final wait.
constexpr uint64_t kStageQuarter = 1;
constexpr uint64_t kStageMasked = 2;
constexpr uint64_t kStageWaiting = 3;
constexpr uint64_t kStageInWfi = 4;
// How long the child waits between building its VM (whose virtual counter
// starts then) and restoring: four times the counter step the test allows
// between two ticks, so a counter that ran on while the snapshot waited,
// or that started over with the new VM, would show. Half a second between
// ticks: the arm64 VM is emulated, and under load two ticks were once
// 0.29 s apart with nothing wrong.
constexpr absl::Duration kChildDelay = absl::Seconds(2);
constexpr uint64_t kLargestStepDivisor = 2;  // of the counter frequency

// `its`: with a GICv3 ITS too (its registers are then in the snapshots).
AArch64GuestOptions WorkerOptions(bool its) {
  AArch64GuestOptions options = WithGic();
  options.vcpus = 2;  // vCPU 1 stays powered off
  options.its = its;
  return options;
}

// A new guest set up for snapshot_worker: vCPU 0 at the routine, vCPU 1
// powered off (as a secondary before PSCI CPU_ON).
absl::StatusOr<std::unique_ptr<AArch64Guest>> WorkerGuest(
    Hypervisor& hypervisor, bool its) {
  ASSIGN_OR_RETURN(std::unique_ptr<AArch64Guest> guest,
                   AArch64Guest::Create(hypervisor, WorkerOptions(its)));
  RETURN_IF_ERROR(guest->Start(0, Routine::kSnapshotWorker,
                               {{1, kSpi + 32},
                                {2, 1},
                                {3, HV_A64_GICD_BASE},
                                {19, HV_A64_SCRATCH},
                                {20, kRounds},
                                {28, kTicks}}));
  RETURN_IF_ERROR(guest->vcpu(1).SetMpState(MpState::kStopped));
  return guest;
}

std::vector<VcpuAArch64*> Vcpus(AArch64Guest& guest) {
  std::vector<VcpuAArch64*> vcpus;
  for (uint32_t i = 0; i < guest.vcpu_count(); ++i) {
    vcpus.push_back(&guest.vcpu(i));
  }
  return vcpus;
}

std::vector<snapshot::GuestRam> Ram(AArch64Guest& guest,
                                    std::optional<MemSlot> slot,
                                    uint64_t size = HV_A64_RAM_SIZE) {
  return {{HV_A64_RAM_BASE, absl::MakeSpan(guest.ram(), size), slot}};
}

// Kicks a vCPU out of Run() after a delay, from a thread of its own;
// joined on destruction.
class DelayedKick {
 public:
  DelayedKick(Vcpu& vcpu, absl::Duration delay)
      : thread_([&vcpu, delay] {
          absl::SleepFor(delay);
          (void)vcpu.Kick();
        }) {}
  ~DelayedKick() { thread_.join(); }

 private:
  std::thread thread_;
};

// Runs snapshot_worker on vCPU 0 to its DONE: raises the SPI (an edge) at
// stage 2, kicks the vCPU 20 ms into its final wait, and calls `at_stage`
// at every stage (outside any exit's handling). Returns the reports.
absl::StatusOr<std::vector<uint64_t>> RunWorker(
    AArch64Guest& guest,
    const std::function<absl::Status(uint64_t)>& at_stage) {
  VcpuAArch64& cpu = guest.vcpu(0);
  std::vector<uint64_t> reports;
  std::optional<DelayedKick> kick;
  for (int exits = 0; exits < 100; ++exits) {
    ASSIGN_OR_RETURN(VcpuExit exit, cpu.Run());
    if (exit.kind == VcpuExitKind::kInterrupted) {
      kick.reset();
      RETURN_IF_ERROR(at_stage(kStageInWfi));
      continue;
    }
    if (exit.kind != VcpuExitKind::kMmio) {
      return absl::InternalError(absl::StrCat(
          "snapshot_worker: unexpected exit ", VcpuExitKindName(exit.kind)));
    }
    uint64_t stage = 0;
    bool done = false;
    std::optional<uint64_t> exception;
    RETURN_IF_ERROR(cpu.HandleMmio([&](IoRequest& io) {
      uint64_t value = 0;
      std::memcpy(&value, io.data.data(), std::min<size_t>(io.data.size(), 8));
      if (!io.is_write) return;
      if (io.address == HV_A64_REPORT) reports.push_back(value);
      if (io.address == HV_A64_DONE) done = true;
      if (io.address == HV_A64_EXCEPTION) exception = value;
      if (io.address == HV_A64_DATA) stage = value;
    }));
    if (exception.has_value()) {
      return absl::InternalError(absl::StrFormat(
          "snapshot_worker: exception, ESR_EL1 %#x", *exception));
    }
    if (done) return reports;
    if (stage == kStageMasked) {
      RETURN_IF_ERROR(guest.vm().SetIrqLine(kSpi, true));
      RETURN_IF_ERROR(guest.vm().SetIrqLine(kSpi, false));
    }
    if (stage != 0) RETURN_IF_ERROR(at_stage(stage));
    if (stage == kStageWaiting) kick.emplace(cpu, absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError("snapshot_worker: no DONE in 100 exits");
}

absl::Status NoSnapshot(uint64_t) { return absl::OkStatus(); }

std::string SnapshotPath(int n) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/aarch64_guest_",
                      ::getpid(), "_", n, ".hvsnap");
}

// In the child: builds a new guest, waits, restores `paths` (a chain)
// into it with `options` and runs it to the end. "ok <checksum> <ticks>
// <SPIs> vcpu1 <MP state> | <largest counter step after the restore>
// <counter frequency>".
absl::StatusOr<std::string> RestoreAndFinish(
    Hypervisor& hypervisor, bool its, const std::vector<std::string>& paths,
    const snapshot::RestoreOptions& options = {}) {
  ASSIGN_OR_RETURN(std::unique_ptr<AArch64Guest> guest,
                   AArch64Guest::Create(hypervisor, WorkerOptions(its)));
  absl::SleepFor(kChildDelay);
  ASSIGN_OR_RETURN(std::vector<snapshot::SnapshotFile> files,
                   snapshot::ReadSnapshotChain(paths));
  const std::vector<const snapshot::SnapshotFile*> chain =
      snapshot::ChainOf(files);
  RETURN_IF_ERROR(snapshot::RestoreAArch64(chain, guest->vm(), Vcpus(*guest),
                                           Ram(*guest, std::nullopt), options));
  ASSIGN_OR_RETURN(MpState secondary, guest->vcpu(1).GetMpState());
  // The largest counter step (x30) from here on: the first tick's step
  // spans the capture and this restore. (The source VM's counter ran on
  // while it stood for its captures; those steps are not this test's.)
  RETURN_IF_ERROR(guest->vcpu(0).SetOneReg(AArch64Reg::X(30), 0));
  ASSIGN_OR_RETURN(std::vector<uint64_t> reports,
                   RunWorker(*guest, NoSnapshot));
  if (reports.size() != 5) {
    return absl::InternalError(absl::StrCat(reports.size(), " reports"));
  }
  return absl::StrCat("ok ", reports[0], " ", reports[1], " ", reports[2],
                      " vcpu1 ", MpStateName(secondary), " | ", reports[3], " ",
                      reports[4]);
}

// The largest counter step and the frequency after " | " in
// RestoreAndFinish's answer.
void ParseStep(const std::string& answer, uint64_t* largest, uint64_t* frequency) {
  const std::vector<std::string> parts = absl::StrSplit(answer, " | ");
  ASSERT_EQ(parts.size(), 2u) << answer;
  const std::vector<std::string> step = absl::StrSplit(parts[1], ' ');
  ASSERT_EQ(step.size(), 2u) << answer;
  ASSERT_TRUE(absl::SimpleAtoi(step[0], largest)) << answer;
  ASSERT_TRUE(absl::SimpleAtoi(step[1], frequency)) << answer;
}

TEST_P(AArch64GuestConformance,
       SnapshotWithTimerAndSpiRestoredInAnotherProcess) {
  ASSERT_OK_AND_ASSIGN(bool gic_v3, GicV3Offered());
  if (!gic_v3) return;
  ASSERT_OK_AND_ASSIGN(bool its, ItsOffered(*hypervisor_));
  // The reference: the routine run through without a stop.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> reference,
                       WorkerGuest(*hypervisor_, its));
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> expected,
                       RunWorker(*reference, NoSnapshot));
  ASSERT_EQ(expected.size(), 5u);
  EXPECT_EQ(expected[1], kTicks);
  EXPECT_EQ(expected[2], 1u);  // the SPI
  RecordProperty("reference",
                 absl::StrFormat("checksum %#x, %u ticks, %u SPI, largest "
                                 "counter step %u of %u Hz",
                                 expected[0], expected[1], expected[2],
                                 expected[3], expected[4]));
  reference.reset();

  // The same run, captured at each stage: a full snapshot at the first,
  // then incremental ones (the RAM slot logs dirty pages).
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest,
                       WorkerGuest(*hypervisor_, its));
  std::optional<MemSlot> slot;
  if (guest->vm().SetDirtyLogging(guest->ram_slot(), true).ok()) {
    slot = guest->ram_slot();
  }
  std::vector<std::string> paths;
  std::vector<uint64_t> stages;
  uint64_t parent = 0;
  auto capture = [&](uint64_t stage) -> absl::Status {
    snapshot::CaptureOptions options;
    options.parent_id = parent;
    ASSIGN_OR_RETURN(
        snapshot::SnapshotFile file,
        snapshot::CaptureAArch64(guest->vm(), Vcpus(*guest), Ram(*guest, slot),
                                 "conformance", options));
    ASSIGN_OR_RETURN(parent, snapshot::SnapshotId(file));
    paths.push_back(SnapshotPath(static_cast<int>(paths.size())));
    stages.push_back(stage);
    return file.WriteTo(paths.back());
  };
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> captured,
                       RunWorker(*guest, capture));
  // Carrying on after the captures changed nothing.
  ASSERT_EQ(captured.size(), 5u);
  EXPECT_EQ(captured[0], expected[0]);
  EXPECT_EQ(captured[1], kTicks);
  EXPECT_EQ(captured[2], 1u);
  RecordProperty("captured_largest_counter_step", absl::StrCat(captured[3]));
  EXPECT_EQ(stages, (std::vector<uint64_t>{kStageQuarter, kStageMasked,
                                           kStageWaiting, kStageInWfi}))
      << "the vCPU was not caught in its final wait";
  guest.reset();

  // Each snapshot, with the ones before it, restored in a new process.
  const std::string want =
      absl::StrCat("ok ", expected[0], " ", kTicks, " 1 vcpu1 stopped");
  for (size_t n = 0; n < paths.size(); ++n) {
    SCOPED_TRACE(
        absl::StrCat("restored up to the snapshot of stage ", stages[n]));
    std::vector<std::string> chain(paths.begin(), paths.begin() + n + 1);
    const std::string answer = InChild([&] {
      absl::StatusOr<std::string> result =
          RestoreAndFinish(*hypervisor_, its, chain);
      return result.ok() ? *result
                         : absl::StrCat("error: ", result.status().ToString());
    });
    EXPECT_THAT(answer, ::testing::StartsWith(want + " | "));
    // The guest's counter went on from where it was captured: no step
    // between two ticks (unsigned: one backwards is huge) of half a second
    // or more.
    uint64_t largest = 0;
    uint64_t frequency = 0;
    ParseStep(answer, &largest, &frequency);
    EXPECT_LT(largest, frequency / kLargestStepDivisor) << answer;
    RecordProperty(absl::StrCat("restored_", n, "_largest_counter_step"),
                   absl::StrCat(largest));
  }

  // An incremental snapshot without its parent is no chain.
  if (slot.has_value()) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> fresh,
                         WorkerGuest(*hypervisor_, its));
    ASSERT_OK_AND_ASSIGN(std::vector<snapshot::SnapshotFile> last,
                         snapshot::ReadSnapshotChain({paths.back()}));
    EXPECT_THAT(snapshot::RestoreAArch64(last[0], fresh->vm(), Vcpus(*fresh),
                                         Ram(*fresh, std::nullopt)),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("a chain starts full")));
  }
  for (const std::string& path : paths) ::unlink(path.c_str());
}

// RestoreOptions::advance_clock_by_downtime: a snapshot taken mid-run and
// restored in a child that waits kChildDelay first, the counter advanced
// by the time since the capture. The guest finishes as an uninterrupted
// run does, and its first tick after the restore sees the wait: a counter
// step of at least kChildDelay. (Without the option the same restore shows
// none of half a second: SnapshotWithTimerAndSpiRestoredInAnotherProcess.)
TEST_P(AArch64GuestConformance, SnapshotRestoredWithTheDowntimeSeesItPass) {
  ASSERT_OK_AND_ASSIGN(bool gic_v3, GicV3Offered());
  if (!gic_v3) return;
  ASSERT_OK_AND_ASSIGN(bool its, ItsOffered(*hypervisor_));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest,
                       WorkerGuest(*hypervisor_, its));
  const std::string path = SnapshotPath(100);
  bool taken = false;
  ASSERT_OK_AND_ASSIGN(
      std::vector<uint64_t> expected,
      RunWorker(*guest, [&](uint64_t stage) -> absl::Status {
        if (stage != kStageQuarter) return absl::OkStatus();
        ASSIGN_OR_RETURN(snapshot::SnapshotFile file,
                         snapshot::CaptureAArch64(guest->vm(), Vcpus(*guest),
                                                  Ram(*guest, std::nullopt),
                                                  "conformance"));
        taken = true;
        if (!file.Has(snapshot::Tag::kVmAArch64Clock, 0)) {
          return absl::InternalError("the capture recorded no clock");
        }
        return file.WriteTo(path);
      }));
  ASSERT_TRUE(taken);
  ASSERT_EQ(expected.size(), 5u);
  guest.reset();

  snapshot::RestoreOptions advance;
  advance.advance_clock_by_downtime = true;
  const std::string answer = InChild([&] {
    absl::StatusOr<std::string> result =
        RestoreAndFinish(*hypervisor_, its, {path}, advance);
    return result.ok() ? *result : absl::StrCat("error: ", result.status().ToString());
  });
  EXPECT_THAT(answer, ::testing::StartsWith(absl::StrCat("ok ", expected[0], " ", kTicks,
                                                         " 1 vcpu1 stopped | ")));
  uint64_t largest = 0;
  uint64_t frequency = 0;
  ParseStep(answer, &largest, &frequency);
  ASSERT_GT(frequency, 0u) << answer;
  const uint64_t delay_ticks = frequency * absl::ToInt64Milliseconds(kChildDelay) / 1000;
  EXPECT_GE(largest, delay_ticks) << answer;
  // ... and not by some other scale (the capture, the file and the child's
  // start take seconds at most).
  EXPECT_LT(largest, delay_ticks + 60 * frequency) << answer;
  RecordProperty("advanced_largest_counter_step", absl::StrCat(largest));
  ::unlink(path.c_str());
}

// A restore that does not fit: refused naming the mismatch, the VM's RAM
// and registers as they were.
TEST_P(AArch64GuestConformance, SnapshotRefusedByAVmThatDoesNotFit) {
  ASSERT_OK_AND_ASSIGN(bool gic_v3, GicV3Offered());
  if (!gic_v3) return;
  ASSERT_OK_AND_ASSIGN(bool its, ItsOffered(*hypervisor_));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> source,
                       WorkerGuest(*hypervisor_, its));
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> reports,
                       RunWorker(*source, NoSnapshot));
  ASSERT_OK_AND_ASSIGN(
      snapshot::SnapshotFile file,
      snapshot::CaptureAArch64(source->vm(), Vcpus(*source),
                               Ram(*source, std::nullopt), "conformance"));

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> target,
                       WorkerGuest(*hypervisor_, its));
  const std::vector<uint8_t> ram_before(target->ram(),
                                        target->ram() + HV_A64_RAM_SIZE);
  ASSERT_OK_AND_ASSIGN(uint64_t pc_before,
                       target->vcpu(0).GetOneReg(AArch64Reg::Pc()));
  auto unchanged = [&] {
    EXPECT_TRUE(
        std::equal(ram_before.begin(), ram_before.end(), target->ram()));
    EXPECT_THAT(target->vcpu(0).GetOneReg(AArch64Reg::Pc()),
                IsOkAndHolds(pc_before));
    EXPECT_THAT(target->vcpu(1).GetMpState(), IsOkAndHolds(MpState::kStopped));
  };
  // Half the RAM.
  EXPECT_THAT(
      snapshot::RestoreAArch64(file, target->vm(), Vcpus(*target),
                               Ram(*target, std::nullopt, HV_A64_RAM_SIZE / 2)),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("RAM range 0")));
  unchanged();
  // One vCPU of the two.
  std::vector<VcpuAArch64*> one = {&target->vcpu(0)};
  EXPECT_THAT(snapshot::RestoreAArch64(file, target->vm(), one,
                                       Ram(*target, std::nullopt)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("2 vCPUs, 1 were given")));
  unchanged();
  // No vCPU, and a RAM range of no bytes.
  EXPECT_THAT(
      snapshot::RestoreAArch64(file, target->vm(), {},
                               Ram(*target, std::nullopt)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no vCPU given")));
  EXPECT_THAT(
      snapshot::CaptureAArch64(target->vm(), Vcpus(*target),
                               Ram(*target, std::nullopt, 0), "conformance")
          .status(),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("RAM range 0 (guest address 0x40000000) is "
                         "empty")));
  unchanged();

  // A VM without a GIC cannot take the GIC's state.
  AArch64GuestOptions no_gic;
  no_gic.vcpus = 2;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> plain,
                       AArch64Guest::Create(*hypervisor_, no_gic));
  ASSERT_OK(plain->Start(0, Routine::kSpin, {}));
  ASSERT_OK_AND_ASSIGN(uint64_t plain_pc,
                       plain->vcpu(0).GetOneReg(AArch64Reg::Pc()));
  EXPECT_THAT(
      snapshot::RestoreAArch64(file, plain->vm(), Vcpus(*plain),
                               Ram(*plain, std::nullopt)),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("GICv3")));
  EXPECT_THAT(plain->vcpu(0).GetOneReg(AArch64Reg::Pc()),
              IsOkAndHolds(plain_pc));
  if (its) {
    // Nor one without an ITS the ITS's state.
    AArch64GuestOptions no_its = WorkerOptions(false);
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> gic_only,
                         AArch64Guest::Create(*hypervisor_, no_its));
    EXPECT_THAT(snapshot::RestoreAArch64(file, gic_only->vm(), Vcpus(*gic_only),
                                         Ram(*gic_only, std::nullopt)),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("GIC ITS state")));
  }

  // A VM on another backend than the file's; a counter advanced by the
  // downtime when the file does not say when it was captured.
  snapshot::RestoreOptions other_backend;
  other_backend.backend = "gunyah";
  EXPECT_THAT(snapshot::RestoreAArch64(file, target->vm(), Vcpus(*target),
                                       Ram(*target, std::nullopt), other_backend),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("recorded on the \"conformance\" backend; "
                                 "this VM runs on \"gunyah\"")));
  snapshot::SnapshotFile no_clock(file.arch(), file.backend());
  for (const snapshot::SnapshotFile::Section& section : file.sections()) {
    if (section.tag == snapshot::Tag::kVmAArch64Clock) continue;
    no_clock.Add(section.tag, section.index, section.payload);
  }
  snapshot::RestoreOptions advance;
  advance.advance_clock_by_downtime = true;
  EXPECT_THAT(snapshot::RestoreAArch64(no_clock, target->vm(), Vcpus(*target),
                                       Ram(*target, std::nullopt), advance),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("does not record when it was captured")));
  unchanged();

  // The same file fits a VM like the source's: its guest is then at DONE.
  snapshot::RestoreOptions same_backend;
  same_backend.backend = "conformance";
  ASSERT_OK(snapshot::RestoreAArch64(file, target->vm(), Vcpus(*target),
                                     Ram(*target, std::nullopt), same_backend));
  EXPECT_THAT(target->vcpu(0).GetOneReg(AArch64Reg::X(3)),
              IsOkAndHolds(reports[0]));
}

}  // namespace
}  // namespace hv::testing
