// hvrun: runs a guest on any linked hypervisor backend.
//
//   hvrun                              the built-in demo (serial, PCI, virtio
//                                      shared memory); exits 0 when it works
//   hvrun --payload=guest.bin --mode=long --entry=0x10000 --stats
//   hvrun --hypervisor='kvm[device=/dev/kvm]' --payload=guest.bin
//   hvrun --kernel=bzImage --initrd=initrd.cpio --vcpus=2 --mem=512M
//   hvrun --payload=guest.bin --snapshot_after=1000 --snapshot=vm.hvsnap
//   hvrun --kernel=bzImage --initrd=initrd.cpio --snapshot_on=USR1 --snapshot=vm.hvsnap
//   hvrun --restore=vm.hvsnap
//
// A thin command line over Machine (machine.h, which has the guest-visible
// contract): it parses and checks the flags (cli_flags.h), reads the payload
// (payload_file.h), turns SIGINT/SIGTERM into the end of the run
// (signal_watcher.h), takes and restores snapshots of payload machines and
// Linux guests (machine_snapshot.h; Linux builds) and maps how the run ended
// to one line on stderr and an exit status (exit_codes.h). Guest serial goes
// to stdout, everything of hvrun's to stderr; nothing it is given makes it
// abort.
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/registry.h"
#include "tools/hvrun/cli_flags.h"
#include "tools/hvrun/console_input.h"
#include "tools/hvrun/demo.h"
#include "tools/hvrun/exit_codes.h"
#include "tools/hvrun/machine.h"
#include "tools/hvrun/machine_snapshot.h"
#include "tools/hvrun/payload_file.h"
#include "tools/hvrun/signal_watcher.h"

// Debian's Abseil is built without NDEBUG, so every absl::Mutex lock checks
// the lock order (deadlock detection): the first, registering the flags
// below, allocated the lock graph and a thread identity, 48 KiB that stayed
// resident all run. hv locks no absl::Mutex of its own (std::mutex, for
// TSan); only Abseil's flag registry does. Defined before the flags, so
// their registration (dynamic initialisation, in this file's order) comes
// after it.
static const bool kNoMutexDeadlockDetection = [] {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return true;
}();

ABSL_FLAG(std::string, hypervisor, "",
          "backend spec: kind or kind[key=value,...], e.g. kvm[device=/dev/kvm]; "
          "default: the platform's first linked backend of kvm, whpx, haxm, "
          "geniezone, gunyah");
ABSL_FLAG(std::string, payload, "",
          "flat binary to run (a regular file; relative paths under `bazel run` "
          "are taken from the directory it was run in); without it hvrun runs its "
          "built-in demo");
ABSL_FLAG(std::string, kernel, "",
          "Linux kernel to boot (x86_64 bzImage, boot protocol 2.12+; aarch64 "
          "uncompressed Image), in place of --payload; the guest's console is a "
          "16550 UART (stdout and stdin)");
ABSL_FLAG(std::string, initrd, "", "with --kernel: initial RAM disk (e.g. a cpio archive)");
ABSL_FLAG(std::string, cmdline, "console=ttyS0 reboot=k",
          "with --kernel: the kernel command line");
ABSL_FLAG(std::string, mode, "",
          "with --payload: CPU mode at entry: x86_64 real (default), protected or "
          "long; aarch64 el1 (default, the only one)");
ABSL_FLAG(std::string, load_addr, "",
          "with --payload: guest-physical load address (default: x86_64 0x10000, "
          "aarch64 0x40000000, the start of RAM)");
ABSL_FLAG(std::string, entry, "",
          "with --payload: entry point, inside RAM (default: the load address)");
ABSL_FLAG(std::string, mem, "64M",
          "with --payload or --kernel: guest RAM size, a multiple of 4K with suffix "
          "K, M, G or T, e.g. 64M or 1G; at most 64T (default 64M, 512M with "
          "--kernel)");
ABSL_FLAG(uint32_t, vcpus, 1,
          "with --payload or --kernel: number of vCPUs, at least 1 and at most the "
          "hypervisor's limit per VM; with --payload each starts at the entry with "
          "its index in rdi (x86_64) or x0 (aarch64)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30),
          "give up after this long (exit 10), e.g. 10s or 2m; more than 0 and at "
          "most 168h");
