// hvprobe: lists the hypervisor backends linked into this build, whether
// each is usable on this host (and why not), and what each hypervisor and a
// VM on it offer.
//
//   tools/bazel run //tools/hvprobe
//   tools/bazel run //tools/hvprobe -- --json
//
// Exit status: 0 when at least one backend is usable, 1 when none is, 2 for
// bad flags (one line on stderr starting "hvprobe:"); --help exits 0.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "tools/hvprobe/probe.h"
#include "tools/hvrun/cli_flags.h"

ABSL_FLAG(bool, json, false, "print the report as JSON");

namespace {

constexpr char kUsage[] =
    "hvprobe: lists the hypervisor backends linked into this build, whether\n"
    "each is usable on this host (and why not), what the hypervisor reports\n"
    "(max vCPUs, its capabilities) and what a probe VM reports (memory slots,\n"
    "guest address limit, VM capabilities, architecture figures).\n"
    "\n"
    "Usage: hvprobe [--json]\n"
    "\n"
    "Exit status: 0 when at least one backend is usable, 1 when none is,\n"
    "2 for bad flags.";

const std::vector<std::string> kFlagNames = {"json"};

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<hv::CliFlags> flags = hv::ParseCliFlags(argc, argv, kFlagNames);
  if (!flags.ok()) {
    std::cerr << "hvprobe: " << flags.status().message() << "\n";
    return 2;
  }
  if (flags->help) {
    std::cout << hv::FormatCliHelp(kUsage, kFlagNames);
    return 0;
  }
  std::vector<hv::BackendReport> reports = hv::ProbeBackends();
  std::cout << (absl::GetFlag(FLAGS_json) ? hv::FormatReportsJson(reports)
                                          : hv::FormatReportsText(reports));
  return hv::AnyUsable(reports) ? 0 : 1;
}
