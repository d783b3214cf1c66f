// The Example block of each header in tools/hvrun, pasted as it stands
// there under a line naming the header (tools/examples_check.sh), so an
// example that no longer matches the code stops the build. No backend is
// linked in: examples that need a running Machine (or hvrun_bin on a real
// KVM) are compiled, not run; the rest run and their results are checked.
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "devices/serial_16550.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vcpu_exit.h"
#include "testing/status_matchers.h"
#include "testing/subprocess.h"
#include "tools/hvrun/cli_flags.h"
#include "tools/hvrun/console_input.h"
#include "tools/hvrun/demo.h"
#include "tools/hvrun/demo_arch.h"
#include "tools/hvrun/device_state.h"
#include "tools/hvrun/exit_codes.h"
#include "tools/hvrun/exit_stats.h"
#include "tools/hvrun/host_thread.h"
#include "tools/hvrun/host_limits.h"
#include "tools/hvrun/hvrun_test_util.h"
#include "tools/hvrun/linux_guest/initramfs.h"
#include "tools/hvrun/machine.h"
#include "tools/hvrun/machine_snapshot.h"
#include "tools/hvrun/payload_file.h"
#include "tools/hvrun/pci_ecam.h"
#include "tools/hvrun/signal_watcher.h"
#include "virtio/pci_device.h"
#include "virtio/virtio_pci_device.h"

ABSL_FLAG(bool, json, false, "print JSON");

