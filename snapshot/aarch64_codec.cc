#include "snapshot/aarch64_codec.h"

#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"
#include "snapshot/codec.h"
#include "snapshot/fields.h"

namespace hv::snapshot {
namespace {

// GIC registers: (u32 offset, u32 value) each, a u32 count first.
void PutGicRegisters(ByteWriter& out,
                     const std::vector<GicState::Register>& regs) {
  out.Put32(static_cast<uint32_t>(regs.size()));
  for (const GicState::Register& reg : regs) {
    out.Put32(reg.offset);
    out.Put32(reg.value);
  }
}

absl::StatusOr<std::vector<GicState::Register>> GetGicRegisters(
    ByteReader& in) {
  ASSIGN_OR_RETURN(uint32_t count, in.Get32("register count"));
  std::vector<GicState::Register> regs;
  for (uint32_t i = 0; i < count; ++i) {
    GicState::Register reg;
    ASSIGN_OR_RETURN(reg.offset, in.Get32("register offset"));
    ASSIGN_OR_RETURN(reg.value, in.Get32("register value"));
    regs.push_back(reg);
  }
  return regs;
}

void PutGicCpu(ByteWriter& out, const GicState::Cpu& cpu) {
  out.Put64(cpu.mpidr);
  PutGicRegisters(out, cpu.redistributor);
  out.Put32(static_cast<uint32_t>(cpu.cpu_interface.size()));
  for (const GicState::SysReg& reg : cpu.cpu_interface) {
    out.Put16(reg.encoding);
    out.Put64(reg.value);
  }
  out.Put32(cpu.ppi_line_levels);
}

absl::StatusOr<GicState::Cpu> GetGicCpu(ByteReader& in) {
  GicState::Cpu cpu;
  ASSIGN_OR_RETURN(cpu.mpidr, in.Get64("mpidr"));
  ASSIGN_OR_RETURN(cpu.redistributor, GetGicRegisters(in));
  ASSIGN_OR_RETURN(uint32_t count, in.Get32("CPU interface register count"));
  for (uint32_t i = 0; i < count; ++i) {
    GicState::SysReg reg;
    ASSIGN_OR_RETURN(reg.encoding, in.Get16("CPU interface register"));
    ASSIGN_OR_RETURN(reg.value, in.Get64("CPU interface register value"));
    cpu.cpu_interface.push_back(reg);
  }
  ASSIGN_OR_RETURN(cpu.ppi_line_levels, in.Get32("PPI line levels"));
  return cpu;
}

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
  ByteWriter out;
  PutGicRegisters(out, gic.distributor);
  out.Put32(static_cast<uint32_t>(gic.line_levels.size()));
  for (uint32_t word : gic.line_levels) out.Put32(word);
  out.Put32(static_cast<uint32_t>(gic.cpus.size()));
  for (const GicState::Cpu& cpu : gic.cpus) PutGicCpu(out, cpu);
  return out.Take();
}

absl::StatusOr<GicState> DecodeGicState(absl::Span<const uint8_t> data,
                                        const std::string& what) {
  ByteReader in(data, what);
  GicState gic;
  ASSIGN_OR_RETURN(gic.distributor, GetGicRegisters(in));
  ASSIGN_OR_RETURN(uint32_t levels, in.Get32("line level count"));
  for (uint32_t i = 0; i < levels; ++i) {
    ASSIGN_OR_RETURN(uint32_t word, in.Get32("line levels"));
    gic.line_levels.push_back(word);
  }
  ASSIGN_OR_RETURN(uint32_t cpus, in.Get32("CPU count"));
  for (uint32_t i = 0; i < cpus; ++i) {
    ASSIGN_OR_RETURN(GicState::Cpu cpu, GetGicCpu(in));
    gic.cpus.push_back(std::move(cpu));
  }
  RETURN_IF_ERROR(in.Done());
  return gic;
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

}  // namespace

std::vector<uint8_t> EncodeGicItsState(const GicItsState& its) {
  return EncodeFields(its, kGicItsFields);
}

absl::StatusOr<GicItsState> DecodeGicItsState(absl::Span<const uint8_t> data,
                                              const std::string& what) {
  return DecodeFields<GicItsState>(data, what, kGicItsFields);
}

}  // namespace hv::snapshot
