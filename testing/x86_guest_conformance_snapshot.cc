// X86GuestConformance: snapshot and restore (snapshot/x86_64_snapshot.h) of
// a guest stopped mid-computation -- a full snapshot, then an incremental
// one after it wrote a little more -- restored into a new VM in a child
// process, which must finish with the results of an uninterrupted run.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/boot.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "snapshot/codec.h"
#include "snapshot/x86_64_snapshot.h"
#include "testing/in_child.h"
#include "testing/status_matchers.h"
#include "testing/x86_guest_conformance.h"

namespace hv::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr uint64_t kRounds = 1500;
constexpr uint64_t kTable = 0x100000;  // snapshot_worker's table

void SetRounds(Regs& regs) { regs.rdi = kRounds; }

std::string SnapshotPath(const char* name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/x86_guest_", ::getpid(),
                      "_", name, ".hvsnap");
}

// A VM like the captured one: with the kernel's irqchip if that had one.
absl::StatusOr<std::unique_ptr<Vm>> VmLike(Hypervisor& hypervisor,
                                          bool irqchip) {
  ASSIGN_OR_RETURN(std::unique_ptr<Vm> vm, hypervisor.CreateVm());
  if (irqchip) RETURN_IF_ERROR(vm->AsX86_64()->CreateIrqChip(IrqChipKind::kKernel));
  return vm;
}

// What the child process does: a new VM and vCPU, the chain of snapshots
// restored into them, the guest run to its end; the reports it made, then
// the number of other accesses (0: it went on from the last signal, not
// from the start).
absl::StatusOr<std::vector<uint64_t>> RestoreAndFinish(
    Hypervisor& hypervisor, bool irqchip,
    const std::vector<std::string>& paths) {
  ASSIGN_OR_RETURN(std::unique_ptr<Vm> vm, VmLike(hypervisor, irqchip));
  ASSIGN_OR_RETURN(std::unique_ptr<GuestFixture> guest,
                   GuestFixture::Create(*vm));
  // The fixture's boot state (and CPUID) first, as a VMM would configure a
  // new vCPU; the snapshots then replace the state.
  RETURN_IF_ERROR(guest->Load(guest::SnapshotWorker(), GuestMode::kLong));
  ASSIGN_OR_RETURN(std::vector<snapshot::SnapshotFile> files,
                   snapshot::ReadSnapshotChain(paths));
  const std::vector<const snapshot::SnapshotFile*> chain =
      snapshot::ChainOf(files);
  VcpuX86_64* vcpus[] = {&guest->vcpu()};
  const snapshot::GuestRam ram[] = {{0, guest->ram(), guest->ram_slot()}};
  snapshot::RestoreOptions options;
  options.backend = std::string(hypervisor.kind());
  RETURN_IF_ERROR(
      snapshot::RestoreX86_64(chain, *vm->AsX86_64(), vcpus, ram, options));
  ASSIGN_OR_RETURN(GuestRunResult run, guest->Run());
  std::vector<uint64_t> result = run.reports;
  result.push_back(run.accesses.size());
  return result;
}

// Runs RestoreAndFinish in a child process; its answer as text.
std::string RestoredInChild(Hypervisor& hypervisor, bool irqchip,
                            const std::vector<std::string>& paths) {
  return InChild([&] {
    absl::StatusOr<std::vector<uint64_t>> reports =
        RestoreAndFinish(hypervisor, irqchip, paths);
    if (reports.ok() && reports->size() == 3) {
      return absl::StrCat("ok ", (*reports)[0], " ", (*reports)[1],
                          " accesses ", (*reports)[2]);
    }
    if (reports.ok()) return absl::StrCat("error: ", reports->size() - 1, " reports");
    return absl::StrCat("error: ", reports.status().ToString());
  });
}