namespace hv {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// tools/hvrun/cli_flags.h
int CliFlagsExample(int argc, char** argv, const char* usage) {
  const std::vector<std::string> kFlags = {"json"};
  absl::StatusOr<hv::CliFlags> flags = hv::ParseCliFlags(argc, argv, kFlags);
  if (!flags.ok()) { std::cerr << "hvprobe: " << flags.status().message() << "\n"; return 2; }
  if (flags->help) { std::cout << hv::FormatCliHelp(usage, kFlags); return 0; }
  return 1;
}

TEST(HvrunExamples, CliFlags) {
  char program[] = "hvprobe";
  char help[] = "--help";
  char bad[] = "--jsn";
  char* with_help[] = {program, help};
  char* with_bad[] = {program, bad};
  char* with_none[] = {program};
  EXPECT_EQ(CliFlagsExample(2, with_help, "usage: hvprobe [--json]\n"), 0);
  EXPECT_EQ(CliFlagsExample(2, with_bad, "usage"), 2);
  EXPECT_EQ(CliFlagsExample(1, with_none, "usage"), 1);
}

// tools/hvrun/console_input.h
// Compiled, not run: it needs a running Machine.
absl::Status ConsoleInputExample(hv::Machine* machine) {
  ASSIGN_OR_RETURN(auto pump, hv::ConsoleInputPump::Start(
      0, [&](absl::string_view bytes) { machine->QueueConsoleInput(bytes); }));
  machine->Run(std::cout);
  return absl::OkStatus();
}

// tools/hvrun/demo.h
absl::Status DemoExample() {
  ASSIGN_OR_RETURN(hv::DemoResult demo, hv::RunDemo("kvm", std::cout, std::cerr));
  return absl::OkStatus();
}

TEST(HvrunExamples, Demo) {
  // No backend is linked into this test: there is no "kvm" to run on.
  EXPECT_THAT(DemoExample(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("kvm")));
}

// tools/hvrun/demo_arch.h
// Compiled, not run: it needs a running Machine.
constexpr uint8_t kDemoSlot = 3;
absl::Status DemoArchExample(
    hv::Machine* machine, const std::unique_ptr<virtio::VirtioPciDevice>& pci) {
  const hv::demo_internal::DemoArch& arch = hv::demo_internal::DemoArchForTarget();
  ASSIGN_OR_RETURN(auto bus, arch.attach_pci(*machine, kDemoSlot, pci.get()));
  return absl::OkStatus();
}

// tools/hvrun/exit_codes.h
// Compiled, not run: it needs a running Machine.
int ExitCodesExample(hv::Machine* machine) {
  hv::RunReport report = hv::ReportRun(machine->Run(std::cout), /*demo=*/false);
  std::cerr << "hvrun: " << report.line << "\n";
  return report.exit_code;
}

// tools/hvrun/hvrun_test_util.h
// Compiled, not run: it runs hvrun_bin on a real KVM.
void HvrunTestUtilExample() {
  hv::testing::SubprocessResult r =
      hv::RunHvrun({hv::PayloadFlag("hello_real.bin"), "--mode=real"});
  EXPECT_EQ(r.exit_code, (7 << 1) | 1) << r.stderr_text;
}

// tools/hvrun/machine.h
// Compiled, not run: the Machine it makes would run a guest.
absl::Status MachineExample(const std::vector<uint8_t>& bytes) {
  hv::MachineOptions options;
  options.payload = bytes;
  ASSIGN_OR_RETURN(auto machine, hv::Machine::Create(options));
  hv::RunResult result = machine->Run(std::cout);
  return absl::OkStatus();
}

// tools/hvrun/machine_snapshot.h
// Compiled, not run: it needs a Machine stopped for a snapshot.
absl::Status MachineSnapshotExample(std::unique_ptr<hv::Machine> machine) {
  // After machine->Run() ended with RunEnd::kSnapshot:
  ASSIGN_OR_RETURN(uint64_t bytes, hv::SaveMachineSnapshot(*machine, "vm.hvsnap"));
  std::cerr << "saved " << bytes << " bytes\n";
  // Later, in another process:
  ASSIGN_OR_RETURN(auto snapshot, hv::MachineSnapshot::Read("vm.hvsnap"));
  hv::MachineOptions options;
  options.mem_size = snapshot->mem_size();
  options.vcpus = snapshot->vcpus();
  options.state_from_snapshot = true;
  ASSIGN_OR_RETURN(auto restored, hv::Machine::Create(options));
  RETURN_IF_ERROR(snapshot->RestoreInto(*restored, /*advance_clock=*/false));
  hv::RunResult result = restored->Run(std::cout);
  return absl::OkStatus();
}

// tools/hvrun/device_state.h
// Compiled, not run: it needs a Machine (the test below runs the rest).
absl::Status DeviceStateExample(hv::Machine& machine,
                                const std::unique_ptr<hv::Serial16550>& uart) {
  RETURN_IF_ERROR(machine.AddDeviceState(hv::DeviceStateOf(1, "16550 UART", uart.get())));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<hv::Serial16550>> QuietUart() {
  hv::Serial16550::Options options;
  options.output = [](uint8_t) {};
  return hv::Serial16550::Create(options);
}

TEST(HvrunExamples, DeviceStateOfAUartCarriesItsRecordExactly) {
  EXPECT_NE(&DeviceStateExample, nullptr);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<hv::Serial16550> uart, QuietUart());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<hv::Serial16550> restored, QuietUart());
  const hv::DeviceState saved = hv::DeviceStateOf(1, "16550 UART", uart.get());
  const hv::DeviceState into = hv::DeviceStateOf(1, "16550 UART", restored.get());
  uart->QueueInput("hi");
  const std::vector<uint8_t> bytes = saved.save();
  const std::vector<uint8_t> fresh = into.save();
  ASSERT_NE(bytes, fresh);

