// Fuzzes hv's snapshot reader: SnapshotFile::Parse on any bytes, then, for
// a file that parses, every section through every x86_64 decoder
// (x86_64_codec.h) and SnapshotId. What must hold, else the fuzzer aborts:
//   - Parse fails only with DATA_LOSS or UNIMPLEMENTED, and a file it
//     accepts serializes back to exactly the input bytes;
//   - a decoder fails only with DATA_LOSS, and what it decodes encodes to a
//     payload that decodes and encodes to the same bytes again.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "snapshot/snapshot_file.h"
#include "snapshot/x86_64_codec.h"
#include "snapshot/x86_64_snapshot.h"

namespace hv::snapshot {
namespace {

void Check(bool holds) {
  if (!holds) std::abort();
}

// One decoder and its encoder: a failure is DATA_LOSS; a success encodes to
// a canonical payload (decoding and encoding it again changes nothing).
template <typename T, typename Encoded>
void Exercise(absl::Span<const uint8_t> payload,
              absl::StatusOr<T> (*decode)(absl::Span<const uint8_t>,
                                          const std::string&),
              Encoded (*encode)(T)) {
  absl::StatusOr<T> value = decode(payload, "fuzzed section");
  if (!value.ok()) {
    Check(absl::IsDataLoss(value.status()));
    return;
  }
  const std::vector<uint8_t> once = encode(*value);
  absl::StatusOr<T> again = decode(once, "re-encoded section");
  Check(again.ok());
  Check(encode(*again) == once);
}

// The encoders, by value, so that Exercise can take each one's address
// with one signature.
std::vector<uint8_t> Regs_(Regs v) { return EncodeRegs(v); }
std::vector<uint8_t> Sregs_(Sregs v) { return EncodeSregs(v); }
std::vector<uint8_t> Fpu_(Fpu v) { return EncodeFpu(v); }
std::vector<uint8_t> Debug_(DebugRegs v) { return EncodeDebugRegs(v); }
std::vector<uint8_t> Xcrs_(std::vector<Xcr> v) { return EncodeXcrs(v); }
std::vector<uint8_t> Msrs_(std::vector<MsrEntry> v) { return EncodeMsrs(v); }
std::vector<uint8_t> Events_(VcpuEvents v) { return EncodeVcpuEvents(v); }
std::vector<uint8_t> Mp_(MpState v) { return EncodeMpState(v); }
std::vector<uint8_t> U32_(uint32_t v) { return EncodeU32(v); }
std::vector<uint8_t> Clock_(ClockState v) { return EncodeClock(v); }
std::vector<uint8_t> Pic_(PicState v) { return EncodePic(v); }
std::vector<uint8_t> Ioapic_(IoapicState v) { return EncodeIoapic(v); }
std::vector<uint8_t> Pit_(PitState v) { return EncodePit(v); }

// Every decoder on `payload`, whatever its section's tag: a decoder must
// survive any bytes, not only those written under its own tag.
void DecodeAll(absl::Span<const uint8_t> payload) {
  Exercise(payload, DecodeRegs, Regs_);
  Exercise(payload, DecodeSregs, Sregs_);
  Exercise(payload, DecodeFpu, Fpu_);
  Exercise(payload, DecodeDebugRegs, Debug_);
  Exercise(payload, DecodeXcrs, Xcrs_);
  Exercise(payload, DecodeMsrs, Msrs_);
  Exercise(payload, DecodeVcpuEvents, Events_);
  Exercise(payload, DecodeMpState, Mp_);
  Exercise(payload, DecodeU32, U32_);
  Exercise(payload, DecodeClock, Clock_);
  Exercise(payload, DecodePic, Pic_);
  Exercise(payload, DecodeIoapic, Ioapic_);
  Exercise(payload, DecodePit, Pit_);
}

}  // namespace
}  // namespace hv::snapshot

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using hv::snapshot::SnapshotFile;
  const absl::Span<const uint8_t> bytes(data, size);
  absl::StatusOr<SnapshotFile> file = SnapshotFile::Parse(bytes);
  if (!file.ok()) {
    hv::snapshot::Check(absl::IsDataLoss(file.status()) ||
                        absl::IsUnimplemented(file.status()));
    return 0;
  }
  const std::vector<uint8_t> back = file->Serialize();
  hv::snapshot::Check(absl::MakeConstSpan(back) == bytes);
  for (const SnapshotFile::Section& section : file->sections()) {
    hv::snapshot::DecodeAll(section.payload);
  }
  absl::StatusOr<uint64_t> id = hv::snapshot::SnapshotId(*file);
  hv::snapshot::Check(id.ok() || absl::IsNotFound(id.status()) ||
                      absl::IsDataLoss(id.status()));
  return 0;
}