ABSL_FLAG(bool, stats, false,
          "print per-exit-kind counts and times on stderr at the end, however "
          "the run ends (timing every exit costs two clock reads per exit)");
ABSL_FLAG(std::string, snapshot, "",
          "with --payload, --kernel or --restore (Linux builds): where to write a "
          "snapshot of the machine when --snapshot_after or --snapshot_on says; "
          "hvrun then stops the guest, writes FILE and exits 14");
ABSL_FLAG(uint64_t, snapshot_after, 0,
          "with --snapshot: stop for the snapshot once N VM exits (all vCPUs "
          "together: I/O, MMIO, HLT, ... as --stats counts them, not hvrun's own "
          "kicks) have been handled in this run; at least 1. With several vCPUs "
          "the others each finish the exit they are handling, so up to (vCPUs - 1) "
          "more may be counted; hvrun prints the count it stopped at");
ABSL_FLAG(std::string, snapshot_on, "",
          "with --snapshot: stop for the snapshot when hvrun receives this signal: "
          "USR1, USR2 or HUP (SIG prefix optional); each vCPU stops at its next "
          "exit");
ABSL_FLAG(std::string, restore, "",
          "continue the guest of a snapshot written by --snapshot (in place of "
          "--payload or --kernel: the file holds its RAM, registers and devices), on "
          "a machine of the snapshot's --mem and --vcpus (given, they must match)");
ABSL_FLAG(bool, advance_clock, false,
          "with --restore: the guest's clock moves on by the time since the snapshot "
          "was taken, as after a live migration (x86_64: kvmclock, where the snapshot "
          "recorded the time; aarch64: the virtual counter); without it the guest "
          "sees no time pass, as if it had been paused");

