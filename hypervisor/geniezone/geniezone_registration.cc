// Registers the Geniezone backend as hypervisor kind "geniezone" with option
// "device" (default /dev/gzvm). Linked only through the alwayslink
// "geniezone" library.
#include "hypervisor/backend_registration.h"
#include "hypervisor/geniezone/geniezone_hypervisor.h"

namespace hv {
namespace {

const BackendRegistration kRegisterGeniezone(
    "geniezone", {"device"}, [](const HypervisorSpec& spec) {
      return GeniezoneHypervisor::Create(spec.Option("device", "/dev/gzvm"));
    });

}  // namespace
}  // namespace hv
