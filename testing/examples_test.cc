// The Example block of each header in testing/ (and testing/guest/), pasted
// as it stands there under a line naming the header
// (tools/examples_check.sh), so an example that no longer matches the API
// stops the build. Examples that need /dev/kvm are compiled, not run: the
// suites they instantiate are prefixed DISABLED_ (GoogleTest lists those
// and runs none), the rest sit in functions never called. The others run on
// the Geniezone and Gunyah fakes.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/geniezone/geniezone_hypervisor.h"
#include "hypervisor/gunyah/gunyah_hypervisor.h"
#include "hypervisor/gunyah/gunyah_vm.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/kvm/kvm_hypervisor.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vcpu_exit.h"
#include "hypervisor/vm.h"
#include "testing/api_conformance.h"
#include "testing/backend_under_test.h"
#include "testing/fakes/geniezone_fake.h"
#include "testing/fakes/gunyah_fake.h"
#include "testing/fault_sweep.h"
#include "testing/guest/layout.h"
#include "testing/guest_fixture.h"
#include "testing/guest_programs.h"
#include "testing/in_child.h"
#include "testing/live_vcpus.h"
#include "testing/scripted_guest.h"
#include "testing/status_matchers.h"
#include "testing/subprocess.h"
#include "testing/x86_guest_conformance.h"

// testing/guest/layout.h
// The program of examples_guest.S.
extern "C" const uint8_t hv_guest_tsc_low_start[];
extern "C" const uint8_t hv_guest_tsc_low_end[];

namespace hv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(TestingExamples, GuestLayout) {
  const std::vector<uint8_t> bytes(hv_guest_tsc_low_start, hv_guest_tsc_low_end);
  // rdtsc; out %eax, $HV_GUEST_REPORT_PORT; out %al, $HV_GUEST_DONE_PORT; hlt
  EXPECT_THAT(bytes, ElementsAre(0x0f, 0x31, 0xe7, HV_GUEST_REPORT_PORT, 0xe6,
                                 HV_GUEST_DONE_PORT, 0xf4));
}

// testing/api_conformance.h
// Instantiated as DISABLED_Geniezone: compiled, never run
// (hypervisor/geniezone/geniezone_conformance_test runs it).
absl::StatusOr<BackendInstance> NewFakeGeniezone() {
  std::shared_ptr<GeniezoneFake> fake = GeniezoneFake::Create();
  ASSIGN_OR_RETURN(auto hypervisor,
                   GeniezoneHypervisor::Create("/dev/gzvm", fake.get()));
  return BackendInstance{std::move(hypervisor), std::move(fake)};
}
INSTANTIATE_TEST_SUITE_P(
    DISABLED_Geniezone, ApiConformance,
    ::testing::Values(BackendUnderTest{"geniezone_fake", NewFakeGeniezone}),
    BackendName);

// testing/backend_under_test.h
// Instantiated as DISABLED_Kvm: compiled, never run (they need /dev/kvm;
// hypervisor/kvm/kvm_conformance_test runs them).
const hv::testing::BackendUnderTest kKvm = hv::testing::RegisteredBackend(
    "kvm", "kvm", "HV_ALLOW_MISSING_KVM");
INSTANTIATE_TEST_SUITE_P(DISABLED_Kvm, ApiConformance, ::testing::Values(kKvm),
                         hv::testing::BackendName);

// testing/x86_guest_conformance.h
INSTANTIATE_TEST_SUITE_P(
    DISABLED_Kvm, X86GuestConformance,
    ::testing::Values(hv::testing::RegisteredBackend(
        "kvm", "kvm", "HV_ALLOW_MISSING_KVM")),
    hv::testing::BackendName);

// testing/fault_sweep.h
// The scenario the example sweeps: a Gunyah VM with RAM and a devicetree.
absl::Status RunScenario(GunyahFake& fake) {
  ASSIGN_OR_RETURN(auto gunyah, GunyahHypervisor::Create("/dev/gunyah", &fake));
  ASSIGN_OR_RETURN(auto vm, gunyah->CreateVm());
  ASSIGN_OR_RETURN(auto ram, MemoryRegion::CreateShared("ram", 1 << 20));
  RETURN_IF_ERROR(vm->AddMemoryRegion(0x80000000, std::move(ram), {}).status());
  return vm->AsAArch64()->InitArch(0x80001000, 0x80000000, 0x1000);
}

TEST(TestingExamples, FaultSweep) {
  const FaultSweep sweep = SweepFaults([&](uint64_t n) {
    GunyahFake fake;
    fake.FailCall(n, EIO);
    const absl::Status status = RunScenario(fake);
    EXPECT_EQ(fake.open_fds(), 0u);
    return FaultRun{fake.call_count() > n, status};
  });
  EXPECT_EQ(sweep.calls, 6u);     // every seam call the scenario makes
  EXPECT_EQ(sweep.reported, 4u);  // all but the two teardown closes
}

// testing/guest_fixture.h
// Compiled, not run: it needs a VM that runs guest code.
void GuestFixtureExample(hv::Vm* vm) {
  ASSERT_OK_AND_ASSIGN(auto guest, hv::testing::GuestFixture::Create(*vm));
  ASSERT_OK(guest->Load(hv::testing::guest::PioOut(),
                        hv::testing::GuestMode::kLong,
                        [](hv::Regs& regs) { regs.rax = 0x1234; }));
  ASSERT_OK_AND_ASSIGN(hv::testing::GuestRunResult run, guest->Run());
  EXPECT_EQ(run.accesses[0].Value(), 0x34);
}

