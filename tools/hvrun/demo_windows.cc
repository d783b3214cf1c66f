// hvrun's demo on Windows: not available. The demo maps a host blob into a
// virtio shared-memory BAR prepared as one region, which needs a file mapped
// into part of an existing mapping in place; Windows has no such remap
// (MmapRegion::MapFdAt is UNIMPLEMENTED there) and //virtio is Linux-only.
// Payloads (--payload) run as on Linux.
#include "absl/status/status.h"
#include "tools/hvrun/demo.h"

namespace hv {

absl::StatusOr<DemoResult> RunDemo(absl::string_view, std::ostream&, std::ostream&,
                                   absl::Duration, RunInterrupter*) {
  return absl::UnimplementedError(
      "hvrun demo: the virtio shared-memory BAR needs fd mappings into a "
      "prepared region, which Windows cannot do (no in-place remap); run a "
      "guest with --payload instead");
}

absl::StatusOr<std::unique_ptr<DemoDeviceAttachment>> AttachDemoDevice(Machine&,
                                                                       std::ostream&) {
  return absl::UnimplementedError(
      "hvrun demo device: the virtio shared-memory BAR needs fd mappings into a "
      "prepared region, which Windows cannot do (no in-place remap)");
}

}  // namespace hv
