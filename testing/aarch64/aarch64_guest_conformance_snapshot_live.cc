// AArch64GuestConformance: snapshots of a busy two-vCPU aarch64 guest,
// taken at random moments while its vCPUs run in their own threads, vCPU
// 0's virtual timer ticks and an irqfd raises an SPI that the vGICv3
// routes to vCPU 1; each snapshot is restored in a child process, which
// must finish with the checksums and interrupt counts of an uninterrupted
// run. One snapshot is taken with the SPI pending in the GIC's
// distributor, one with vCPU 1 waiting in WFI. The aarch64 counterpart of
// X86GuestConformance's SnapshotsOfABusyTwoVcpuGuestRestoreAnywhere
// (testing/x86_guest_conformance_snapshot_live.cc).

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/status_macros.h"
#include "snapshot/aarch64_snapshot.h"
#include "testing/aarch64/aarch64_guest_conformance.h"
#include "testing/live_vcpus.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

// snapshot_pair's wiring (testing/aarch64/guest_image.S): its shared words
// (each vCPU's interrupt count, its "finished" flag, vCPU 1's "ready"
// flag) and its tables, in the scratch RAM.
constexpr uint64_t kPairShared = HV_A64_SCRATCH;
constexpr uint64_t kPairReady = kPairShared + 32;
constexpr uint64_t kPairTables = HV_A64_SCRATCH + 0x1000;  // 4 KiB each
constexpr uint32_t kSpi = 8;  // INTID 40, the irqfd's GSI
constexpr int kVcpus = 2;
// Work per vCPU: vCPU 0 computes with its timer ticking (1 ms a tick);
// vCPU 1 soon waits, woken by each SPI the host raises.
constexpr uint64_t kRounds[kVcpus] = {1000000, 3000};
constexpr uint64_t kInterrupts[kVcpus] = {60, 60};
constexpr int kSnapshots = 20;
constexpr absl::Duration kRunTimeout = absl::Seconds(60);
// The A64 encoding of WFI (Arm ARM, the A64 instruction WFI).
constexpr uint32_t kWfi = 0xd503207f;

// The shared word at guest-physical `address` (RAM starts at
// HV_A64_RAM_BASE).
uint64_t SharedWord(absl::Span<uint8_t> ram, uint64_t address) {
  return GuestWord(ram, address - HV_A64_RAM_BASE);
}

// With a GICv3 ITS where the VM offers one (its registers are then in the
// snapshots, as in the one-vCPU snapshot test).
AArch64GuestOptions PairOptions(bool its) {
  AArch64GuestOptions options = WithGic();
  options.vcpus = kVcpus;
  options.its = its;
  return options;
}

// PairMachine: an AArch64Guest with a GICv3 and two vCPUs set up to run
// snapshot_pair, an irqfd on SPI kSpi and, once Start()ed, a thread per
// vCPU plus a "device" thread (PacedLiveVcpus, testing/live_vcpus.h) that
// raises the irqfd whenever vCPU 1 has taken every SPI raised so far (so
// none coalesce), up to its quota.
class PairMachine {
 public:
  static absl::StatusOr<std::unique_ptr<PairMachine>> Create(
      Hypervisor& hypervisor, bool its) {
    ASSIGN_OR_RETURN(std::unique_ptr<AArch64Guest> guest,
                     AArch64Guest::Create(hypervisor, PairOptions(its)));
    ASSIGN_OR_RETURN(EventFd irq, EventFd::Create());
    RETURN_IF_ERROR(guest->vm().RegisterIrqfd(irq, kSpi));
    for (int i = 0; i < kVcpus; ++i) {
      RETURN_IF_ERROR(guest->Start(i, a64::Routine::kSnapshotPair,
                                   {{1, kSpi + 32},
                                    {3, HV_A64_GICD_BASE},
                                    {19, kPairTables + 0x1000 * i},
                                    {20, kRounds[i]},
                                    {21, static_cast<uint64_t>(i)},
                                    {22, kPairShared},
                                    {28, kInterrupts[i]}}));
    }
    return std::unique_ptr<PairMachine>(
        new PairMachine(std::move(guest), std::move(irq)));
  }

