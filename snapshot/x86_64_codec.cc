#include "snapshot/x86_64_codec.h"

#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"
#include "snapshot/codec.h"
#include "snapshot/fields.h"

namespace hv::snapshot {
namespace {

// Each payload's fields in order (fields.h): `io` writes or reads them.
constexpr auto kSegmentFields = [](auto& io, auto& s) {
  io(s.base, "segment base");
  io(s.limit, "segment limit");
  io(s.selector, "segment selector");
  io(s.type, "segment type");
  io(s.present, "segment present");
  io(s.dpl, "segment dpl");
  io(s.db, "segment db");
  io(s.s, "segment s");
  io(s.l, "segment l");
  io(s.g, "segment g");
  io(s.avl, "segment avl");
  io(s.unusable, "segment unusable");
  // The descriptor's type is 4 bits and its DPL 2 (Intel SDM Vol. 3A,
  // 3.4.5): a wider value was never read from a vCPU.
  io.Check([&s](const std::string& what) {
    if (s.type > 0xf || s.dpl > 3) {
      return absl::DataLossError(absl::StrFormat(
          "%s: segment type %u / dpl %u do not fit their 4 / 2 bits", what,
          s.type, s.dpl));
    }
    return absl::OkStatus();
  });
};

constexpr auto kRegsFields = [](auto& io, auto& r) {
  for (auto* v : {&r.rax, &r.rbx, &r.rcx, &r.rdx, &r.rsi, &r.rdi, &r.rsp,
                  &r.rbp, &r.r8, &r.r9, &r.r10, &r.r11, &r.r12, &r.r13,
                  &r.r14, &r.r15, &r.rip, &r.rflags}) {
    io(*v, "register");
  }
};

constexpr auto kSregsFields = [](auto& io, auto& s) {
  for (auto* seg : {&s.cs, &s.ds, &s.es, &s.fs, &s.gs, &s.ss, &s.tr,
                    &s.ldt}) {
    kSegmentFields(io, *seg);
  }
  for (auto* table : {&s.gdt, &s.idt}) {
    io(table->base, "descriptor table base");
    io(table->limit, "descriptor table limit");
  }
  for (auto* v : {&s.cr0, &s.cr2, &s.cr3, &s.cr4, &s.cr8, &s.efer,
                  &s.apic_base}) {
    io(*v, "control register");
  }
};

constexpr auto kFpuFields = [](auto& io, auto& f) {
  for (auto& reg : f.fpr) io(reg, "fpr");
  io(f.fcw, "fcw");
  io(f.fsw, "fsw");
  io(f.ftwx, "ftwx");
  io(f.last_opcode, "last opcode");
  io(f.last_ip, "last ip");
  io(f.last_dp, "last dp");
  for (auto& reg : f.xmm) io(reg, "xmm");
  io(f.mxcsr, "mxcsr");
};

constexpr auto kDebugRegsFields = [](auto& io, auto& d) {
  for (auto& v : d.db) io(v, "db");
  io(d.dr6, "dr6");
  io(d.dr7, "dr7");
};

constexpr auto kVcpuEventsFields = [](auto& io, auto& e) {
  io(e.exception.injected, "exception injected");
  io(e.exception.vector, "exception vector");
  io(e.exception.has_error_code, "has error code");
  io(e.exception.error_code, "error code");
  io(e.interrupt.injected, "interrupt injected");
  io(e.interrupt.vector, "interrupt vector");
  io(e.interrupt.soft, "interrupt soft");
  io(e.interrupt.shadow, "interrupt shadow");
  io(e.nmi.injected, "nmi injected");
  io(e.nmi.pending, "nmi pending");
  io(e.nmi.masked, "nmi masked");
  io(e.sipi_vector, "sipi present", "sipi vector");
  io(e.smi.smm, "smm");
  io(e.smi.pending, "smi pending");
  io(e.smi.smm_inside_nmi, "smm inside nmi");
  io(e.smi.latched_init, "latched init");
};

constexpr auto kClockFields = [](auto& io, auto& c) {
  io(c.clock_ns, "clock ns");
  io(c.stable, "stable");
  io(c.realtime_ns, "realtime present", "realtime ns");
  io(c.host_tsc, "host tsc present", "host tsc");
};

constexpr auto kPicFields = [](auto& io, auto& p) {
  for (auto* v : {&p.last_irr, &p.irr, &p.imr, &p.isr, &p.priority_add,
                  &p.irq_base, &p.read_reg_select, &p.poll, &p.special_mask,
                  &p.init_state, &p.auto_eoi, &p.rotate_on_auto_eoi,
                  &p.special_fully_nested_mode, &p.init4, &p.elcr,
                  &p.elcr_mask}) {
    io(*v, "pic register");
  }
};

constexpr auto kIoapicFields = [](auto& io, auto& s) {
  io(s.base_address, "base address");
  io(s.ioregsel, "ioregsel");
  io(s.id, "id");
  io(s.irr, "irr");
  for (auto& entry : s.redirection) io(entry, "redirection entry");
};

constexpr auto kPitFields = [](auto& io, auto& p) {
  for (auto& c : p.channels) {
    io(c.count, "count");
    io(c.latched_count, "latched count");
    for (auto* v : {&c.count_latched, &c.status_latched, &c.status,
                    &c.read_state, &c.write_state, &c.write_latch, &c.rw_mode,
                    &c.mode, &c.bcd, &c.gate}) {
      io(*v, "channel register");
    }
    io(c.count_load_time, "count load time");
  }
  io(p.flags, "flags");
};

}  // namespace

std::vector<uint8_t> EncodeRegs(const Regs& r) {
  return EncodeFields(r, kRegsFields);
}

absl::StatusOr<Regs> DecodeRegs(absl::Span<const uint8_t> data,
                                const std::string& what) {
  ASSIGN_OR_RETURN(Regs r, DecodeFields<Regs>(data, what, kRegsFields));
  // RFLAGS bits 3, 5, 15 and 22-63 are reserved and read as zero (Intel
  // SDM Vol. 1, 3.4.3): no vCPU ever had them set.
  constexpr uint64_t kRflagsReserved = ~uint64_t{0x3f7fd7};
  if ((r.rflags & kRflagsReserved) != 0) {
    return absl::DataLossError(absl::StrFormat(
        "%s: rflags %#x has reserved bits set (%#x)", what, r.rflags,
        r.rflags & kRflagsReserved));
  }
  return r;
}

std::vector<uint8_t> EncodeSregs(const Sregs& s) {
  return EncodeFields(s, kSregsFields);
}

absl::StatusOr<Sregs> DecodeSregs(absl::Span<const uint8_t> data,
                                  const std::string& what) {
  ASSIGN_OR_RETURN(Sregs s, DecodeFields<Sregs>(data, what, kSregsFields));
  // CR0 bits 63:32 are reserved, CR8 holds a 4-bit priority (Intel SDM
  // Vol. 3A, 2.5): no vCPU had other values.
  if ((s.cr0 >> 32) != 0 || s.cr8 > 0xf) {
    return absl::DataLossError(absl::StrFormat(
        "%s: cr0 %#x / cr8 %#x have reserved bits set", what, s.cr0, s.cr8));
  }
  return s;
}

std::vector<uint8_t> EncodeFpu(const Fpu& f) {
  return EncodeFields(f, kFpuFields);
}

absl::StatusOr<Fpu> DecodeFpu(absl::Span<const uint8_t> data,
                              const std::string& what) {
  return DecodeFields<Fpu>(data, what, kFpuFields);
}

std::vector<uint8_t> EncodeDebugRegs(const DebugRegs& d) {
  return EncodeFields(d, kDebugRegsFields);
}

absl::StatusOr<DebugRegs> DecodeDebugRegs(absl::Span<const uint8_t> data,
                                          const std::string& what) {
  return DecodeFields<DebugRegs>(data, what, kDebugRegsFields);
}

namespace {

template <typename Entry>
std::vector<uint8_t> EncodeIndexed(absl::Span<const Entry> entries) {
  ByteWriter out;
  out.Put32(static_cast<uint32_t>(entries.size()));
  for (const Entry& e : entries) {
    out.Put32(e.index);
    out.Put64(e.value);
  }
  return out.Take();
}

template <typename Entry>
absl::StatusOr<std::vector<Entry>> DecodeIndexed(absl::Span<const uint8_t> data,
                                                 const std::string& what) {
  ByteReader in(data, what);
  ASSIGN_OR_RETURN(uint32_t count, in.Get32("count"));
  // Each entry is 12 bytes: a count the payload cannot hold is corrupt,
  // caught before anything is allocated for it.
  if (static_cast<uint64_t>(count) * 12 != in.remaining()) {
    return absl::DataLossError(absl::StrFormat(
        "%s: %u entries need %u bytes, the section has %u", what, count,
        static_cast<uint64_t>(count) * 12, in.remaining()));
  }
  std::vector<Entry> entries(count);
  for (Entry& e : entries) {
    ASSIGN_OR_RETURN(e.index, in.Get32("index"));
    ASSIGN_OR_RETURN(e.value, in.Get64("value"));
  }
  RETURN_IF_ERROR(in.Done());
  return entries;
}

}  // namespace

std::vector<uint8_t> EncodeXcrs(absl::Span<const Xcr> xcrs) {
  return EncodeIndexed(xcrs);
}
absl::StatusOr<std::vector<Xcr>> DecodeXcrs(absl::Span<const uint8_t> data,
                                            const std::string& what) {
  return DecodeIndexed<Xcr>(data, what);
}
std::vector<uint8_t> EncodeMsrs(absl::Span<const MsrEntry> msrs) {
  return EncodeIndexed(msrs);
}
absl::StatusOr<std::vector<MsrEntry>> DecodeMsrs(
    absl::Span<const uint8_t> data, const std::string& what) {
  return DecodeIndexed<MsrEntry>(data, what);
}

std::vector<uint8_t> EncodeVcpuEvents(const VcpuEvents& e) {
  return EncodeFields(e, kVcpuEventsFields);
}

absl::StatusOr<VcpuEvents> DecodeVcpuEvents(absl::Span<const uint8_t> data,
                                            const std::string& what) {
  return DecodeFields<VcpuEvents>(data, what, kVcpuEventsFields);
}

std::vector<uint8_t> EncodeClock(const ClockState& c) {
  return EncodeFields(c, kClockFields);
}

absl::StatusOr<ClockState> DecodeClock(absl::Span<const uint8_t> data,
                                       const std::string& what) {
  return DecodeFields<ClockState>(data, what, kClockFields);
}

std::vector<uint8_t> EncodePic(const PicState& p) {
  return EncodeFields(p, kPicFields);
}

absl::StatusOr<PicState> DecodePic(absl::Span<const uint8_t> data,
                                   const std::string& what) {
  return DecodeFields<PicState>(data, what, kPicFields);
}

std::vector<uint8_t> EncodeIoapic(const IoapicState& s) {
  return EncodeFields(s, kIoapicFields);
}

absl::StatusOr<IoapicState> DecodeIoapic(absl::Span<const uint8_t> data,
                                         const std::string& what) {
  return DecodeFields<IoapicState>(data, what, kIoapicFields);
}

std::vector<uint8_t> EncodePit(const PitState& p) {
  return EncodeFields(p, kPitFields);
}

absl::StatusOr<PitState> DecodePit(absl::Span<const uint8_t> data,
                                   const std::string& what) {
  return DecodeFields<PitState>(data, what, kPitFields);
}

}  // namespace hv::snapshot
