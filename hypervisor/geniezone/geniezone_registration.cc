// Registers the Geniezone backend as hypervisor kind "geniezone" with option
// "device" (default /dev/gzvm). Linked only through the alwayslink
// "geniezone" library.
#include "hypervisor/geniezone/geniezone_hypervisor.h"
#include "hypervisor/registry.h"

namespace hv {
namespace {

const BackendRegistration kRegisterGeniezone(
    "geniezone", {"device"}, [](const HypervisorSpec& spec) {
      return GeniezoneHypervisor::Create(spec.Option("device", "/dev/gzvm"));
    });

}  // namespace
}  // namespace hv