  PairMachine(const PairMachine&) = delete;
  PairMachine& operator=(const PairMachine&) = delete;

  VmAArch64& vm() { return guest_->vm(); }
  VcpuAArch64& vcpu(int i) { return guest_->vcpu(i); }
  std::vector<VcpuAArch64*> vcpus() { return {&vcpu(0), &vcpu(1)}; }
  absl::Span<uint8_t> ram() { return ram_; }
  // Full snapshots: the RAM is written whole (no slot, no dirty log).
  std::vector<snapshot::GuestRam> snapshot_ram() const {
    return {{HV_A64_RAM_BASE, ram_, std::nullopt}};
  }

  // Start(), Pause(), Resume(), PauseAgain(), RaiseWhilePaused() (the SPI,
  // for vCPU 1) and raised(): PacedLiveVcpus's; Pause() and PauseAgain()
  // answer false once a vCPU has begun to report (NoneReported).
  void Start(uint64_t raised) { live_.Start(raised); }
  absl::StatusOr<bool> Pause() {
    return live_.NoneReported(live_.Pause(), reports_);
  }
  void Resume() { live_.Resume(); }
  absl::StatusOr<bool> PauseAgain() {
    return live_.NoneReported(live_.PauseAgain(), reports_);
  }
  absl::StatusOr<bool> RaiseWhilePaused() { return live_.RaiseWhilePaused(); }
  uint64_t raised() { return live_.raised(); }

  // Finish(): waits up to `timeout` for both vCPUs to report and finish,
  // stops every thread, and returns "c0 t0 s0 c1 t1 s1": each vCPU's
  // checksum, timer ticks and SPIs.
  absl::StatusOr<std::string> Finish(absl::Duration timeout) {
    return live_.FinishPair(timeout, reports_, 3,
                            kPairShared - HV_A64_RAM_BASE, "SPI");
  }

 private:
  PairMachine(std::unique_ptr<AArch64Guest> guest, EventFd irq)
      : guest_(std::move(guest)),
        ram_(guest_->ram(), HV_A64_RAM_SIZE),
        live_({&vcpu(0), &vcpu(1)},
              [this](int i, const VcpuExit& exit) {
                return HandleExit(i, exit);
              },
              ram_, kPairReady - HV_A64_RAM_BASE,
              kPairShared + 8 - HV_A64_RAM_BASE, kInterrupts[1],
              std::move(irq)) {}

  // Under LiveVcpus's lock: a report, DONE (true), or a guest exception
  // (an error).
  absl::StatusOr<bool> HandleExit(int i, const VcpuExit& exit) {
    if (exit.kind != VcpuExitKind::kMmio) {
      return absl::InternalError(absl::StrCat("vCPU ", i, ": unexpected exit ",
                                              VcpuExitKindName(exit.kind)));
    }
    bool done = false;
    std::optional<uint64_t> exception;
    RETURN_IF_ERROR(vcpu(i).HandleMmio([&](IoRequest& io) {
      if (!io.is_write) return;
      uint64_t value = 0;
      std::memcpy(&value, io.data.data(), std::min<size_t>(io.data.size(), 8));
      if (io.address == HV_A64_REPORT) reports_[i].push_back(value);
      if (io.address == HV_A64_DONE) done = true;
      if (io.address == HV_A64_EXCEPTION) exception = value;
    }));
    if (exception.has_value()) {
      return absl::InternalError(absl::StrFormat(
          "vCPU %d took an exception: ESR_EL1 %#x", i, *exception));
    }
    return done;
  }

  const std::unique_ptr<AArch64Guest> guest_;
  const absl::Span<uint8_t> ram_;
  // Under live_.mutex() once live_ runs.
  std::vector<uint64_t> reports_[kVcpus];
  // Destroyed first: its threads stop before the guest goes.
  PacedLiveVcpus live_;
};

