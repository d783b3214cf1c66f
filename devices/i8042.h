// I8042: the part of a PC's keyboard controller (Intel 8042 / IBM PC AT
// "keyboard controller") that a guest without a keyboard still uses: its
// reset line. Guests reboot by writing command 0xFE (pulse the reset line)
// to port 0x64, which is Linux's `reboot=k`; I8042 calls `on_reset` then.
//
// Also modelled, so drivers probing the controller get consistent answers:
// the status register (output buffer full, system flag), the command byte
// (commands 0x20/0x60), the controller self test (0xAA -> 0x55), the port
// tests (0xAB/0xA9 -> 0x00: pass), port enable/disable (0xAD/0xAE, 0xA7/
// 0xA8), the output port write (0xD1, bit 0 clear = reset) and the
// loopback writes to the output buffer (0xD2 keyboard, 0xD3 auxiliary
// port, which sets the status register's auxiliary-data bit). No keyboard
// or mouse is attached: bytes for them are dropped, and no interrupt is
// raised. Linux probes it correctly, without timeouts;
// `i8042.nokbd i8042.noaux` skip the probe. Thread safe. SaveState/RestoreState carry
// its state across a snapshot (snapshot/codec.h bytes).
//
// Example:
//   hv::I8042 i8042([&] { machine.RequestReset(); });
//   // On a kIo exit: if (i8042.HandlesPort(io.address)) i8042.HandleIo(io);
//   hv::snapshot::ByteWriter out;
//   i8042.SaveState(out);  // between runs
#ifndef HV_DEVICES_I8042_H_
#define HV_DEVICES_I8042_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hypervisor/vcpu_exit.h"
#include "snapshot/codec.h"

namespace hv {

class I8042 {
 public:
  static constexpr uint16_t kDataPort = 0x60;
  static constexpr uint16_t kCommandPort = 0x64;  // status when read

  // `on_reset` runs on the vCPU thread that asked, with the I8042 locked:
  // it must not call back into it.
  explicit I8042(std::function<void()> on_reset)
      : on_reset_(std::move(on_reset)) {}
  I8042(const I8042&) = delete;
  I8042& operator=(const I8042&) = delete;

  bool HandlesPort(uint64_t port) const {
    return port == kDataPort || port == kCommandPort;
  }

  // I8042::HandleIo(): one guest access to port 0x60 or 0x64 (one byte;
  // wider reads return ones above the first byte).
  void HandleIo(IoRequest& io);

  // I8042::resets(): how many reset requests the guest made.
  uint64_t resets() const;

  // I8042::SaveState(): the output buffer (and whether it holds the
  // auxiliary port's byte), the command byte, the command awaiting its data
  // byte and the reset count, appended to `out` (a versioned record;
  // RestoreState() also reads the version 1 record of builds before the
  // loopback commands).
  void SaveState(snapshot::ByteWriter& out) const;
  // I8042::CheckState(): reads a record SaveState() wrote from `in` and
  // checks it, changing nothing: DATA_LOSS naming the field for short or
  // impossible bytes (a pending command that takes no data byte),
  // FAILED_PRECONDITION for another version.
  absl::Status CheckState(snapshot::ByteReader& in) const;
  // I8042::RestoreState(): as CheckState(), then makes the controller's
  // state the record's; on an error nothing is changed.
  absl::Status RestoreState(snapshot::ByteReader& in);

 private:
  struct SavedState;
  static absl::StatusOr<SavedState> ReadState(snapshot::ByteReader& in);
  void Command(uint8_t command) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Data(uint8_t value) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Reset() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Output(uint8_t byte, bool aux) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const std::function<void()> on_reset_;
  mutable std::mutex mutex_;
  // The byte waiting in the output buffer, if any.
  std::optional<uint8_t> output_ ABSL_GUARDED_BY(mutex_);
  // Whether that byte came from the auxiliary port (0xD3's loopback).
  bool output_aux_ ABSL_GUARDED_BY(mutex_) = false;
  // Default command byte: translation on, system flag set, both ports'
  // interrupts off (no keyboard or mouse to interrupt).
  uint8_t command_byte_ ABSL_GUARDED_BY(mutex_) = 0x44;
  // The command whose data byte the next port 0x60 write carries.
  std::optional<uint8_t> pending_ ABSL_GUARDED_BY(mutex_);
  uint64_t resets_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace hv

#endif  // HV_DEVICES_I8042_H_
