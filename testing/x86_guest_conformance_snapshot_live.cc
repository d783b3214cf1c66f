// X86GuestConformance: snapshots of a busy two-vCPU guest, taken at random
// moments while its vCPUs run in their own threads, its local APIC timer
// ticks and an irqfd sends MSIs; each snapshot is restored in a
// child process, which must finish with the checksums and interrupt counts
// of an uninterrupted run. One snapshot is taken with an interrupt pending
// in a local APIC, one with a vCPU halted; where the guest can have AVX, a
// YMM register is live throughout.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/boot.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "snapshot/x86_64_snapshot.h"
#include "testing/guest/layout.h"
#include "testing/guest_programs.h"
#include "testing/live_vcpus.h"
#include "testing/status_matchers.h"
#include "testing/x86_guest_conformance.h"

namespace hv::testing {
namespace {

// snapshot_pair's shared words and interrupt wiring (testing/guest/irq.S).
constexpr uint64_t kPairCounts = 0x180000;
constexpr uint64_t kPairIrqReady = kPairCounts + 32;
constexpr uint64_t kPairAvxData = 0x181000;  // %ymm1's 32 bytes
constexpr uint32_t kPairIrqGsi = 24;  // the first after the legacy 0-23
constexpr uint8_t kPairIrqVector = 0x31;
constexpr int kVcpus = 2;
constexpr GuestAddress kStacks[kVcpus] = {HV_GUEST_STACK_TOP, 0x70000};
// Work per vCPU: vCPU 0 computes long with its timer ticking; vCPU 1 soon
// sleeps, woken by each pin interrupt the host raises.
constexpr uint64_t kRounds[kVcpus] = {40000, 4000};
constexpr uint64_t kInterrupts[kVcpus] = {100, 100};
constexpr int kSnapshots = 20;

// PairMachine: a VM with the kernel's irqchip, 2 MiB of RAM, two vCPUs set
// up to run snapshot_pair, an irqfd on GSI 24 routed as an MSI to APIC 1
// and, once Start()ed, a thread per vCPU plus a "device" thread
// (PacedLiveVcpus, testing/live_vcpus.h) that raises the irqfd whenever
// vCPU 1 has taken every interrupt raised so far (so none coalesce), up to
// its quota.
//
// An MSI route, not an I/O APIC pin: KVM delivers an irqfd's MSI before the
// eventfd write returns, but a pin's from a kernel work item a little
// later, so a capture could miss a pin interrupt in flight (the VM and the
// VMM's device would then disagree about it).
class PairMachine {
 public:
  static absl::StatusOr<std::unique_ptr<PairMachine>> Create(
      Hypervisor& hypervisor) {
    ASSIGN_OR_RETURN(std::unique_ptr<Vm> vm, hypervisor.CreateVm());
    VmX86_64* vm86 = vm->AsX86_64();
    if (vm86 == nullptr) return absl::UnimplementedError("not an x86_64 VM");
    RETURN_IF_ERROR(vm86->CreateIrqChip(IrqChipKind::kKernel));
    ASSIGN_OR_RETURN(std::unique_ptr<MemoryRegion> region,
                     MemoryRegion::CreateShared("pair-ram", HV_GUEST_RAM_SIZE));
    const absl::Span<uint8_t> ram(region->data(), region->size());
    RETURN_IF_ERROR(vm->AddMemoryRegion(0, std::move(region), {}).status());
    std::vector<IrqRoute> routes = LegacyRoutes();
    MsiMessage msi;
    msi.address = 0xfee00000 | 1 << 12;  // APIC 1, physical destination
    msi.data = kPairIrqVector;           // fixed delivery, edge
    routes.push_back(IrqRoute::Msi(kPairIrqGsi, msi));
    RETURN_IF_ERROR(vm->SetGsiRouting(routes));
    ASSIGN_OR_RETURN(EventFd irq, EventFd::Create());
    RETURN_IF_ERROR(vm->RegisterIrqfd(irq, kPairIrqGsi));
    // AVX where the guest can be given it: %ymm1 then stays live.
    std::vector<CpuidEntry> cpuid;
    if (hypervisor.CheckCapability(HypervisorCap::kXsave) &&
        hypervisor.CheckCapability(HypervisorCap::kXcrs)) {
      ASSIGN_OR_RETURN(cpuid, vm86->GetSupportedCpuid());
    }
    const bool avx = OffersAvx(cpuid);
    auto machine = std::unique_ptr<PairMachine>(
        new PairMachine(std::move(vm), ram, std::move(irq), avx));
    for (int i = 0; i < 32; ++i) ram[kPairAvxData + i] = 0x3c + 5 * i;
    const GuestProgram program = guest::SnapshotPair();
    std::memcpy(ram.data() + HV_GUEST_CODE, program.bytes.data(),
                program.bytes.size());
    for (int i = 0; i < kVcpus; ++i) {
      ASSIGN_OR_RETURN(std::unique_ptr<VcpuX86_64> vcpu,
                       vm86->CreateVcpuX86_64(i));
      X86BootOptions boot;
      boot.mode = X86Mode::kLong;
      boot.entry = HV_GUEST_CODE;
      boot.tables = HV_GUEST_TABLES;
      boot.stack = kStacks[i];
      RETURN_IF_ERROR(SetupX86Boot(*vcpu, ram, 0, boot));
      ASSIGN_OR_RETURN(Regs regs, vcpu->GetRegs());
      regs.rdi = kRounds[i];
      regs.rsi = i;
      regs.rdx = kInterrupts[i];
      regs.r8 = avx;
      regs.r9 = kPairAvxData;
      RETURN_IF_ERROR(vcpu->SetRegs(regs));
      if (avx) RETURN_IF_ERROR(EnableAvx(*vcpu, cpuid));
      // With the kernel's local APICs an application processor waits for
      // INIT and SIPI; this one starts at once, like the BSP.
      RETURN_IF_ERROR(vcpu->SetMpState(MpState::kRunnable));
      machine->vcpus_.push_back(std::move(vcpu));
    }
    machine->MakeLive();
    return machine;
  }

