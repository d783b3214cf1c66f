// Registers the HAXM backend as hypervisor kind "haxm" with option "device"
// (default \\.\HAX on Windows, /dev/HAX on the POSIX port). Linked only
// through the alwayslink "haxm" library.
#include "hypervisor/backend_registration.h"
#include "hypervisor/haxm/haxm_hypervisor.h"

namespace hv {
namespace {

const BackendRegistration kRegisterHaxm(
    "haxm", {"device"}, [](const HypervisorSpec& spec) {
      HaxmSys* sys = RealHaxmSys();
      return HaxmHypervisor::Create(
          spec.Option("device", HaxmHypervisor::DefaultDevicePath(*sys)), sys);
    });

}  // namespace
}  // namespace hv
