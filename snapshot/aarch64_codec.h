// Encoders and decoders of hv's aarch64 state types for the snapshot format
// (snapshot/README.md, "aarch64 payloads"): every field little-endian in
// declaration order, lists a u32 count first. Decode*() fails with
// DATA_LOSS naming `what` and the field on a short or overlong payload or
// a value hv cannot hold. Internal to snapshot/.
#ifndef HV_SNAPSHOT_AARCH64_CODEC_H_
#define HV_SNAPSHOT_AARCH64_CODEC_H_

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hypervisor/aarch64/regs.h"

namespace hv::snapshot {

// A vCPU's 64-bit registers (AArch64Reg: kind, index) with their values.
using AArch64RegValues = std::vector<std::pair<AArch64Reg, uint64_t>>;
// V0-V31.
using AArch64Vregs = std::array<absl::uint128, 32>;

// When a capture read the vCPUs' virtual counters: the host's real time
// then (ns since the Unix epoch) and the counter's frequency (CNTFRQ_EL0,
// Hz), for a restore that advances the counter by the time since.
struct AArch64CaptureClock {
  uint64_t realtime_ns = 0;
  uint64_t counter_hz = 0;
};

std::vector<uint8_t> EncodeAArch64Regs(const AArch64RegValues& regs);
absl::StatusOr<AArch64RegValues> DecodeAArch64Regs(
    absl::Span<const uint8_t> data, const std::string& what);
std::vector<uint8_t> EncodeAArch64Vregs(const AArch64Vregs& vregs);
absl::StatusOr<AArch64Vregs> DecodeAArch64Vregs(absl::Span<const uint8_t> data,
                                                const std::string& what);
std::vector<uint8_t> EncodeGicState(const GicState& gic);
absl::StatusOr<GicState> DecodeGicState(absl::Span<const uint8_t> data,
                                        const std::string& what);
std::vector<uint8_t> EncodeGicItsState(const GicItsState& its);
absl::StatusOr<GicItsState> DecodeGicItsState(absl::Span<const uint8_t> data,
                                              const std::string& what);
// A frequency of 0 does not decode.
std::vector<uint8_t> EncodeAArch64CaptureClock(const AArch64CaptureClock& clock);
absl::StatusOr<AArch64CaptureClock> DecodeAArch64CaptureClock(
    absl::Span<const uint8_t> data, const std::string& what);

}  // namespace hv::snapshot

#endif  // HV_SNAPSHOT_AARCH64_CODEC_H_