TEST_P(X86GuestConformance, SnapshotRestoredInAnotherProcessContinues) {
  // The reference: the program run through without a stop.
  ASSERT_OK(guest_->Load(guest::SnapshotWorker(), GuestMode::kLong, SetRounds));
  ASSERT_OK_AND_ASSIGN(GuestRunResult reference, guest_->Run());
  ASSERT_THAT(reference.reports, SizeIs(2));

  // A VM with the kernel's irqchip where there is one (its LAPIC, PICs,
  // I/O APIC and PIT are then in the snapshot), its RAM logging dirty
  // pages where the VM can switch that on.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, NewVmWithKernelIrqChip());
  const bool irqchip = vm != nullptr;
  if (!irqchip) {
    ASSERT_OK_AND_ASSIGN(vm, NewVm());
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<GuestFixture> guest,
                       GuestFixture::Create(*vm));
  const bool incremental = vm->CheckCapability(VmCap::kDirtyLogSwitch);
  std::optional<MemSlot> slot;
  if (incremental) {
    ASSERT_OK(vm->SetDirtyLogging(guest->ram_slot(), true));
    slot = guest->ram_slot();
  }
  ASSERT_OK(guest->Load(guest::SnapshotWorker(), GuestMode::kLong, SetRounds));
  VcpuX86_64* vcpus[] = {&guest->vcpu()};
  const snapshot::GuestRam ram[] = {{0, guest->ram(), slot}};
  GuestRunOptions until_signal;
  until_signal.until = VcpuExitKind::kIo;

  // Stopped at the first signal (phase one's table in memory, the hash in
  // registers and an MSR): a full snapshot.
  ASSERT_OK_AND_ASSIGN(GuestRunResult first, guest->Run(until_signal));
  ASSERT_EQ(first.exit.io.port, HV_GUEST_SIGNAL_PORT);
  ASSERT_OK_AND_ASSIGN(
      snapshot::SnapshotFile full,
      snapshot::CaptureX86_64(*vm->AsX86_64(), vcpus, ram, GetParam().name));
  EXPECT_EQ(full.Has(snapshot::Tag::kVcpuLapic, 0), irqchip);
  EXPECT_EQ(full.Has(snapshot::Tag::kVmIoapic, 0), irqchip);
  const std::string full_path = SnapshotPath("full");
  ASSERT_OK(full.WriteTo(full_path));
  std::vector<std::string> chain = {full_path};

  // At the second signal (16 table entries changed): an incremental one
  // that holds only the pages written since.
  ASSERT_OK_AND_ASSIGN(GuestRunResult second, guest->Run(until_signal));
  ASSERT_EQ(second.exit.io.port, HV_GUEST_SIGNAL_PORT);
  snapshot::CaptureOptions options;
  ASSERT_OK_AND_ASSIGN(options.parent_id, snapshot::SnapshotId(full));
  if (incremental) {
    ASSERT_OK_AND_ASSIGN(snapshot::SnapshotFile delta,
                         snapshot::CaptureX86_64(*vm->AsX86_64(), vcpus, ram,
                                                 GetParam().name, options));
    ASSERT_OK_AND_ASSIGN(absl::Span<const uint8_t> pages,
                         delta.Find(snapshot::Tag::kMemoryPages, 0));
    // Exactly the pages written in between: the table's page, which the
    // guest changed, and at most the page-table pages whose accessed and
    // dirty bits a hardware page walk set (3 on an SVM KVM, none on
    // kvm_pvm) -- against the 512 pages of the full one -- each holding
    // what guest RAM holds now.
    snapshot::ByteReader in(pages, "pages");
    ASSERT_OK(in.Get64("guest address").status());
    ASSERT_OK(in.Get64("range size").status());
    ASSERT_THAT(in.Get32("page size"), IsOkAndHolds(4096u));
    ASSERT_OK_AND_ASSIGN(uint64_t count, in.Get64("page count"));
    std::vector<uint64_t> numbers;
    for (uint64_t n = 0; n < count; ++n) {
      ASSERT_OK_AND_ASSIGN(uint64_t page, in.Get64("page number"));
      ASSERT_OK_AND_ASSIGN(absl::Span<const uint8_t> data,
                           in.GetBytes("page", 4096));
      ASSERT_LT(page, HV_GUEST_RAM_SIZE / 4096);
      EXPECT_TRUE(std::equal(data.begin(), data.end(),
                             guest->ram().begin() + page * 4096))
          << "page " << page;
      numbers.push_back(page);
      if (page != kTable / 4096) {
        EXPECT_GE(page * 4096, uint64_t{HV_GUEST_TABLES}) << "page " << page;
        EXPECT_LT(page * 4096, HV_GUEST_TABLES + kX86BootTablesSize)
            << "page " << page << " is neither the table nor a page table";
      }
    }
    ASSERT_OK(in.Done());
    EXPECT_THAT(numbers, ::testing::Contains(kTable / 4096));
    const std::string delta_path = SnapshotPath("delta");
    ASSERT_OK(delta.WriteTo(delta_path));
    chain.push_back(delta_path);
  } else {
    ASSERT_OK_AND_ASSIGN(
        snapshot::SnapshotFile again,
        snapshot::CaptureX86_64(*vm->AsX86_64(), vcpus, ram, GetParam().name));
    ASSERT_OK(again.WriteTo(full_path));
  }

  // A snapshot that does not fit is refused before anything is written: a
  // RAM range of another size leaves the new VM's memory as it was; a chain
  // without its full snapshot is refused.
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> other,
                         VmLike(*hypervisor_, irqchip));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<GuestFixture> other_guest,
                         GuestFixture::Create(*other));
    VcpuX86_64* other_vcpus[] = {&other_guest->vcpu()};
    const snapshot::GuestRam half[] = {
        {0, other_guest->ram().subspan(0, other_guest->ram().size() / 2)}};
    EXPECT_THAT(
        snapshot::RestoreX86_64(full, *other->AsX86_64(), other_vcpus, half),
        StatusIs(absl::StatusCode::kFailedPrecondition,
                 HasSubstr("RAM range 0")));
    EXPECT_EQ(other_guest->ram()[kTable], 0);
    if (incremental) {
      ASSERT_OK_AND_ASSIGN(snapshot::SnapshotFile delta,
                           snapshot::SnapshotFile::ReadFrom(chain.back()));
      const snapshot::GuestRam whole[] = {{0, other_guest->ram()}};
      EXPECT_THAT(
          snapshot::RestoreX86_64(delta, *other->AsX86_64(), other_vcpus,
                                  whole),
          StatusIs(absl::StatusCode::kFailedPrecondition,
                   HasSubstr("incremental")));
      EXPECT_EQ(other_guest->ram()[kTable], 0);
    }
  }

  // Restored in a child process (a new VM of its own): the reference's
  // results, and no signal write: the guest went on from where it stopped.
  EXPECT_EQ(RestoredInChild(*hypervisor_, irqchip, chain),
            absl::StrCat("ok ", reference.reports[0], " ",
                         reference.reports[1], " accesses 0"));
  for (const std::string& path : chain) ::unlink(path.c_str());
}

}  // namespace
}  // namespace hv::testing