  std::vector<uint8_t> longer = bytes;
  longer.push_back(0);
  EXPECT_THAT(into.check(longer), StatusIs(absl::StatusCode::kDataLoss,
                                           HasSubstr("16550 UART state: 1 bytes left over")));
  EXPECT_THAT(into.restore(longer), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(into.save(), fresh);
  const std::vector<uint8_t> shorter(bytes.begin(), bytes.end() - 1);
  EXPECT_THAT(into.restore(shorter), StatusIs(absl::StatusCode::kDataLoss,
                                              HasSubstr("16550 UART state: received bytes")));
  EXPECT_EQ(into.save(), fresh);

  ASSERT_THAT(into.check(bytes), IsOk());
  ASSERT_THAT(into.restore(bytes), IsOk());
  EXPECT_EQ(into.save(), bytes);
}

// tools/hvrun/pci_ecam.h
// Compiled, not run: it needs a Machine.
absl::Status PciEcamExample(hv::Machine* machine, virtio::PciDevice& virtio) {
  ASSIGN_OR_RETURN(auto ecam, hv::PciEcam::Create(0x30000000));
  RETURN_IF_ERROR(ecam->AddDevice(/*device=*/3, /*function=*/0, &virtio));
  machine->AddMmioHandler([&](hv::IoRequest& io) { return ecam->HandleMmio(io); });
  return absl::OkStatus();
}

// tools/hvrun/signal_watcher.h
// Compiled, not run: it must come before any thread (and needs a Machine).
absl::Status SignalWatcherExample(hv::Machine* machine, absl::Duration timeout) {
  hv::RunInterrupter interrupter;
  ASSIGN_OR_RETURN(auto watcher, hv::SignalWatcher::Start(&interrupter));
  hv::RunResult result = machine->Run(std::cout, timeout, &interrupter);
  return absl::OkStatus();
}

// tools/hvrun/host_thread.h
absl::StatusOr<int> HostThreadExample() {
  std::atomic<int> polls{0};
  ASSIGN_OR_RETURN(std::unique_ptr<hv::PollingThread> poller,
                   hv::PollingThread::Start("the poll thread",
                       [&polls](const std::atomic<bool>& stop) {
                         for (; !stop; ++polls) absl::SleepFor(absl::Milliseconds(1));
                       }));
  while (polls < 3) absl::SleepFor(absl::Milliseconds(1));
  poller.reset();  // sets `stop` and joins: `polls` stays as it is now
  return polls.load();
}

TEST(HvrunExamples, PollingThreadStopsAndJoinsWhenItGoes) {
  absl::StatusOr<int> polls = HostThreadExample();
  ASSERT_TRUE(polls.ok()) << polls.status();
  EXPECT_GE(*polls, 3);
}

// A body that blocks until woken (here on a pipe) ends when its owner goes
// only because `wake` is called: without it the join would wait forever.
TEST(HvrunExamples, PollingThreadWakeEndsABlockedBody) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::atomic<int> wakes{0};
  std::atomic<bool> running{false};
  absl::StatusOr<std::unique_ptr<hv::PollingThread>> poller = hv::PollingThread::Start(
      "the blocked thread",
      [&, read_end = fds[0]](const std::atomic<bool>& stop) {
        running = true;
        char byte;
        while (!stop) {
          if (read(read_end, &byte, 1) < 0) return;
        }
      },
      [&, write_end = fds[1]](std::thread& thread) {
        EXPECT_TRUE(thread.joinable());
        ++wakes;
        EXPECT_EQ(write(write_end, "w", 1), 1);
      });
  ASSERT_TRUE(poller.ok()) << poller.status();
  while (!running) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(wakes, 0);
  poller->reset();
  EXPECT_EQ(wakes, 1);
  close(fds[0]);
  close(fds[1]);
}

TEST(HvrunExamples, StartThreadRunsTheBody) {
  std::atomic<bool> ran{false};
  absl::StatusOr<std::thread> thread = hv::StartThread("a test thread", [&ran] { ran = true; });
  ASSERT_TRUE(thread.ok()) << thread.status();
  thread->join();
  EXPECT_TRUE(ran);
}