namespace hv {
namespace {

const std::vector<std::string> kFlagNames = {
    "payload", "kernel",     "initrd",  "cmdline", "mode",     "load_addr",
    "entry",   "mem",        "vcpus",   "hypervisor", "timeout", "stats",
    "snapshot", "snapshot_after", "snapshot_on", "restore", "advance_clock"};
// The snapshot flags (machine_snapshot.h).
const std::vector<std::string> kSnapshotFlagNames = {"snapshot", "snapshot_after",
                                                     "snapshot_on", "restore",
                                                     "advance_clock"};
// What a snapshot holds, so --restore takes none of them.
const std::vector<std::string> kNotWithRestoreFlagNames = {
    "payload", "kernel", "initrd", "cmdline", "mode", "load_addr", "entry"};
// The flags of a flat payload only (--kernel sets them itself).
const std::vector<std::string> kFlatOnlyFlagNames = {"mode", "load_addr", "entry"};
// The flags of the machine, with --payload or --kernel.
const std::vector<std::string> kMachineFlagNames = {"mem", "vcpus"};
// The flags that only mean something with --kernel.
const std::vector<std::string> kKernelFlagNames = {"initrd", "cmdline"};
constexpr uint64_t kDefaultLinuxMem = 512ull << 20;
constexpr absl::Duration kLongestTimeout = absl::Hours(168);

constexpr char kUsage[] =
    "hvrun: runs a guest on a hypervisor backend linked into this build.\n"
    "\n"
    "Usage: hvrun [--hypervisor=SPEC] [--timeout=30s] [--stats]\n"
    "       hvrun --payload=FILE [--mode=real|protected|long|el1] [--load_addr=A]\n"
    "             [--entry=A] [--mem=64M] [--vcpus=N] [--hypervisor=SPEC]\n"
    "             [--timeout=30s] [--stats]\n"
    "       hvrun --kernel=bzImage [--initrd=FILE] [--cmdline=STR] [--mem=512M]\n"
    "             [--vcpus=N] [--hypervisor=SPEC] [--timeout=30s] [--stats]\n"
    "       hvrun --payload=FILE ... --snapshot=SNAP --snapshot_after=N\n"
    "       hvrun --payload=FILE ... --snapshot=SNAP --snapshot_on=USR1\n"
    "       hvrun --kernel=bzImage ... --snapshot=SNAP --snapshot_on=USR1\n"
    "       hvrun --restore=SNAP [--advance_clock] [--snapshot=SNAP2 --snapshot_after=N]\n"
    "             [--timeout=30s]\n"
    "\n"
    "With --kernel it boots Linux (x86_64 bzImage, aarch64 Image): a 16550 UART\n"
    "is the console on stdout and stdin, the virtio demo device sits at PCI\n"
    "00:03.0 with its blob, and a guest reboot or power-off ends the run (exit 0).\n"
    "With no --payload it runs a built-in demo guest. With --payload it runs a\n"
    "flat binary. x86_64: serial output (port 0x3f8) goes to stdout; a write of\n"
    "v to port 0xf4 ends the run. aarch64: bytes written to MMIO 0x09000000 go\n"
    "to stdout, a write of v to MMIO 0x09010000 records it, PSCI SYSTEM_OFF\n"
    "ends the run. hvrun's own messages go to stderr, one line each.\n"
    "\n"
    "Snapshots (Linux builds, --payload and --kernel machines): at the\n"
    "Nth VM exit or the signal every vCPU stops, the machine (registers, RAM,\n"
    "hvrun's vCPU and device states) goes to SNAP, and hvrun exits 14.\n"
    "--restore=SNAP builds the same machine, loads SNAP and runs the guest on\n"
    "from where it stopped (a Linux guest's console on stdout and stdin); its\n"
    "clock shows no time passed, or, with --advance_clock, the time since.\n"
    "\n"
    "Exit status: 0 the guest ended without a value (all vCPUs halted,\n"
    "SYSTEM_OFF, a Linux reboot) or the demo worked; (v << 1) | 1 for a\n"
    "debug-exit value v in 0..63 (odd); 2 bad flags; 4 the payload, kernel,\n"
    "initrd or --restore file; 6 the hypervisor is unavailable or refused;\n"
    "8 guest fault (triple fault, emulation failure);\n"
    "10 timeout; 12 a debug-exit value above 63; 14 stopped for a snapshot and\n"
    "the snapshot written; 16 stopped for a snapshot that could not be taken or\n"
    "written; 128+n ended by signal n (SIGINT, SIGTERM: the guest's output is\n"
    "flushed first).";

// Prints `status` as hvrun's one line on stderr; returns `exit_code`.
int Fail(int exit_code, const absl::Status& status) {
  std::cerr << "hvrun: " << status.message() << "\n";
  return exit_code;
}

absl::StatusOr<uint64_t> ParseAddress(const char* flag, const std::string& text) {
  uint64_t value = 0;
  bool ok = text.rfind("0x", 0) == 0 ? absl::SimpleHexAtoi(text.substr(2), &value)
                                     : absl::SimpleAtoi(text, &value);
  if (!ok || text.find_first_of("+-") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--%s=%s: expected an unsigned number such as 0x10000 or 65536", flag, text));
  }
  return value;
}

// The --hypervisor spec, or the platform's preferred linked backend.
std::string HypervisorSpec() {
  std::string spec = absl::GetFlag(FLAGS_hypervisor);
  if (!spec.empty()) return spec;
  const std::vector<BackendInfo> linked = LinkedBackends();
  for (const char* kind : {"kvm", "whpx", "haxm", "geniezone", "gunyah"}) {
    for (const BackendInfo& backend : linked) {
      if (backend.kind == kind) return backend.kind;
    }
  }
  return linked.empty() ? "kvm" : linked.front().kind;
}

absl::Status CheckTimeout() {
  const absl::Duration timeout = absl::GetFlag(FLAGS_timeout);
  if (timeout <= absl::ZeroDuration() || timeout > kLongestTimeout) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--timeout=%s: expected more than 0 and at most %s",
        absl::FormatDuration(timeout), absl::FormatDuration(kLongestTimeout)));
  }
  return absl::OkStatus();
}

// A relative --payload path under `bazel run` is the user's, not the
// runfiles directory's.
std::string UserPath(const std::string& path) {
  const char* dir = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || dir == nullptr || *dir == '\0') return path;
  return absl::StrFormat("%s/%s", dir, path);
}

