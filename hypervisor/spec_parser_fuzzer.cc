// Fuzzes ParseHypervisorSpec: any input either fails with INVALID_ARGUMENT
// or parses into a spec that prints back to a string parsing to the same
// spec.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "hypervisor/registry.h"

namespace {

std::string Print(const hv::HypervisorSpec& spec) {
  if (spec.options.empty()) return spec.kind;
  return absl::StrCat(spec.kind, "[",
                      absl::StrJoin(spec.options, ",", absl::PairFormatter("=")),
                      "]");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<hv::HypervisorSpec> spec = hv::ParseHypervisorSpec(text);
  if (!spec.ok()) {
    if (spec.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  absl::StatusOr<hv::HypervisorSpec> again = hv::ParseHypervisorSpec(Print(*spec));
  if (!again.ok() || again->kind != spec->kind || again->options != spec->options) {
    std::abort();
  }
  return 0;
}