// What a child process does: a new PairMachine, the snapshot restored into
// it, the device resumed with its count, the guest run to its end
// (SnapshotMoments::RestoreAndFinish).
absl::StatusOr<std::string> RestoreAndFinish(Hypervisor& hypervisor, bool its,
                                             const snapshot::SnapshotFile& file,
                                             uint64_t raised) {
  ASSIGN_OR_RETURN(std::unique_ptr<PairMachine> machine,
                   PairMachine::Create(hypervisor, its));
  RETURN_IF_ERROR(snapshot::RestoreAArch64(
      file, machine->vm(), machine->vcpus(), machine->snapshot_ram()));
  machine->Start(raised);
  return machine->Finish(kRunTimeout);
}

// Whether `intid` (an SPI) is pending in the distributor: its bit of
// GICD_ISPENDR<n> (offset 0x200 + 4n; Arm IHI 0069, GICD_ISPENDR<n>).
absl::StatusOr<bool> SpiPending(PairMachine& machine, uint32_t intid) {
  ASSIGN_OR_RETURN(GicState state, machine.vm().GetGicState(machine.vcpus()));
  const uint32_t offset = 0x200 + 4 * (intid / 32);
  for (const GicState::Register& reg : state.distributor) {
    if (reg.offset == offset) return (reg.value >> (intid % 32) & 1) != 0;
  }
  return absl::NotFoundError(
      absl::StrFormat("no GICD_ISPENDR at %#x in the GIC state", offset));
}

// Whether vCPU 1 is stopped in its WFI: the instruction before its PC is a
// WFI (KVM has stepped the PC past a WFI it trapped by the time it returns
// to user space), and it has finished its computation, so that WFI is its
// wait for the SPI. (A vCPU just woken from it, before its next
// instruction, looks the same.)
absl::StatusOr<bool> InWfi(PairMachine& machine) {
  ASSIGN_OR_RETURN(uint64_t pc, machine.vcpu(1).GetOneReg(AArch64Reg::Pc()));
  if (pc < HV_A64_CODE + 4 || pc >= HV_A64_CODE + HV_A64_CODE_MAX) {
    return false;
  }
  uint32_t before = 0;
  std::memcpy(&before, machine.ram().data() + (pc - 4 - HV_A64_RAM_BASE), 4);
  return before == kWfi && SharedWord(machine.ram(), kPairShared + 24) == 1;
}

