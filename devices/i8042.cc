#include "devices/i8042.h"

#include <cstring>

#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"

namespace hv {
namespace {

// Status register bits (IBM PC AT Technical Reference, keyboard
// controller status register).
constexpr uint8_t kStatusOutputFull = 1 << 0;
constexpr uint8_t kStatusSystemFlag = 1 << 2;
// Bit 4, the inhibit switch: 1 when the keyboard is not inhibited (no
// keylock here; Linux warns "Keylock active" when it reads 0).
constexpr uint8_t kStatusNotInhibited = 1 << 4;
// Bit 5 on a PS/2 controller: the output buffer holds a byte from the
// auxiliary (mouse) port.
constexpr uint8_t kStatusAuxData = 1 << 5;

// Controller commands.
constexpr uint8_t kReadCommandByte = 0x20;
constexpr uint8_t kWriteCommandByte = 0x60;
constexpr uint8_t kDisableAux = 0xa7;
constexpr uint8_t kEnableAux = 0xa8;
constexpr uint8_t kTestAux = 0xa9;
constexpr uint8_t kSelfTest = 0xaa;
constexpr uint8_t kTestKeyboard = 0xab;
constexpr uint8_t kDisableKeyboard = 0xad;
constexpr uint8_t kEnableKeyboard = 0xae;
constexpr uint8_t kWriteOutputPort = 0xd1;
// The next data byte goes to the output buffer as if the keyboard (0xD2)
// or the auxiliary device (0xD3) had sent it: the loopback Linux uses to
// probe the auxiliary port and an active multiplexer. Answering it at once
// spares Linux three 0.5 s timeouts at boot.
constexpr uint8_t kWriteKeyboardOutput = 0xd2;
constexpr uint8_t kWriteAuxOutput = 0xd3;
// 0xF0-0xFF pulse the output lines whose bits are clear in the low nibble;
// bit 0 is the reset line (0xFE pulses reset alone).
constexpr uint8_t kPulseOutputLines = 0xf0;

constexpr uint8_t kSelfTestPassed = 0x55;
constexpr uint8_t kPortTestPassed = 0x00;
constexpr uint8_t kCommandByteAuxDisabled = 1 << 5;
constexpr uint8_t kCommandByteKeyboardDisabled = 1 << 4;

// SaveState's record: u32 version, bool output full, u8 output byte, u8
// command byte, bool command pending, u8 pending command, u64 resets; from
// version 2 on, bool output from the auxiliary port. Version 1 records
// (no loopback yet: the output was never the auxiliary port's) still load.
constexpr uint32_t kStateVersion = 2;

bool TakesDataByte(uint8_t command) {
  return command == kWriteCommandByte || command == kWriteOutputPort ||
         command == kWriteKeyboardOutput || command == kWriteAuxOutput;
}

}  // namespace

struct I8042::SavedState {
  std::optional<uint8_t> output;
  bool output_aux = false;
  uint8_t command_byte = 0;
  std::optional<uint8_t> pending;
  uint64_t resets = 0;
};

void I8042::SaveState(snapshot::ByteWriter& out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  out.Put32(kStateVersion);
  out.PutBool(output_.has_value());
  out.Put8(output_.value_or(0));
  out.Put8(command_byte_);
  out.PutBool(pending_.has_value());
  out.Put8(pending_.value_or(0));
  out.Put64(resets_);
  out.PutBool(output_aux_);
}

absl::StatusOr<I8042::SavedState> I8042::ReadState(snapshot::ByteReader& in) {
  ASSIGN_OR_RETURN(uint32_t version, in.GetVersion(1, kStateVersion, "i8042 state"));
  SavedState s;
  ASSIGN_OR_RETURN(bool full, in.GetBool("output full"));
  ASSIGN_OR_RETURN(uint8_t output, in.Get8("output byte"));
  ASSIGN_OR_RETURN(s.command_byte, in.Get8("command byte"));
  ASSIGN_OR_RETURN(bool has_pending, in.GetBool("command pending"));
  ASSIGN_OR_RETURN(uint8_t pending, in.Get8("pending command"));
  ASSIGN_OR_RETURN(s.resets, in.Get64("resets"));
  if (version >= 2) {
    ASSIGN_OR_RETURN(s.output_aux, in.GetBool("output from the auxiliary port"));
  }
  if (has_pending && !TakesDataByte(pending)) {
    return absl::DataLossError(absl::StrFormat(
        "i8042 state: pending command %#x takes no data byte (only %#x, %#x, "
        "%#x and %#x do)",
        pending, kWriteCommandByte, kWriteOutputPort, kWriteKeyboardOutput,
        kWriteAuxOutput));
  }
  if (s.output_aux && !full) {
    return absl::DataLossError(
        "i8042 state: the output is marked as the auxiliary port's but the "
        "buffer is empty");
  }
  if (full) s.output = output;
  if (has_pending) s.pending = pending;
  return s;
}

absl::Status I8042::CheckState(snapshot::ByteReader& in) const {
  return ReadState(in).status();
}

absl::Status I8042::RestoreState(snapshot::ByteReader& in) {
  ASSIGN_OR_RETURN(SavedState s, ReadState(in));
  std::lock_guard<std::mutex> lock(mutex_);
  output_ = s.output;
  output_aux_ = s.output_aux;
  command_byte_ = s.command_byte;
  pending_ = s.pending;
  resets_ = s.resets;
  return absl::OkStatus();
}

void I8042::HandleIo(IoRequest& io) {
  if (io.data.empty()) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (!io.is_write) {
    std::memset(io.data.data(), 0xff, io.data.size());
    if (io.address == kCommandPort) {
      uint8_t status = kStatusSystemFlag | kStatusNotInhibited;
      if (output_.has_value()) status |= kStatusOutputFull;
      if (output_aux_) status |= kStatusAuxData;
      io.data[0] = status;
    } else if (io.address == kDataPort) {
      io.data[0] = output_.value_or(0);
      output_.reset();
      output_aux_ = false;
    }
    return;
  }
  if (io.address == kCommandPort) {
    Command(io.data[0]);
  } else if (io.address == kDataPort) {
    Data(io.data[0]);
  }
}

uint64_t I8042::resets() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return resets_;
}

