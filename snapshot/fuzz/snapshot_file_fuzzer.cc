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
template <typename T, typename Encode>
void Exercise(absl::Span<const uint8_t> payload,
              absl::StatusOr<T> (*decode)(absl::Span<const uint8_t>,
                                          const std::string&),
              Encode encode) {
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

// Every decoder on `payload`, whatever its section's tag: a decoder must
// survive any bytes, not only those written under its own tag.
void DecodeAll(absl::Span<const uint8_t> payload) {
  Exercise(payload, DecodeRegs, EncodeRegs);
  Exercise(payload, DecodeSregs, EncodeSregs);
  Exercise(payload, DecodeFpu, EncodeFpu);
  Exercise(payload, DecodeDebugRegs, EncodeDebugRegs);
  Exercise(payload, DecodeXcrs, EncodeXcrs);
  Exercise(payload, DecodeMsrs, EncodeMsrs);
  Exercise(payload, DecodeVcpuEvents, EncodeVcpuEvents);
  Exercise(payload, DecodeMpState, EncodeMpState);
  Exercise(payload, DecodeU32, EncodeU32);
  Exercise(payload, DecodeClock, EncodeClock);
  Exercise(payload, DecodePic, EncodePic);
  Exercise(payload, DecodeIoapic, EncodeIoapic);
  Exercise(payload, DecodePit, EncodePit);
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
