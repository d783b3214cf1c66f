// Command-line parsing for hvrun and hvprobe that never exits behind the
// program's back: Abseil's ParseCommandLine prints its own "ERROR: ..." and
// exits 1 on a bad flag, and --help exits 1. ParseCliFlags() instead sets
// the program's own ABSL_FLAGs through Abseil's flag reflection and returns
// a Status naming the flag, so the program prints one line and exits with
// its documented code; FormatCliHelp() lists exactly the program's flags.
//
// Accepted forms: --name=value, --name value, -name=value, and for a bool
// flag --name / --noname. "--" ends the flags; whatever follows, and any
// argument that is not a flag, is an unexpected positional argument.
//
// Example:
//   const std::vector<std::string> kFlags = {"json"};
//   absl::StatusOr<hv::CliFlags> flags = hv::ParseCliFlags(argc, argv, kFlags);
//   if (!flags.ok()) { std::cerr << "hvprobe: " << flags.status().message() << "\n"; return 2; }
//   if (flags->help) { std::cout << hv::FormatCliHelp(usage, kFlags); return 0; }
#ifndef HV_TOOLS_HVRUN_CLI_FLAGS_H_
#define HV_TOOLS_HVRUN_CLI_FLAGS_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hv {

struct CliFlags {
  bool help = false;          // --help (or -h) was given
  std::set<std::string> set;  // the names of the flags given on the command line
};

// ParseCliFlags(): sets the flags named in `known` (each an ABSL_FLAG of the
// program) from argv[1..argc). INVALID_ARGUMENT naming the argument for an
// unknown flag, a flag without a value, a value the flag's type rejects, or
// a positional argument.
absl::StatusOr<CliFlags> ParseCliFlags(int argc, char** argv,
                                       const std::vector<std::string>& known);

// FormatCliHelp(): `usage`, then one entry per flag of `known`: its name,
// default value and help text.
std::string FormatCliHelp(absl::string_view usage,
                          const std::vector<std::string>& known);

}  // namespace hv

#endif  // HV_TOOLS_HVRUN_CLI_FLAGS_H_