  PairMachine(const PairMachine&) = delete;
  PairMachine& operator=(const PairMachine&) = delete;

  VmX86_64& vm() { return *vm_->AsX86_64(); }
  bool avx() const { return avx_; }
  std::vector<VcpuX86_64*> vcpus() {
    return {vcpus_[0].get(), vcpus_[1].get()};
  }
  // Full snapshots: the RAM is written whole (no slot, no dirty log).
  std::vector<snapshot::GuestRam> ram() const { return {{0, ram_}}; }

  // Start(), Pause(), Resume(), PauseAgain(), RaiseWhilePaused() (the MSI,
  // for vCPU 1) and raised(): PacedLiveVcpus's; Pause() and PauseAgain()
  // answer false once a vCPU has begun to report (NoneReported).
  void Start(uint64_t raised) { live_->Start(raised); }
  absl::StatusOr<bool> Pause() {
    return live_->NoneReported(live_->Pause(), reports_);
  }
  void Resume() { live_->Resume(); }
  absl::StatusOr<bool> PauseAgain() {
    return live_->NoneReported(live_->PauseAgain(), reports_);
  }
  absl::StatusOr<bool> RaiseWhilePaused() { return live_->RaiseWhilePaused(); }
  uint64_t raised() { return live_->raised(); }

  // Finish(): waits up to `timeout` for both vCPUs to report and finish,
  // stops every thread, and returns "h0 n0 h1 n1": each vCPU's checksum
  // and interrupt count.
  absl::StatusOr<std::string> Finish(absl::Duration timeout) {
    return live_->FinishPair(timeout, reports_, 2, kPairCounts, "MSI");
  }

 private:
  PairMachine(std::unique_ptr<Vm> vm, absl::Span<uint8_t> ram, EventFd irq,
              bool avx)
      : vm_(std::move(vm)), ram_(ram), avx_(avx), irq_(std::move(irq)) {}

