#include "hypervisor/registry.h"

#include <algorithm>
#include <mutex>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "hypervisor/backend_registration.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/os/status_macros.h"
#include "re2/re2.h"

namespace hv {
namespace {

struct Backend {
  BackendInfo info;
  BackendFactory factory;
};

// std::mutex rather than absl::Mutex: Debian's Abseil is not built with
// TSan, which then cannot see absl::Mutex's synchronisation.
struct Registry {
  std::mutex mutex;
  std::map<std::string, Backend> backends ABSL_GUARDED_BY(mutex);
};

Registry& GetRegistry() {
  static Registry* registry = new Registry;
  return *registry;
}

}  // namespace

std::string HypervisorSpec::Option(absl::string_view key,
                                   absl::string_view fallback) const {
  auto it = options.find(std::string(key));
  return it == options.end() ? std::string(fallback) : it->second;
}

absl::StatusOr<HypervisorSpec> ParseHypervisorSpec(absl::string_view spec) {
  // A bare kind such as "kvm" (hvrun's default): what kSpec would give, without
  // compiling the expressions, whose code and memory would otherwise be a
  // fixed part of every hvrun run (RE2 and its compiler are ~300 KiB).
  const auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!spec.empty() && lower(spec[0]) &&
      std::all_of(spec.begin(), spec.end(),
                  [&](char c) { return lower(c) || digit(c) || c == '_'; })) {
    HypervisorSpec parsed;
    parsed.kind = std::string(spec);
    return parsed;
  }
  static const LazyRE2 kSpec = {R"(([a-z][a-z0-9_]*)(?:\[([^\[\]]*)\])?)"};
  static const LazyRE2 kOption = {R"(([a-z][a-z0-9_]*)=([^,\[\]=]+))"};
  HypervisorSpec parsed;
  std::string options;
  if (!RE2::FullMatch(re2::StringPiece(spec.data(), spec.size()), *kSpec, &parsed.kind, &options)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "hypervisor spec \"", spec,
        "\": expected kind or kind[key=value,...], e.g. kvm[device=/dev/kvm]"));
  }
  if (spec.back() == ']' && options.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("hypervisor spec \"", spec, "\": empty option list"));
  }
  if (options.empty()) return parsed;
  for (absl::string_view option : absl::StrSplit(options, ',')) {
    std::string key, value;
    if (!RE2::FullMatch(re2::StringPiece(option.data(), option.size()), *kOption, &key, &value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "hypervisor spec \"", spec, "\": option \"", option,
          "\" is not key=value"));
    }
    if (!parsed.options.emplace(key, value).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "hypervisor spec \"", spec, "\": option \"", key, "\" given twice"));
    }
  }
  return parsed;
}

BackendRegistration::BackendRegistration(absl::string_view kind,
                                         std::vector<std::string> options,
                                         BackendFactory factory) {
  Registry& registry = GetRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.backends[std::string(kind)] =
      Backend{BackendInfo{std::string(kind), std::move(options)},
              std::move(factory)};
}

std::vector<BackendInfo> LinkedBackends() {
  Registry& registry = GetRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  std::vector<BackendInfo> result;
  for (const auto& [kind, backend] : registry.backends) {
    result.push_back(backend.info);
  }
  return result;
}

absl::StatusOr<std::unique_ptr<Hypervisor>> CreateHypervisor(
    absl::string_view spec) {
  ASSIGN_OR_RETURN(HypervisorSpec parsed, ParseHypervisorSpec(spec));
  BackendFactory factory;
  {
    Registry& registry = GetRegistry();
    std::lock_guard<std::mutex> lock(registry.mutex);
    auto it = registry.backends.find(parsed.kind);
    if (it == registry.backends.end()) {
      std::vector<std::string> kinds;
      for (const auto& entry : registry.backends) kinds.push_back(entry.first);
      return absl::InvalidArgumentError(absl::StrCat(
          "hypervisor \"", parsed.kind, "\" is not linked into this build; ",
          kinds.empty() ? "none is" : "linked: " + absl::StrJoin(kinds, ", ")));
    }
    const BackendInfo& info = it->second.info;
    for (const auto& [key, value] : parsed.options) {
      bool known = false;
      for (const std::string& accepted : info.options) known |= accepted == key;
      if (!known) {
        return absl::InvalidArgumentError(absl::StrCat(
            "hypervisor \"", parsed.kind, "\" has no option \"", key,
            "\"; it accepts: ",
            info.options.empty() ? "none" : absl::StrJoin(info.options, ", ")));
      }
    }
    factory = it->second.factory;
  }
  return factory(parsed);
}

}  // namespace hv