// testing/guest_programs.h
void GuestProgramsExample(uint8_t* ram) {
  hv::testing::GuestProgram program = hv::testing::guest::PioOut();
  std::memcpy(ram + HV_GUEST_CODE, program.bytes.data(), program.bytes.size());
}

TEST(TestingExamples, GuestPrograms) {
  EXPECT_NE(&GuestFixtureExample, nullptr);
  std::vector<uint8_t> ram(HV_GUEST_RAM_SIZE);
  GuestProgramsExample(ram.data());
  const absl::Span<const uint8_t> pio_out = guest::PioOut().bytes;
  EXPECT_EQ(std::memcmp(ram.data() + HV_GUEST_CODE, pio_out.data(),
                        pio_out.size()),
            0);
}

// testing/scripted_guest.h
TEST(TestingExamples, ScriptedGuest) {
  std::shared_ptr<GeniezoneFake> script = GeniezoneFake::Create();
  ASSERT_OK_AND_ASSIGN(auto gz, GeniezoneHypervisor::Create("/dev/gzvm", script.get()));
  ASSERT_OK_AND_ASSIGN(auto vm, gz->CreateVm());
  ASSERT_OK_AND_ASSIGN(auto vcpu, vm->CreateVcpu(0));

  script->QueueMmio(/*vcpu=*/0, 0xd0000000, /*is_write=*/false, {0, 0, 0, 0});
  ASSERT_OK_AND_ASSIGN(hv::VcpuExit exit, vcpu->Run());
  ASSERT_OK(vcpu->HandleMmio([](hv::IoRequest& io) { io.data[0] = 0x5a; }));
  script->QueueMmio(0, 0xd0000004, /*is_write=*/true, {1, 0, 0, 0});
  ASSERT_OK_AND_ASSIGN(exit, vcpu->Run());  // the read completes on entry
  EXPECT_THAT(script->CompletedRead(0), ElementsAre(0x5a, 0, 0, 0));
}

// testing/status_matchers.h
TEST(TestingExamples, StatusMatchers) {
  std::shared_ptr<GeniezoneFake> fake = GeniezoneFake::Create();
  ASSERT_OK_AND_ASSIGN(auto hypervisor,
                       GeniezoneHypervisor::Create("/dev/gzvm", fake.get()));

  using ::hv::testing::StatusIs;
  ASSERT_OK_AND_ASSIGN(auto vm, hypervisor->CreateVm());
  EXPECT_THAT(vm->RemoveMemoryRegion(99),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("slot 99")));
}

// testing/in_child.h (the child's work: a sum)
TEST(TestingExamples, InChild) {
  auto RestoreAndFinish = [](uint64_t a) -> absl::StatusOr<uint64_t> {
    return a + 2;
  };
  const uint64_t paths = 40;
  std::string answer = hv::testing::InChild([&] {
    absl::StatusOr<uint64_t> sum = RestoreAndFinish(paths);
    return sum.ok() ? absl::StrCat("ok ", *sum) : sum.status().ToString();
  });
  EXPECT_EQ(answer, "ok 42");
}

// testing/live_vcpus.h (on the Geniezone fake, whose vCPUs block in Run()
// until an exit is queued: paused while blocked, then each given its MMIO)
absl::Status LiveVcpusExample(GeniezoneFake& fake, hv::Vcpu* vcpu0,
                              hv::Vcpu* vcpu1) {
  std::vector<hv::Vcpu*> vcpus = {vcpu0, vcpu1};
  hv::testing::LiveVcpus live(
      vcpus,
      [&](int i, const hv::VcpuExit& exit) -> absl::StatusOr<bool> {
        RETURN_IF_ERROR(vcpus[i]->HandleMmio([](hv::IoRequest&) {}));
        return true;  // vCPU i has finished
      },
      []() -> absl::StatusOr<bool> { return true; });
  live.Start();
  ASSIGN_OR_RETURN(bool running, live.Pause());
  if (!running) return absl::InternalError("a vCPU finished unprompted");
  fake.QueueMmio(0, 0x9000000, /*is_write=*/true, {'a'});
  fake.QueueMmio(1, 0x9000000, /*is_write=*/true, {'b'});
  live.Resume();
  RETURN_IF_ERROR(live.Finish(absl::Seconds(10)));
  return absl::OkStatus();
}

TEST(TestingExamples, LiveVcpus) {
  std::shared_ptr<GeniezoneFake> fake = GeniezoneFake::Create();
  ASSERT_OK_AND_ASSIGN(auto gz, GeniezoneHypervisor::Create("/dev/gzvm", fake.get()));
  ASSERT_OK_AND_ASSIGN(auto vm, gz->CreateVm());
  ASSERT_OK_AND_ASSIGN(auto vcpu0, vm->CreateVcpu(0));
  ASSERT_OK_AND_ASSIGN(auto vcpu1, vm->CreateVcpu(1));
  EXPECT_OK(LiveVcpusExample(*fake, vcpu0.get(), vcpu1.get()));
}

// testing/subprocess.h
TEST(TestingExamples, Subprocess) {
  // A stand-in for hvrun that prints what the demo prints first.
  const std::string hvrun = std::string(std::getenv("TEST_TMPDIR")) + "/hvrun";
  {
    std::ofstream script(hvrun);
    script << "#!/bin/sh\necho \"hv demo: guest running ($1)\"\n";
  }
  ASSERT_EQ(chmod(hvrun.c_str(), 0755), 0);

  ASSERT_OK_AND_ASSIGN(hv::testing::SubprocessResult r,
                       hv::testing::RunSubprocess({hvrun, "--stats"}));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.stdout_text, HasSubstr("hv demo"));
}

}  // namespace
}  // namespace hv::testing
