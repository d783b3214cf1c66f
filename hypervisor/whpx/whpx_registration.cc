// Registers the WHPX backend as hypervisor kind "whpx" with option
// "max_vcpus". Linked only through the alwayslink "whpx" library. Where
// LoadWhpxApi() has no table (not Windows, or no WHPX feature) the factory
// returns its UNAVAILABLE status.
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "hypervisor/backend_registration.h"
#include "hypervisor/whpx/whpx_api.h"
#include "hypervisor/whpx/whpx_hypervisor.h"

namespace hv {
namespace {

const BackendRegistration kRegisterWhpx(
    "whpx", {"max_vcpus"},
    [](const HypervisorSpec& spec)
        -> absl::StatusOr<std::unique_ptr<Hypervisor>> {
      uint32_t max_vcpus = WhpxHypervisor::kDefaultMaxVcpus;
      const std::string value = spec.Option("max_vcpus", "");
      if (!value.empty() &&
          (!absl::SimpleAtoi(value, &max_vcpus) || max_vcpus == 0)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "whpx: max_vcpus=%s is not a positive integer", value));
      }
      absl::StatusOr<const WhpxApi*> api = LoadWhpxApi();
      if (!api.ok()) return api.status();
      return WhpxHypervisor::Create(*api, max_vcpus);
    });

}  // namespace
}  // namespace hv
