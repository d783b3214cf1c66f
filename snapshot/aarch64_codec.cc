#include "snapshot/aarch64_codec.h"

#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"
#include "snapshot/codec.h"
#include "snapshot/fields.h"

namespace hv::snapshot {
namespace {

// The GIC's state in order (fields.h): `io` writes or reads it. Register
// lists are a u32 count, then (u32 offset, u32 value) each.
constexpr auto kGicRegisterFields = [](auto& io, auto& reg) {
  io(reg.offset, "register offset");
  io(reg.value, "register value");
};

constexpr auto kGicCpuFields = [](auto& io, auto& cpu) {
  io(cpu.mpidr, "mpidr");
  io(cpu.redistributor, "register count", kGicRegisterFields);
  io(cpu.cpu_interface, "CPU interface register count", [](auto& io, auto& reg) {
    io(reg.encoding, "CPU interface register");
    io(reg.value, "CPU interface register value");
  });
  io(cpu.ppi_line_levels, "PPI line levels");
};

constexpr auto kGicFields = [](auto& io, auto& gic) {
  io(gic.distributor, "register count", kGicRegisterFields);
  io(gic.line_levels, "line level count",
     [](auto& io, auto& word) { io(word, "line levels"); });
  io(gic.cpus, "CPU count", kGicCpuFields);
};

}  // namespace

std::vector<uint8_t> EncodeAArch64Regs(const AArch64RegValues& regs) {
  ByteWriter out;
  out.Put32(static_cast<uint32_t>(regs.size()));
  for (const auto& [reg, value] : regs) {
    out.Put8(static_cast<uint8_t>(reg.kind));
    out.Put32(reg.index);
    out.Put64(value);
  }
  return out.Take();
}

absl::StatusOr<AArch64RegValues> DecodeAArch64Regs(
    absl::Span<const uint8_t> data, const std::string& what) {
  ByteReader in(data, what);
  ASSIGN_OR_RETURN(uint32_t count, in.Get32("count"));
  AArch64RegValues regs;
  for (uint32_t i = 0; i < count; ++i) {
    ASSIGN_OR_RETURN(uint8_t kind, in.Get8("register kind"));
    if (kind > static_cast<uint8_t>(AArch64Reg::Kind::kFirmware)) {
      return absl::DataLossError(absl::StrFormat(
          "%s: register %u is of kind %u, which hv does not know", what, i,
          kind));
    }
    AArch64Reg reg{static_cast<AArch64Reg::Kind>(kind), 0};
    ASSIGN_OR_RETURN(reg.index, in.Get32("register index"));
    ASSIGN_OR_RETURN(uint64_t value, in.Get64("register value"));
    regs.emplace_back(reg, value);
  }
  RETURN_IF_ERROR(in.Done());
  return regs;
}

std::vector<uint8_t> EncodeAArch64Vregs(const AArch64Vregs& vregs) {
  ByteWriter out;
  for (const absl::uint128& v : vregs) {
    out.Put64(absl::Uint128Low64(v));
    out.Put64(absl::Uint128High64(v));
  }
  return out.Take();
}

absl::StatusOr<AArch64Vregs> DecodeAArch64Vregs(absl::Span<const uint8_t> data,
                                                const std::string& what) {
  ByteReader in(data, what);
  AArch64Vregs vregs;
  for (absl::uint128& v : vregs) {
    ASSIGN_OR_RETURN(uint64_t low, in.Get64("low 64 bits"));
    ASSIGN_OR_RETURN(uint64_t high, in.Get64("high 64 bits"));
    v = absl::MakeUint128(high, low);
  }
  RETURN_IF_ERROR(in.Done());
  return vregs;
}

std::vector<uint8_t> EncodeGicState(const GicState& gic) {
  return EncodeFields(gic, kGicFields);
}

absl::StatusOr<GicState> DecodeGicState(absl::Span<const uint8_t> data,
                                        const std::string& what) {
  return DecodeFields<GicState>(data, what, kGicFields);
}

namespace {

// GITS registers in order (fields.h): `io` writes or reads them.
constexpr auto kGicItsFields = [](auto& io, auto& its) {
  io(its.base, "base");
  io(its.iidr, "GITS_IIDR");
  io(its.ctlr, "GITS_CTLR");
  io(its.cbaser, "GITS_CBASER");
  io(its.cwriter, "GITS_CWRITER");
  io(its.creadr, "GITS_CREADR");
  for (auto& baser : its.baser) io(baser, "GITS_BASER");
};

constexpr auto kCaptureClockFields = [](auto& io, auto& clock) {
  io(clock.realtime_ns, "capture realtime ns");
  io(clock.counter_hz, "counter frequency");
};

}  // namespace

std::vector<uint8_t> EncodeGicItsState(const GicItsState& its) {
  return EncodeFields(its, kGicItsFields);
}

absl::StatusOr<GicItsState> DecodeGicItsState(absl::Span<const uint8_t> data,
                                              const std::string& what) {
  return DecodeFields<GicItsState>(data, what, kGicItsFields);
}

std::vector<uint8_t> EncodeAArch64CaptureClock(const AArch64CaptureClock& clock) {
  return EncodeFields(clock, kCaptureClockFields);
}

absl::StatusOr<AArch64CaptureClock> DecodeAArch64CaptureClock(
    absl::Span<const uint8_t> data, const std::string& what) {
  ASSIGN_OR_RETURN(AArch64CaptureClock clock,
                   DecodeFields<AArch64CaptureClock>(data, what, kCaptureClockFields));
  if (clock.counter_hz == 0) {
    return absl::DataLossError(
        absl::StrFormat("%s: a counter frequency of 0 Hz", what));
  }
  return clock;
}

}  // namespace hv::snapshot
