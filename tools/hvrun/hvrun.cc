// hvrun: runs a guest on any linked hypervisor backend.
//
//   hvrun                              the built-in demo (serial, PCI, virtio
//                                      shared memory); exits 0 when it works
//   hvrun --payload=guest.bin --mode=long --entry=0x10000 --stats
//   hvrun --hypervisor='kvm[device=/dev/kvm]' --payload=guest.bin
//
// x86_64: serial output (COM1, port 0x3f8) goes to stdout; a write to port
// 0xf4 ends the run, the value written is hvrun's exit code. aarch64: bytes
// written to MMIO 0x09000000 go to stdout; a write to MMIO 0x09010000 sets
// the exit code and PSCI SYSTEM_OFF ends the run. machine.h has the whole
// guest-visible contract of each.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/registry.h"
#include "tools/hvrun/demo.h"
#include "tools/hvrun/machine.h"

ABSL_FLAG(std::string, hypervisor, "",
          "backend spec: kind or kind[key=value,...], e.g. kvm[device=/dev/kvm]; "
          "default: the platform's first linked backend of kvm, whpx, haxm, "
          "geniezone, gunyah");
ABSL_FLAG(std::string, payload, "",
          "flat binary to run; without it hvrun runs its built-in demo");
ABSL_FLAG(std::string, mode, "",
          "CPU mode at entry: x86_64 real (default), protected or long; aarch64 el1 "
          "(default, the only one)");
ABSL_FLAG(std::string, load_addr, "",
          "guest-physical load address of the payload (default: x86_64 0x10000, "
          "aarch64 0x40000000, the start of RAM)");
ABSL_FLAG(std::string, entry, "", "entry point (default: the load address)");
ABSL_FLAG(std::string, mem, "64M", "guest RAM size, e.g. 64M or 1G");
ABSL_FLAG(uint32_t, vcpus, 1,
          "number of vCPUs; each starts at the entry with its index in rdi (x86_64) "
          "or x0 (aarch64)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30), "give up after this long, e.g. 10s");
ABSL_FLAG(bool, stats, false, "print per-exit-kind counts and times at the end");

namespace hv {
namespace {

absl::StatusOr<uint64_t> ParseAddress(const char* flag, const std::string& text) {
  uint64_t value = 0;
  bool ok = text.rfind("0x", 0) == 0 ? absl::SimpleHexAtoi(text.substr(2), &value)
                                     : absl::SimpleAtoi(text, &value);
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--%s=%s: expected a number such as 0x10000 or 65536", flag, text));
  }
  return value;
}

absl::StatusOr<std::vector<uint8_t>> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrFormat("--payload=%s: cannot open it", path));
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
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

absl::StatusOr<MachineOptions> OptionsFromFlags() {
  MachineOptions o;
  o.hypervisor = HypervisorSpec();
  o.mode = absl::GetFlag(FLAGS_mode);
  ASSIGN_OR_RETURN(o.mem_size, ParseMemorySize(absl::GetFlag(FLAGS_mem)));
  if (!absl::GetFlag(FLAGS_load_addr).empty()) {
    ASSIGN_OR_RETURN(o.load_address, ParseAddress("load_addr", absl::GetFlag(FLAGS_load_addr)));
  }
  if (!absl::GetFlag(FLAGS_entry).empty()) {
    ASSIGN_OR_RETURN(o.entry, ParseAddress("entry", absl::GetFlag(FLAGS_entry)));
  }
  o.vcpus = absl::GetFlag(FLAGS_vcpus);
  ASSIGN_OR_RETURN(o.payload, ReadFile(absl::GetFlag(FLAGS_payload)));
  return o;
}

absl::StatusOr<int> RunPayload() {
  ASSIGN_OR_RETURN(MachineOptions options, OptionsFromFlags());
  ASSIGN_OR_RETURN(std::unique_ptr<Machine> machine, Machine::Create(options));
  ASSIGN_OR_RETURN(RunResult result, machine->Run(std::cout, absl::GetFlag(FLAGS_timeout)));
  if (absl::GetFlag(FLAGS_stats)) std::cerr << machine->stats().Format();
  return result.exit_code;
}

absl::StatusOr<int> RunDemoFromFlags() {
  ASSIGN_OR_RETURN(DemoResult demo,
                   RunDemo(HypervisorSpec(), std::cout,
                           absl::GetFlag(FLAGS_timeout)));
  if (absl::GetFlag(FLAGS_stats)) std::cerr << demo.stats;
  return demo.exit_code;
}

}  // namespace
}  // namespace hv

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Runs a guest on a hypervisor backend linked into this build.\n"
      "With no arguments it runs a built-in demo guest. With --payload it\n"
      "runs a flat binary. x86_64: serial output (port 0x3f8) goes to stdout\n"
      "and a write to port 0xf4 ends the run with that value as the exit\n"
      "code. aarch64: bytes written to MMIO 0x09000000 go to stdout, a write\n"
      "to MMIO 0x09010000 sets the exit code, PSCI SYSTEM_OFF ends the run.\n"
      "Usage: hvrun [--payload=FILE --mode=real|protected|long|el1 --load_addr=A\n"
      "             --entry=A --mem=64M --vcpus=N --timeout=30s]\n"
      "             [--hypervisor=kvm[device=/dev/kvm]] [--stats]");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::cerr << "hvrun: unexpected argument \"" << rest[1] << "\" (try --help)\n";
    return 2;
  }
  absl::StatusOr<int> code = absl::GetFlag(FLAGS_payload).empty()
                                 ? hv::RunDemoFromFlags()
                                 : hv::RunPayload();
  if (!code.ok()) {
    std::cerr << "hvrun: " << code.status().message() << "\n";
    return code.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return *code;
}
