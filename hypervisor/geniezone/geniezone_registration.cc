// Registers the Geniezone backend as hypervisor kind "geniezone" with option
// "device" (default /dev/gzvm). Linked only through the alwayslink
// "geniezone" library.
#include "hypervisor/geniezone/geniezone_hypervisor.h"
#include "hypervisor/registry.h"

namespace hv {
namespace {

const BackendRegistration kRegisterGeniezone(
    "geniezone", {"device"},
    [](const HypervisorSpec& spec) -> absl::StatusOr<std::unique_ptr<Hypervisor>> {
      auto gz = GeniezoneHypervisor::Create(spec.Option("device", "/dev/gzvm"));
      if (!gz.ok()) return gz.status();
      return std::unique_ptr<Hypervisor>(std::move(gz).value());
    });

}  // namespace
}  // namespace hv