  // The threads, once the vCPUs exist.
  void MakeLive() {
    live_ = std::make_unique<PacedLiveVcpus>(
        std::vector<Vcpu*>{vcpus_[0].get(), vcpus_[1].get()},
        [this](int i, const VcpuExit& exit) { return HandleExit(i, exit); },
        ram_, kPairIrqReady, kPairCounts + 8, kInterrupts[1], std::move(irq_));
  }

  // Under LiveVcpus's lock: the report ports; true at DONE.
  absl::StatusOr<bool> HandleExit(int i, const VcpuExit& exit) {
    if (exit.kind != VcpuExitKind::kIo) {
      return absl::InternalError(absl::StrCat(
          "vCPU ", i, ": unexpected exit kind ", static_cast<int>(exit.kind)));
    }
    bool done = false;
    RETURN_IF_ERROR(vcpus_[i]->HandleIo([&](IoRequest& request) {
      if (!request.is_write) return;
      uint64_t value = 0;
      std::memcpy(&value, request.data.data(),
                  std::min<size_t>(request.data.size(), sizeof(value)));
      if (request.address == HV_GUEST_REPORT_PORT) {
        reports_[i].push_back(value);
      } else if (request.address == HV_GUEST_REPORT_HIGH_PORT &&
                 !reports_[i].empty()) {
        reports_[i].back() |= value << 32;
      } else if (request.address == HV_GUEST_DONE_PORT) {
        done = true;
      }
    }));
    return done;
  }

  const std::unique_ptr<Vm> vm_;
  const absl::Span<uint8_t> ram_;
  const bool avx_;
  std::vector<std::unique_ptr<VcpuX86_64>> vcpus_;
  EventFd irq_;  // the device's, until MakeLive()
  // Under live_->mutex() once live_ runs. live_ is destroyed (its threads
  // stopped) before the reports and the vCPUs.
  std::vector<uint64_t> reports_[kVcpus];
  std::unique_ptr<PacedLiveVcpus> live_;
};

constexpr absl::Duration kRunTimeout = absl::Seconds(120);

// What a child process does: a new PairMachine, the snapshot restored into
// it, the device resumed with its count, the guest run to its end
// (SnapshotMoments::RestoreAndFinish).
absl::StatusOr<std::string> RestoreAndFinish(Hypervisor& hypervisor,
                                             const snapshot::SnapshotFile& file,
                                             uint64_t raised) {
  ASSIGN_OR_RETURN(std::unique_ptr<PairMachine> machine,
                   PairMachine::Create(hypervisor));
  RETURN_IF_ERROR(snapshot::RestoreX86_64(file, machine->vm(), machine->vcpus(),
                                          machine->ram()));
  machine->Start(raised);
  return machine->Finish(kRunTimeout);
}

// Whether vCPU `vcpu`'s local APIC has `vector` requested (IRR: eight
// 32-bit registers from offset 0x200, 16 bytes apart; Intel SDM Vol. 3,
// Section 11.8.4).
absl::StatusOr<bool> Requested(VcpuX86_64& vcpu, uint8_t vector) {
  ASSIGN_OR_RETURN(LapicState lapic, vcpu.GetLapic());
  const uint8_t byte = lapic.regs[0x200 + (vector / 32) * 0x10 + (vector % 32) / 8];
  return (byte >> (vector % 8) & 1) != 0;
}

TEST_P(X86GuestConformance, SnapshotsOfABusyTwoVcpuGuestRestoreAnywhere) {
  // Where the hypervisor has no kernel irqchip, NewVmWithKernelIrqChip()
  // checks that asking for one is refused.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> probe, NewVmWithKernelIrqChip());
  if (probe == nullptr) return;
  HV_UNIMPLEMENTED_WITHOUT(*probe, VmCap::kGsiRouting,
                           probe->SetGsiRouting(LegacyRoutes()));
  probe.reset();
  SnapshotMoments moments("pair");

  // The reference: a run without a stop.
  const absl::Time reference_start = absl::Now();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PairMachine> reference,
                       PairMachine::Create(*hypervisor_));
  const bool avx = reference->avx();
  reference->Start(0);
  ASSERT_OK_AND_ASSIGN(const std::string expected,
                       reference->Finish(kRunTimeout));
  const absl::Duration run_time = absl::Now() - reference_start;
  reference.reset();

