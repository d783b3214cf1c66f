// Registers the Gunyah backend as hypervisor kind "gunyah" with option
// "device" (default /dev/gunyah). Linked only through the alwayslink
// "gunyah" library.
#include "hypervisor/gunyah/gunyah_hypervisor.h"
#include "hypervisor/registry.h"

namespace hv {
namespace {

const BackendRegistration kRegisterGunyah(
    "gunyah", {"device"},
    [](const HypervisorSpec& spec)
        -> absl::StatusOr<std::unique_ptr<Hypervisor>> {
      auto gunyah =
          GunyahHypervisor::Create(spec.Option("device", "/dev/gunyah"));
      if (!gunyah.ok()) return gunyah.status();
      return std::unique_ptr<Hypervisor>(std::move(gunyah).value());
    });

}  // namespace
}  // namespace hv
