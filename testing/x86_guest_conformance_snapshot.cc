// X86GuestConformance: snapshot and restore (snapshot/x86_64_snapshot.h) of
// a guest stopped mid-computation, restored into a new VM in a child
// process, which must finish with the results of an uninterrupted run.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "snapshot/x86_64_snapshot.h"
#include "testing/status_matchers.h"
#include "testing/x86_guest_conformance.h"

namespace hv::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr uint64_t kRounds = 1500;
constexpr uint64_t kTable = 0x100000;  // snapshot_worker's table

void SetRounds(Regs& regs) { regs.rdi = kRounds; }

std::string SnapshotPath() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/x86_guest_", ::getpid(),
                      ".hvsnap");
}

// What the child process does: a new VM and vCPU, the snapshot restored
// into them, the guest run to its end; the reports it made, then the number
// of other accesses (0: it went on from the signal, not from the start).
absl::StatusOr<std::vector<uint64_t>> RestoreAndFinish(Hypervisor& hypervisor,
                                                       const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<Vm> vm, hypervisor.CreateVm());
  ASSIGN_OR_RETURN(std::unique_ptr<GuestFixture> guest,
                   GuestFixture::Create(*vm));
  // The fixture's boot state (and CPUID) first, as a VMM would configure a
  // new vCPU; the snapshot then replaces the state.
  RETURN_IF_ERROR(guest->Load(guest::SnapshotWorker(), GuestMode::kLong));
  ASSIGN_OR_RETURN(snapshot::SnapshotFile file,
                   snapshot::SnapshotFile::ReadFrom(path));
  VcpuX86_64* vcpus[] = {&guest->vcpu()};
  const snapshot::GuestRam ram[] = {{0, guest->ram()}};
  RETURN_IF_ERROR(snapshot::RestoreX86_64(file, *vm->AsX86_64(), vcpus, ram));
  ASSIGN_OR_RETURN(GuestRunResult run, guest->Run());
  std::vector<uint64_t> result = run.reports;
  result.push_back(run.accesses.size());
  return result;
}

TEST_P(X86GuestConformance, SnapshotRestoredInAnotherProcessContinues) {
  // The reference: the program run through without a stop.
  ASSERT_OK(guest_->Load(guest::SnapshotWorker(), GuestMode::kLong, SetRounds));
  ASSERT_OK_AND_ASSIGN(GuestRunResult reference, guest_->Run());
  ASSERT_THAT(reference.reports, SizeIs(2));

  // A second VM, stopped at the program's signal (mid-computation: phase
  // one's table in memory, the hash in registers and an MSR) and captured.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, NewVm());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<GuestFixture> guest,
                       GuestFixture::Create(*vm));
  ASSERT_OK(guest->Load(guest::SnapshotWorker(), GuestMode::kLong, SetRounds));
  GuestRunOptions until_signal;
  until_signal.until = VcpuExitKind::kIo;
  ASSERT_OK_AND_ASSIGN(GuestRunResult first, guest->Run(until_signal));
  ASSERT_EQ(first.exit.io.port, HV_GUEST_SIGNAL_PORT);
  VcpuX86_64* vcpus[] = {&guest->vcpu()};
  const snapshot::GuestRam ram[] = {{0, guest->ram()}};
  ASSERT_OK_AND_ASSIGN(
      snapshot::SnapshotFile file,
      snapshot::CaptureX86_64(*vm->AsX86_64(), vcpus, ram, GetParam().name));
  EXPECT_TRUE(file.Has(snapshot::Tag::kVcpuRegs, 0));
  EXPECT_TRUE(file.Has(snapshot::Tag::kMemoryRange, 0));
  const std::string path = SnapshotPath();
  ASSERT_OK(file.WriteTo(path));

  // A snapshot that does not fit is refused before anything is written: a
  // RAM range of another size leaves the new VM's memory as it was.
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> other, NewVm());
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<GuestFixture> other_guest,
                         GuestFixture::Create(*other));
    VcpuX86_64* other_vcpus[] = {&other_guest->vcpu()};
    const snapshot::GuestRam half[] = {
        {0, other_guest->ram().subspan(0, other_guest->ram().size() / 2)}};
    EXPECT_THAT(
        snapshot::RestoreX86_64(file, *other->AsX86_64(), other_vcpus, half),
        StatusIs(absl::StatusCode::kFailedPrecondition,
                 HasSubstr("RAM range 0")));
    EXPECT_EQ(other_guest->ram()[kTable], 0);
  }

  // Restored in a child process (a new VM of its own); it sends back the
  // two reports, or an error text.
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    absl::StatusOr<std::vector<uint64_t>> reports =
        RestoreAndFinish(*hypervisor_, path);
    std::string message;
    if (reports.ok() && reports->size() == 3) {
      message = absl::StrCat("ok ", (*reports)[0], " ", (*reports)[1],
                             " accesses ", (*reports)[2]);
    } else if (reports.ok()) {
      message = absl::StrCat("error: ", reports->size() - 1, " reports");
    } else {
      message = absl::StrCat("error: ", reports.status().ToString());
    }
    const ssize_t written = ::write(pipe_fds[1], message.data(), message.size());
    ::_exit(written == static_cast<ssize_t>(message.size()) ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  std::string message;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof(buffer))) > 0;) {
    message.append(buffer, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  int wait_status = 0;
  ASSERT_EQ(::waitpid(child, &wait_status, 0), child);
  EXPECT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0);
  // The reference's results, and no signal write: the restored guest went
  // on from where it stopped.
  EXPECT_EQ(message, absl::StrCat("ok ", reference.reports[0], " ",
                                  reference.reports[1], " accesses 0"));
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace hv::testing
