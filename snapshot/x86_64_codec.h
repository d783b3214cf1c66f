// Encoders and decoders of hv's x86_64 state types for the snapshot format
// (snapshot/README.md, "x86_64 payloads"): every field little-endian in
// declaration order, booleans one byte, optionals a presence byte before
// the value. Decode*() fails with DATA_LOSS naming `what` and the field on
// a short or overlong payload. Internal to snapshot/.
#ifndef HV_SNAPSHOT_X86_64_CODEC_H_
#define HV_SNAPSHOT_X86_64_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hypervisor/vcpu.h"
#include "hypervisor/x86_64/regs.h"
#include "snapshot/vm_snapshot_common.h"  // EncodeMpState, EncodeU32

namespace hv::snapshot {

std::vector<uint8_t> EncodeRegs(const Regs& regs);
absl::StatusOr<Regs> DecodeRegs(absl::Span<const uint8_t> data,
                                const std::string& what);
std::vector<uint8_t> EncodeSregs(const Sregs& sregs);
absl::StatusOr<Sregs> DecodeSregs(absl::Span<const uint8_t> data,
                                  const std::string& what);
std::vector<uint8_t> EncodeFpu(const Fpu& fpu);
absl::StatusOr<Fpu> DecodeFpu(absl::Span<const uint8_t> data,
                              const std::string& what);
std::vector<uint8_t> EncodeDebugRegs(const DebugRegs& regs);
absl::StatusOr<DebugRegs> DecodeDebugRegs(absl::Span<const uint8_t> data,
                                          const std::string& what);
// XCRs and MSRs share one layout: a count, then (index u32, value u64).
std::vector<uint8_t> EncodeXcrs(absl::Span<const Xcr> xcrs);
absl::StatusOr<std::vector<Xcr>> DecodeXcrs(absl::Span<const uint8_t> data,
                                            const std::string& what);
std::vector<uint8_t> EncodeMsrs(absl::Span<const MsrEntry> msrs);
absl::StatusOr<std::vector<MsrEntry>> DecodeMsrs(
    absl::Span<const uint8_t> data, const std::string& what);
std::vector<uint8_t> EncodeVcpuEvents(const VcpuEvents& events);
absl::StatusOr<VcpuEvents> DecodeVcpuEvents(absl::Span<const uint8_t> data,
                                            const std::string& what);
std::vector<uint8_t> EncodeClock(const ClockState& clock);
absl::StatusOr<ClockState> DecodeClock(absl::Span<const uint8_t> data,
                                       const std::string& what);
std::vector<uint8_t> EncodePic(const PicState& pic);
absl::StatusOr<PicState> DecodePic(absl::Span<const uint8_t> data,
                                   const std::string& what);
std::vector<uint8_t> EncodeIoapic(const IoapicState& ioapic);
absl::StatusOr<IoapicState> DecodeIoapic(absl::Span<const uint8_t> data,
                                         const std::string& what);
std::vector<uint8_t> EncodePit(const PitState& pit);
absl::StatusOr<PitState> DecodePit(absl::Span<const uint8_t> data,
                                   const std::string& what);

}  // namespace hv::snapshot

#endif  // HV_SNAPSHOT_X86_64_CODEC_H_