absl::StatusOr<MachineOptions> OptionsFromFlags() {
  MachineOptions o;
  o.hypervisor = HypervisorSpec();
  o.mode = absl::GetFlag(FLAGS_mode);
  absl::StatusOr<uint64_t> mem = ParseMemorySize(absl::GetFlag(FLAGS_mem));
  if (!mem.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat("--mem: %s", mem.status().message()));
  }
  o.mem_size = *mem;
  if (!absl::GetFlag(FLAGS_load_addr).empty()) {
    ASSIGN_OR_RETURN(o.load_address, ParseAddress("load_addr", absl::GetFlag(FLAGS_load_addr)));
  }
  if (!absl::GetFlag(FLAGS_entry).empty()) {
    ASSIGN_OR_RETURN(o.entry, ParseAddress("entry", absl::GetFlag(FLAGS_entry)));
  }
  o.vcpus = absl::GetFlag(FLAGS_vcpus);
  o.time_exits = absl::GetFlag(FLAGS_stats);
  if (o.vcpus == 0) return absl::InvalidArgumentError("--vcpus=0: --vcpus must be at least 1");
  return o;
}

// Machine::Create's errors: a bad combination of flags (2) or the
// hypervisor's refusal (6).
int CreateExitCode(const absl::Status& status) {
  return status.code() == absl::StatusCode::kInvalidArgument ||
                 status.code() == absl::StatusCode::kOutOfRange
             ? kExitUsage
             : kExitHypervisor;
}

// Prints how the run ended (and --stats); returns the exit status.
int Report(const RunResult& result, const std::string& stats, bool demo) {
  if (absl::GetFlag(FLAGS_stats)) std::cerr << stats;
  for (const std::string& state : result.vcpu_states) std::cerr << "hvrun: " << state << "\n";
  const RunReport report = ReportRun(result, demo);
  std::cerr << "hvrun: " << report.line << "\n";
  return report.exit_code;
}

// After a payload machine's run: a stop for a snapshot writes --snapshot
// first (exit 14; 16 when that fails); then Report().
int Finish(Machine& machine, RunResult result) {
  const bool wanted = !absl::GetFlag(FLAGS_snapshot).empty();
  if (result.end == RunEnd::kSnapshot) {
    const std::string path = UserPath(absl::GetFlag(FLAGS_snapshot));
    absl::StatusOr<uint64_t> bytes = SaveMachineSnapshot(machine, path);
    if (!bytes.ok()) {
      if (absl::GetFlag(FLAGS_stats)) std::cerr << machine.stats().Format();
      return Fail(kExitSnapshotFailed, bytes.status());
    }
    const std::string when =
        result.signal != 0 ? absl::StrFormat("on %s, ", SignalName(result.signal)) : "";
    result.how = absl::StrFormat(
        "stopped %safter %u VM exits; snapshot written to %s (%u bytes); continue it "
        "with --restore=%s; exit status %d",
        when, machine.exits_handled(), path, *bytes, path, kExitSnapshotWritten);
  } else if (wanted) {
    std::cerr << absl::StrFormat("hvrun: no snapshot taken: the run ended first, after %u "
                                 "VM exits\n",
                                 machine.exits_handled());
  }
  return Report(result, machine.stats().Format(), /*demo=*/false);
}

int RunPayload(RunInterrupter& interrupter) {
  absl::StatusOr<MachineOptions> options = OptionsFromFlags();
  if (!options.ok()) return Fail(kExitUsage, options.status());
  options->stop_after_exits = absl::GetFlag(FLAGS_snapshot_after);
  absl::StatusOr<std::vector<uint8_t>> payload =
      ReadPayloadFile(UserPath(absl::GetFlag(FLAGS_payload)), options->mem_size);
  if (!payload.ok()) return Fail(kExitInputFile, payload.status());
  options->payload = *std::move(payload);
  // Moved in: the file bytes are freed once they are in guest RAM.
  absl::StatusOr<std::unique_ptr<Machine>> machine = Machine::Create(*std::move(options));
  if (!machine.ok()) return Fail(CreateExitCode(machine.status()), machine.status());
  const RunResult result =
      (*machine)->Run(std::cout, absl::GetFlag(FLAGS_timeout), &interrupter);
  return Finish(**machine, result);
}