TEST(HvrunExamples, Compile) {
  EXPECT_NE(&ConsoleInputExample, nullptr);
  EXPECT_NE(&DemoArchExample, nullptr);
  EXPECT_NE(&ExitCodesExample, nullptr);
  EXPECT_NE(&HvrunTestUtilExample, nullptr);
  EXPECT_NE(&MachineExample, nullptr);
  EXPECT_NE(&MachineSnapshotExample, nullptr);
  EXPECT_NE(&PciEcamExample, nullptr);
  EXPECT_NE(&SignalWatcherExample, nullptr);
}

// tools/hvrun/exit_stats.h
std::string ExitStatsExample(const hv::VcpuExit& exit, absl::Duration run_time,
                             absl::Duration handle_time) {
  hv::ExitStats stats;
  stats.Record(exit.kind, run_time, handle_time);
  hv::ExitStats all;
  all.Add(stats);
  std::cout << all.Format();
  return all.Format();
}

TEST(HvrunExamples, ExitStats) {
  hv::VcpuExit exit;
  exit.kind = hv::VcpuExitKind::kIo;
  EXPECT_THAT(ExitStatsExample(exit, absl::Microseconds(3), absl::Microseconds(1)),
              HasSubstr("io"));
}

// tools/hvrun/host_limits.h
absl::Status HostLimitsExample(const hv::MachineOptions& options) {
  RETURN_IF_ERROR(hv::CheckFdRoomForVcpus(options.vcpus));
  return absl::OkStatus();
}

TEST(HvrunExamples, HostLimits) {
  EXPECT_THAT(HostLimitsExample(hv::MachineOptions()), IsOk());
}

// tools/hvrun/payload_file.h
absl::StatusOr<size_t> PayloadFileExample() {
  ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                   hv::ReadPayloadFile("guest.bin", /*max_size=*/64 << 20));
  return bytes.size();
}

TEST(HvrunExamples, PayloadFile) {
  // The test runs where there is no guest.bin.
  EXPECT_THAT(PayloadFileExample(),
              StatusIs(absl::StatusCode::kNotFound, StartsWith("--payload=guest.bin: ")));
}

// tools/hvrun/linux_guest/initramfs.h
std::string InitramfsExample(const std::string& busybox_bytes) {
  hv::Initramfs initramfs;
  initramfs.AddDirectory("bin");
  initramfs.AddFile("bin/busybox", busybox_bytes, 0755);
  initramfs.AddFile("init", "#!/bin/busybox sh\n...", 0755);
  initramfs.AddCharDevice("dev/console", 5, 1, 0600);
  std::string archive = initramfs.Finish();
  return archive;
}

TEST(HvrunExamples, Initramfs) {
  const std::string archive = InitramfsExample("not really busybox");
  // newc entries: "070701", 13 eight-digit hex fields, the name, padding to
  // 4 bytes, the contents, padding; the first is "bin", a directory.
  EXPECT_THAT(archive, StartsWith("070701"
                                  "00000001"     // ino
                                  "000041ED"));  // mode: directory, 0755
  EXPECT_EQ(archive.substr(110, 4), std::string("bin\0", 4));
  EXPECT_THAT(archive, HasSubstr(std::string("bin/busybox\0", 12)));
  EXPECT_THAT(archive, HasSubstr("not really busybox"));
  // dev/console: the fourth entry, a character device 0600, rdev 5:1.
  EXPECT_THAT(archive, HasSubstr(std::string("070701"
                                             "00000004"  // ino
                                             "00002180"  // mode: 020600
                                             "00000000" "00000000"  // uid, gid
                                             "00000001"  // nlink
                                             "00000000" "00000000"  // mtime, size
                                             "00000000" "00000000"  // dev
                                             "00000005" "00000001"  // rdev 5:1
                                             "0000000C"  // namesize
                                             "00000000"  // check
                                             "dev/console\0",
                                             110 + 12)));
  EXPECT_THAT(archive, HasSubstr(std::string("TRAILER!!!\0", 11)));
  EXPECT_EQ(archive.size() % 4, 0u);
}

}  // namespace
}  // namespace hv