TEST_P(AArch64GuestConformance, SnapshotsOfABusyTwoVcpuGuestRestoreAnywhere) {
  ASSERT_OK_AND_ASSIGN(bool gic_v3, GicV3Offered());
  if (!gic_v3) return;
  ASSERT_OK_AND_ASSIGN(bool its, ItsOffered(*hypervisor_));
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> probe,
                         NewGuest(WithGic()));
    ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
    HV_UNIMPLEMENTED_WITHOUT(probe->vm(), VmCap::kIrqfd,
                             probe->vm().RegisterIrqfd(event, kSpi));
  }
  SnapshotMoments moments("a64_pair");

  // The reference: a run without a stop.
  const absl::Time reference_start = absl::Now();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PairMachine> reference,
                       PairMachine::Create(*hypervisor_, its));
  reference->Start(0);
  ASSERT_OK_AND_ASSIGN(const std::string expected,
                       reference->Finish(kRunTimeout));
  const absl::Duration run_time = absl::Now() - reference_start;
  reference.reset();
  // vCPU 0 took only ticks, vCPU 1 only SPIs, each its quota.
  const std::vector<std::string> fields = absl::StrSplit(expected, ' ');
  ASSERT_EQ(fields.size(), 6u) << expected;
  EXPECT_EQ(fields[1], absl::StrCat(kInterrupts[0])) << expected;
  EXPECT_EQ(fields[2], "0") << expected;
  EXPECT_EQ(fields[4], "0") << expected;
  EXPECT_EQ(fields[5], absl::StrCat(kInterrupts[1])) << expected;
  RecordProperty("reference", expected);

  // Snapshots at random moments (a logged seed) of runs like it, each run
  // then finished; the pauses must not change its results either.
  const uint64_t seed = absl::ToUnixNanos(absl::Now());
  RecordProperty("seed", absl::StrCat(seed));
  std::cout << "seed " << seed << ", reference run "
            << absl::FormatDuration(run_time) << ": " << expected << "\n";
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<int64_t> gap_us(
      0, absl::ToInt64Microseconds(run_time) / 12);
  bool raised_paused = false;
  int runs = 0, pending = 0, in_wfi = 0, computing = 0;
  for (int run = 0; run < 40 && moments.size() < kSnapshots; ++run) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<PairMachine> machine,
                         PairMachine::Create(*hypervisor_, its));
    machine->Start(0);
    ++runs;
    while (moments.size() < kSnapshots) {
      absl::SleepFor(absl::Microseconds(gap_us(random)));
      ASSERT_OK_AND_ASSIGN(bool in_time, machine->Pause());
      if (!in_time) break;
      // Once, from the third moment on: the SPI raised while the vCPUs are
      // stopped, so the snapshot holds it pending in the distributor. The
      // device mostly has one in flight: at the next-to-last moment, should
      // it not have been raised yet, pause again (up to 1000 times) until
      // it can be.
      if (!raised_paused && moments.size() >= 2) {
        ASSERT_OK_AND_ASSIGN(raised_paused, machine->RaiseWhilePaused());
        for (int retry = 0; retry < 1000 && in_time && !raised_paused &&
                            moments.size() + 2 == kSnapshots;
             ++retry) {
          ASSERT_OK_AND_ASSIGN(in_time, machine->PauseAgain());
          if (in_time) {
            ASSERT_OK_AND_ASSIGN(raised_paused, machine->RaiseWhilePaused());
          }
        }
        if (!in_time) break;
        if (raised_paused) {
          ASSERT_OK_AND_ASSIGN(bool is_pending,
                               SpiPending(*machine, kSpi + 32));
          EXPECT_TRUE(is_pending)
              << "the irqfd's SPI was not pending in the GIC on return";
        }
      }
      ASSERT_OK_AND_ASSIGN(bool waiting, InWfi(*machine));
      // Likewise at the last moment, should no snapshot have caught vCPU 1
      // in its WFI yet.
      for (int retry = 0; retry < 1000 && in_time && !waiting && in_wfi == 0 &&
                          moments.size() + 1 == kSnapshots;
           ++retry) {
        ASSERT_OK_AND_ASSIGN(in_time, machine->PauseAgain());
        if (in_time) {
          ASSERT_OK_AND_ASSIGN(waiting, InWfi(*machine));
        }
      }
      if (!in_time) break;
      ASSERT_OK_AND_ASSIGN(bool is_pending, SpiPending(*machine, kSpi + 32));
      pending += is_pending;
      in_wfi += waiting;
      computing += SharedWord(machine->ram(), kPairShared + 16) == 0;
      ASSERT_OK_AND_ASSIGN(
          snapshot::SnapshotFile file,
          snapshot::CaptureAArch64(machine->vm(), machine->vcpus(),
                                   machine->snapshot_ram(), "conformance"));
      ASSERT_OK(moments.Add(file, machine->raised()));
      machine->Resume();
    }
    EXPECT_THAT(machine->Finish(kRunTimeout), IsOkAndHolds(expected));
  }
  ASSERT_EQ(moments.size(), kSnapshots) << "runs ended before the moments";
  EXPECT_TRUE(raised_paused) << "the SPI was never raised while paused";
  EXPECT_GT(pending, 0) << "no snapshot with the SPI pending";
  EXPECT_GT(in_wfi, 0) << "no snapshot with vCPU 1 in WFI";
  std::cout << moments.size() << " snapshots over " << runs << " runs: "
            << pending << " with the SPI pending (one raised while paused: "
            << (raised_paused ? "yes" : "no") << "), " << in_wfi
            << " with vCPU 1 in WFI, " << computing
            << " with vCPU 0 computing\n"
            << std::flush;  // before the children fork: printed once
  RecordProperty("snapshots_pending_spi", pending);
  RecordProperty("snapshots_vcpu1_in_wfi", in_wfi);
  RecordProperty("snapshots_vcpu0_computing", computing);

  // Each restored in a child process: the uninterrupted run's results.
  moments.ExpectEachRestoresTo(
      expected, [&](const snapshot::SnapshotFile& file, uint64_t raised) {
        return RestoreAndFinish(*hypervisor_, its, file, raised);
      });
}

}  // namespace
}  // namespace hv::testing