// Stdin to a Linux guest's console while it runs.
absl::StatusOr<std::unique_ptr<ConsoleInputPump>> StartConsoleInput(Machine& machine) {
  return ConsoleInputPump::Start(
      0, [m = &machine](absl::string_view bytes) { m->QueueConsoleInput(bytes); });
}

// "1 vCPU", "3 vCPUs".
std::string VcpuCount(uint32_t vcpus) {
  return absl::StrFormat("%u vCPU%s", vcpus, vcpus == 1 ? "" : "s");
}

// --mem or --vcpus given with --restore: they must be the snapshot's.
absl::Status CheckRestoreShape(const MachineSnapshot& snapshot, const MachineOptions& o,
                               bool mem_given, bool vcpus_given) {
  const std::string path = absl::GetFlag(FLAGS_restore);
  if (mem_given && o.mem_size != snapshot.mem_size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--restore=%s: the snapshot's machine has %u bytes of RAM; --mem=%s is %u bytes "
        "(leave --mem out to use the snapshot's)",
        path, snapshot.mem_size(), absl::GetFlag(FLAGS_mem), o.mem_size));
  }
  if (vcpus_given && o.vcpus != snapshot.vcpus()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--restore=%s: the snapshot's machine has %s; --vcpus=%u differs (leave "
        "--vcpus out to use the snapshot's)",
        path, VcpuCount(snapshot.vcpus()), o.vcpus));
  }
  return absl::OkStatus();
}

// --restore: the snapshot read, a machine of its kind and shape built (a
// Linux guest's with the demo device and stdin on its console) and loaded
// with it, the guest run on.
int RunRestore(RunInterrupter& interrupter, bool mem_given, bool vcpus_given) {
  absl::StatusOr<MachineOptions> options = OptionsFromFlags();
  if (!options.ok()) return Fail(kExitUsage, options.status());
  absl::StatusOr<std::unique_ptr<MachineSnapshot>> snapshot =
      MachineSnapshot::Read(UserPath(absl::GetFlag(FLAGS_restore)));
  if (!snapshot.ok()) return Fail(kExitInputFile, snapshot.status());
  absl::Status shape = CheckRestoreShape(**snapshot, *options, mem_given, vcpus_given);
  if (!shape.ok()) return Fail(kExitUsage, shape);
  options->mem_size = (*snapshot)->mem_size();
  options->vcpus = (*snapshot)->vcpus();
  options->state_from_snapshot = true;
  options->stop_after_exits = absl::GetFlag(FLAGS_snapshot_after);
  if ((*snapshot)->linux_guest()) options->linux_boot = LinuxBootOptions{};
  absl::StatusOr<std::unique_ptr<Machine>> machine = Machine::Create(*options);
  if (!machine.ok()) return Fail(CreateExitCode(machine.status()), machine.status());
  std::unique_ptr<DemoDeviceAttachment> device;
  std::unique_ptr<ConsoleInputPump> input;
  if ((*snapshot)->linux_guest()) {
    absl::StatusOr<std::unique_ptr<DemoDeviceAttachment>> attached =
        AttachDemoDevice(**machine, std::cerr);
    if (!attached.ok()) return Fail(kExitHypervisor, attached.status());
    device = *std::move(attached);
  }
  if (absl::Status restored =
          (*snapshot)->RestoreInto(**machine, absl::GetFlag(FLAGS_advance_clock));
      !restored.ok()) {
    return Fail(kExitHypervisor, restored);
  }
  if ((*snapshot)->linux_guest()) {
    absl::StatusOr<std::unique_ptr<ConsoleInputPump>> started = StartConsoleInput(**machine);
    if (!started.ok()) return Fail(kExitHypervisor, started.status());
    input = *std::move(started);
  }
  std::cerr << absl::StrFormat(
      "hvrun: restored %s (%u bytes of RAM, %s, taken on %s after %u VM exits)\n",
      absl::GetFlag(FLAGS_restore), (*snapshot)->mem_size(), VcpuCount((*snapshot)->vcpus()),
      (*snapshot)->backend(), (*snapshot)->exits_handled());
  const RunResult result =
      (*machine)->Run(std::cout, absl::GetFlag(FLAGS_timeout), &interrupter);
  input.reset();
  return Finish(**machine, result);
}

