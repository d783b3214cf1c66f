// Registers the HAXM backend as hypervisor kind "haxm" with option "device"
// (default \\.\HAX on Windows, /dev/HAX on the POSIX port). Linked only
// through the alwayslink "haxm" library.
#include "hypervisor/haxm/haxm_hypervisor.h"
#include "hypervisor/registry.h"

namespace hv {
namespace {

const BackendRegistration kRegisterHaxm(
    "haxm", {"device"},
    [](const HypervisorSpec& spec)
        -> absl::StatusOr<std::unique_ptr<Hypervisor>> {
      HaxmSys* sys = RealHaxmSys();
      auto haxm = HaxmHypervisor::Create(
          spec.Option("device", HaxmHypervisor::DefaultDevicePath(*sys)), sys);
      if (!haxm.ok()) return haxm.status();
      return std::unique_ptr<Hypervisor>(std::move(haxm).value());
    });

}  // namespace
}  // namespace hv