  // Snapshots at random moments (a logged seed) of runs like it, each run
  // then finished; the pauses must not change its results either.
  const uint64_t seed = absl::ToUnixNanos(absl::Now());
  RecordProperty("seed", absl::StrCat(seed));
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<int64_t> gap_us(
      0, absl::ToInt64Microseconds(run_time) / 16);
  bool pending_taken = false, halted_taken = false;
  int runs = 0, halted = 0;
  for (int run = 0; run < 40 && moments.size() < kSnapshots; ++run) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<PairMachine> machine,
                         PairMachine::Create(*hypervisor_));
    machine->Start(0);
    ++runs;
    while (moments.size() < kSnapshots) {
      absl::SleepFor(absl::Microseconds(gap_us(random)));
      ASSERT_OK_AND_ASSIGN(bool in_time, machine->Pause());
      if (!in_time) break;
      // Once: an interrupt raised while the vCPUs are stopped, so the
      // snapshot holds it requested in vCPU 1's local APIC.
      if (!pending_taken && moments.size() >= 2) {
        ASSERT_OK_AND_ASSIGN(bool raised, machine->RaiseWhilePaused());
        if (raised) {
          ASSERT_OK_AND_ASSIGN(pending_taken,
                               Requested(*machine->vcpus()[1], kPairIrqVector));
          EXPECT_TRUE(pending_taken)
              << "the irqfd's MSI was not in vCPU 1's local APIC on return";
        }
      }
      ASSERT_OK_AND_ASSIGN(MpState state, machine->vcpus()[1]->GetMpState());
      // Before the last moment, should no snapshot have caught vCPU 1
      // halted yet: pause again (up to 1000 times) until one does.
      for (int retry = 0; retry < 1000 && state != MpState::kHalted &&
                          !halted_taken && moments.size() + 1 == kSnapshots;
           ++retry) {
        ASSERT_OK_AND_ASSIGN(in_time, machine->PauseAgain());
        if (!in_time) break;
        ASSERT_OK_AND_ASSIGN(state, machine->vcpus()[1]->GetMpState());
      }
      if (!in_time) break;
      halted += state == MpState::kHalted;
      halted_taken |= state == MpState::kHalted;
      ASSERT_OK_AND_ASSIGN(
          snapshot::SnapshotFile file,
          snapshot::CaptureX86_64(machine->vm(), machine->vcpus(),
                                  machine->ram(), GetParam().name));
      ASSERT_OK(moments.Add(file, machine->raised()));
      machine->Resume();
    }
    EXPECT_THAT(machine->Finish(kRunTimeout), IsOkAndHolds(expected));
  }
  ASSERT_EQ(moments.size(), kSnapshots) << "runs ended before the moments";
  EXPECT_TRUE(pending_taken) << "no snapshot with an interrupt requested";
  EXPECT_TRUE(halted_taken) << "no snapshot with vCPU 1 halted";
  std::cout << moments.size() << " snapshots over " << runs << " runs (seed "
            << seed << "), " << halted << " with vCPU 1 halted, AVX "
            << (avx ? "live" : "not offered") << "\n"
            << std::flush;  // before the children fork: printed once

  // Each restored in a child process: the uninterrupted run's results.
  moments.ExpectEachRestoresTo(
      expected, [&](const snapshot::SnapshotFile& file, uint64_t raised) {
        return RestoreAndFinish(*hypervisor_, file, raised);
      });
}

}  // namespace
}  // namespace hv::testing