// --kernel: reads the kernel and initrd, then boots Linux with the demo's
// virtio device on the machine's PCI bus and stdin on its console.
int RunKernel(RunInterrupter& interrupter, bool mem_given) {
  absl::StatusOr<MachineOptions> options = OptionsFromFlags();
  if (!options.ok()) return Fail(kExitUsage, options.status());
  if (!mem_given) options->mem_size = kDefaultLinuxMem;
  absl::StatusOr<std::vector<uint8_t>> kernel =
      ReadInputFile("kernel", UserPath(absl::GetFlag(FLAGS_kernel)), options->mem_size);
  if (!kernel.ok()) return Fail(kExitInputFile, kernel.status());
  options->payload = *std::move(kernel);
  LinuxBootOptions linux_boot;
  linux_boot.cmdline = absl::GetFlag(FLAGS_cmdline);
  if (!absl::GetFlag(FLAGS_initrd).empty()) {
    absl::StatusOr<std::vector<uint8_t>> initrd =
        ReadInputFile("initrd", UserPath(absl::GetFlag(FLAGS_initrd)), options->mem_size);
    if (!initrd.ok()) return Fail(kExitInputFile, initrd.status());
    linux_boot.initrd = *std::move(initrd);
  }
  options->linux_boot = std::move(linux_boot);
  options->stop_after_exits = absl::GetFlag(FLAGS_snapshot_after);
  // The images' own faults (bad header, not fitting --mem) are the input
  // files'; Create()'s are as for payloads.
  if (absl::Status images = Machine::CheckLinuxImages(*options); !images.ok()) {
    return Fail(kExitInputFile, images);
  }
  // Moved in: the file bytes are freed once they are in guest RAM.
  absl::StatusOr<std::unique_ptr<Machine>> machine = Machine::Create(*std::move(options));
  if (!machine.ok()) return Fail(CreateExitCode(machine.status()), machine.status());
  absl::StatusOr<std::unique_ptr<DemoDeviceAttachment>> device =
      AttachDemoDevice(**machine, std::cerr);
  if (!device.ok()) return Fail(kExitHypervisor, device.status());
  absl::StatusOr<std::unique_ptr<ConsoleInputPump>> input = StartConsoleInput(**machine);
  if (!input.ok()) return Fail(kExitHypervisor, input.status());
  const RunResult result =
      (*machine)->Run(std::cout, absl::GetFlag(FLAGS_timeout), &interrupter);
  input->reset();
  return Finish(**machine, result);
}

int RunDemoFromFlags(RunInterrupter& interrupter) {
  absl::StatusOr<DemoResult> demo =
      RunDemo(HypervisorSpec(), std::cout, std::cerr, absl::GetFlag(FLAGS_timeout),
              &interrupter);
  if (!demo.ok()) return Fail(CreateExitCode(demo.status()), demo.status());
  return Report(demo->run, demo->stats, /*demo=*/true);
}

