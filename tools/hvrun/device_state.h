// DeviceStateOf(): a Machine's DeviceState (machine.h) for a device with
// the snapshot trio SaveState(ByteWriter&), CheckState(ByteReader&) and
// RestoreState(ByteReader&) (devices/, virtio/): its section is exactly
// the device's record (a longer one is refused as DATA_LOSS, "<name>
// state: N bytes left over ..."), and errors name the device. Linux builds
// (snapshot/codec.h).
//
// Example:
//   RETURN_IF_ERROR(machine.AddDeviceState(hv::DeviceStateOf(1, "16550 UART", uart.get())));
#ifndef HV_TOOLS_HVRUN_DEVICE_STATE_H_
#define HV_TOOLS_HVRUN_DEVICE_STATE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "snapshot/codec.h"
#include "tools/hvrun/machine.h"

namespace hv {

namespace device_state_internal {

// Reads the whole of `bytes` with `read` (the device's CheckState or
// RestoreState, whose errors name the device; the reader's name it as
// "<name> state").
template <typename Read>
absl::Status ReadAll(absl::Span<const uint8_t> bytes, const std::string& name, Read read) {
  snapshot::ByteReader in(bytes, name + " state");
  absl::Status status = read(in);
  if (!status.ok()) return status;
  return in.Done();
}

}  // namespace device_state_internal

// DeviceStateOf(): `device` is not owned; it must outlive the machine's
// snapshots and restores.
template <typename Device>
DeviceState DeviceStateOf(uint32_t index, std::string name, Device* device) {
  DeviceState state;
  state.index = index;
  state.name = name;
  state.save = [device] {
    snapshot::ByteWriter out;
    device->SaveState(out);
    return out.Take();
  };
  state.check = [device, name](absl::Span<const uint8_t> bytes) {
    return device_state_internal::ReadAll(
        bytes, name, [&](snapshot::ByteReader& in) { return device->CheckState(in); });
  };
  // CheckState first, so bytes with more in them than the record (which
  // Done() refuses) change nothing either.
  state.restore = [device, name](absl::Span<const uint8_t> bytes) -> absl::Status {
    absl::Status checked = device_state_internal::ReadAll(
        bytes, name, [&](snapshot::ByteReader& in) { return device->CheckState(in); });
    if (!checked.ok()) return checked;
    return device_state_internal::ReadAll(
        bytes, name, [&](snapshot::ByteReader& in) { return device->RestoreState(in); });
  };
  return state;
}

}  // namespace hv

#endif  // HV_TOOLS_HVRUN_DEVICE_STATE_H_