void I8042::Reset() {
  ++resets_;
  if (on_reset_) on_reset_();
}

void I8042::Output(uint8_t byte, bool aux) {
  output_ = byte;
  output_aux_ = aux;
}

void I8042::Command(uint8_t command) {
  pending_.reset();
  if (TakesDataByte(command)) {
    pending_ = command;
    return;
  }
  switch (command) {
    case kReadCommandByte:
      Output(command_byte_, /*aux=*/false);
      return;
    case kSelfTest:
      Output(kSelfTestPassed, /*aux=*/false);
      return;
    case kTestKeyboard:
    case kTestAux:
      Output(kPortTestPassed, /*aux=*/false);
      return;
    case kDisableKeyboard:
      command_byte_ |= kCommandByteKeyboardDisabled;
      return;
    case kEnableKeyboard:
      command_byte_ &= ~kCommandByteKeyboardDisabled;
      return;
    case kDisableAux:
      command_byte_ |= kCommandByteAuxDisabled;
      return;
    case kEnableAux:
      command_byte_ &= ~kCommandByteAuxDisabled;
      return;
    default:
      if ((command & 0xf0) == kPulseOutputLines && (command & 0x01) == 0) {
        Reset();
      }
      return;  // other commands: nothing attached answers
  }
}

void I8042::Data(uint8_t value) {
  if (!pending_.has_value()) return;  // for the keyboard: none attached
  const uint8_t command = *pending_;
  pending_.reset();
  if (command == kWriteCommandByte) {
    command_byte_ = value;
  } else if (command == kWriteOutputPort && (value & 0x01) == 0) {
    Reset();
  } else if (command == kWriteKeyboardOutput || command == kWriteAuxOutput) {
    Output(value, /*aux=*/command == kWriteAuxOutput);
  }
}

}  // namespace hv
