// hvprobe: lists the hypervisor backends linked into this build, whether
// each is usable on this host (and why not), and each one's capabilities.
//
//   tools/bazel run //tools/hvprobe
//   tools/bazel run //tools/hvprobe -- --json
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "tools/hvprobe/probe.h"

ABSL_FLAG(bool, json, false, "print the report as JSON");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Lists the hypervisor backends linked into this build, whether each is "
      "usable on this host, and their capabilities.\nUsage: hvprobe [--json]");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::cerr << "hvprobe: unexpected argument \"" << rest[1]
              << "\" (try --help)\n";
    return 2;
  }
  std::vector<hv::BackendReport> reports = hv::ProbeBackends();
  std::cout << (absl::GetFlag(FLAGS_json) ? hv::FormatReportsJson(reports)
                                          : hv::FormatReportsText(reports));
  return 0;
}