// The snapshot flags: Linux builds only; each trigger with a file
// and a file with a trigger; --restore in place of what the snapshot holds;
// snapshots of payload machines and Linux guests, not of the demo.
absl::Status CheckSnapshotFlags(const std::set<std::string>& set) {
  bool any = false;
  for (const std::string& name : kSnapshotFlagNames) any = any || set.count(name) > 0;
  if (!any) return absl::OkStatus();
  RETURN_IF_ERROR(MachineSnapshotSupport());
  const bool file = set.count("snapshot") > 0;
  const bool trigger = set.count("snapshot_after") > 0 || set.count("snapshot_on") > 0;
  const bool restore = set.count("restore") > 0;
  if (file && !trigger) {
    return absl::InvalidArgumentError(
        "--snapshot=FILE needs --snapshot_after=N or --snapshot_on=SIGNAL to say when");
  }
  if (trigger && !file) {
    return absl::InvalidArgumentError(
        "--snapshot_after and --snapshot_on need --snapshot=FILE to say where");
  }
  if (file && absl::GetFlag(FLAGS_snapshot).empty()) {
    return absl::InvalidArgumentError("--snapshot=: expected a file name");
  }
  if (set.count("snapshot_after") > 0 && absl::GetFlag(FLAGS_snapshot_after) == 0) {
    return absl::InvalidArgumentError("--snapshot_after=0: expected at least 1 VM exit");
  }
  if (set.count("advance_clock") > 0 && !restore) {
    return absl::InvalidArgumentError(
        "--advance_clock applies to --restore only: it moves a restored guest's clock on");
  }
  if (restore && absl::GetFlag(FLAGS_restore).empty()) {
    return absl::InvalidArgumentError("--restore=: expected a file name");
  }
  for (const std::string& name : kNotWithRestoreFlagNames) {
    if (restore && set.count(name) > 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--%s does not apply to --restore: the snapshot holds the guest's RAM and "
          "registers",
          name));
    }
  }
  if (file && !restore && set.count("payload") == 0 && set.count("kernel") == 0) {
    return absl::InvalidArgumentError(
        "--snapshot applies to --payload, --kernel or --restore only: the demo's own "
        "PCI bus is not saved");
  }
  return absl::OkStatus();
}

int Main(int argc, char** argv) {
  absl::StatusOr<CliFlags> flags = ParseCliFlags(argc, argv, kFlagNames);
  if (!flags.ok()) return Fail(kExitUsage, flags.status());
  if (flags->help) {
    std::cout << FormatCliHelp(kUsage, kFlagNames);
    return 0;
  }
  if (absl::Status snapshot = CheckSnapshotFlags(flags->set); !snapshot.ok()) {
    return Fail(kExitUsage, snapshot);
  }
  const bool payload = flags->set.count("payload") > 0;
  const bool kernel = flags->set.count("kernel") > 0;
  const bool restore = flags->set.count("restore") > 0;
  if (payload && kernel) {
    std::cerr << "hvrun: --payload and --kernel exclude each other: a flat binary or a "
                 "Linux kernel (try --help)\n";
    return kExitUsage;
  }
  for (const std::string& name : kFlatOnlyFlagNames) {
    if (!payload && flags->set.count(name) > 0) {
      std::cerr << "hvrun: --" << name << " applies to --payload only; "
                << (kernel ? "--kernel" : "the demo") << " sets its own (try --help)\n";
      return kExitUsage;
    }
  }
  for (const std::string& name : kMachineFlagNames) {
    if (!payload && !kernel && !restore && flags->set.count(name) > 0) {
      std::cerr << "hvrun: --" << name
                << " applies to --payload or --kernel only; the demo sets its own (try --help)\n";
      return kExitUsage;
    }
  }
  for (const std::string& name : kKernelFlagNames) {
    if (!kernel && flags->set.count(name) > 0) {
      std::cerr << "hvrun: --" << name << " applies to --kernel only (try --help)\n";
      return kExitUsage;
    }
  }
  if (absl::Status timeout = CheckTimeout(); !timeout.ok()) return Fail(kExitUsage, timeout);
  int snapshot_signal = 0;
  if (flags->set.count("snapshot_on") > 0) {
    absl::StatusOr<int> parsed = ParseSnapshotSignal(absl::GetFlag(FLAGS_snapshot_on));
    if (!parsed.ok()) return Fail(kExitUsage, parsed.status());
    snapshot_signal = *parsed;
  }
  RunInterrupter interrupter;
  absl::StatusOr<std::unique_ptr<SignalWatcher>> watcher =
      SignalWatcher::Start(&interrupter, snapshot_signal);
  if (!watcher.ok()) return Fail(kExitHypervisor, watcher.status());
  if (kernel) return RunKernel(interrupter, flags->set.count("mem") > 0);
  if (restore) {
    return RunRestore(interrupter, flags->set.count("mem") > 0,
                      flags->set.count("vcpus") > 0);
  }
  return payload ? RunPayload(interrupter) : RunDemoFromFlags(interrupter);
}

}  // namespace
}  // namespace hv

int main(int argc, char** argv) { return hv::Main(argc, argv); }
