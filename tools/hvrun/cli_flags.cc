#include "tools/hvrun/cli_flags.h"

#include <algorithm>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace hv {
namespace {

bool IsKnown(const std::vector<std::string>& known, absl::string_view name) {
  return std::find(known.begin(), known.end(), name) != known.end();
}

// The flag `name` if it is one of `known`, else nullptr.
absl::CommandLineFlag* Find(const std::vector<std::string>& known,
                            absl::string_view name) {
  return IsKnown(known, name) ? absl::FindCommandLineFlag(name) : nullptr;
}

}  // namespace

absl::StatusOr<CliFlags> ParseCliFlags(int argc, char** argv,
                                       const std::vector<std::string>& known) {
  CliFlags result;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") {
      if (i + 1 < argc) {
        return absl::InvalidArgumentError(
            absl::StrFormat("unexpected argument \"%s\" (try --help)", argv[i + 1]));
      }
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      return absl::InvalidArgumentError(
          absl::StrFormat("unexpected argument \"%s\" (try --help)", arg));
    }
    absl::string_view body = arg.substr(absl::StartsWith(arg, "--") ? 2 : 1);
    const size_t equals = body.find('=');
    const bool has_value = equals != absl::string_view::npos;
    absl::string_view name = body.substr(0, equals);
    std::string value = has_value ? std::string(body.substr(equals + 1)) : "";
    if (!has_value && (name == "help" || name == "h")) {
      result.help = true;
      continue;
    }
    absl::CommandLineFlag* flag = Find(known, name);
    if (flag == nullptr && !has_value && absl::StartsWith(name, "no")) {
      absl::CommandLineFlag* negated = Find(known, name.substr(2));
      if (negated != nullptr && negated->IsOfType<bool>()) {
        flag = negated;
        name = name.substr(2);
        value = "false";
      } else {
        flag = nullptr;
      }
    } else if (flag != nullptr && !has_value) {
      if (flag->IsOfType<bool>()) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return absl::InvalidArgumentError(
            absl::StrFormat("--%s needs a value (try --help)", name));
      }
    }
    if (flag == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrFormat("unknown flag \"%s\" (try --help)", arg));
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--%s=%s: %s", name, value, error));
    }
    result.set.insert(std::string(name));
  }
  return result;
}

std::string FormatCliHelp(absl::string_view usage,
                          const std::vector<std::string>& known) {
  std::string out = absl::StrCat(usage, "\n\nFlags:\n");
  for (const std::string& name : known) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) continue;
    absl::StrAppendFormat(&out, "  --%s (default: \"%s\")\n      %s\n", name,
                          flag->DefaultValue(), flag->Help());
  }
  absl::StrAppend(&out, "  --help\n      print this and exit 0\n");
  return out;
}

}  // namespace hv
