// Registers the Gunyah backend as hypervisor kind "gunyah" with option
// "device" (default /dev/gunyah). Linked only through the alwayslink
// "gunyah" library.
#include "hypervisor/backend_registration.h"
#include "hypervisor/gunyah/gunyah_hypervisor.h"

namespace hv {
namespace {

const BackendRegistration kRegisterGunyah(
    "gunyah", {"device"}, [](const HypervisorSpec& spec) {
      return GunyahHypervisor::Create(spec.Option("device", "/dev/gunyah"));
    });

}  // namespace
}  // namespace hv
