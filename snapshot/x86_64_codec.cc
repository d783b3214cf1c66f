#include "snapshot/x86_64_codec.h"

#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"
#include "snapshot/codec.h"

namespace hv::snapshot {
namespace {

// HV_SNAP_GET(reader, Getter, lhs, name): reads one field into `lhs`, or
// returns the reader's error. Several statements: brace loop bodies.
#define HV_SNAP_GET(in, width, lhs, name) ASSIGN_OR_RETURN(lhs, in.width(name))

void PutSegment(ByteWriter& out, const Segment& s) {
  out.Put64(s.base);
  out.Put32(s.limit);
  out.Put16(s.selector);
  out.Put8(s.type);
  out.PutBool(s.present);
  out.Put8(s.dpl);
  out.PutBool(s.db);
  out.PutBool(s.s);
  out.PutBool(s.l);
  out.PutBool(s.g);
  out.PutBool(s.avl);
  out.PutBool(s.unusable);
}

absl::Status GetSegment(ByteReader& in, Segment& s) {
  HV_SNAP_GET(in, Get64, s.base, "segment base");
  HV_SNAP_GET(in, Get32, s.limit, "segment limit");
  HV_SNAP_GET(in, Get16, s.selector, "segment selector");
  HV_SNAP_GET(in, Get8, s.type, "segment type");
  HV_SNAP_GET(in, GetBool, s.present, "segment present");
  HV_SNAP_GET(in, Get8, s.dpl, "segment dpl");
  HV_SNAP_GET(in, GetBool, s.db, "segment db");
  HV_SNAP_GET(in, GetBool, s.s, "segment s");
  HV_SNAP_GET(in, GetBool, s.l, "segment l");
  HV_SNAP_GET(in, GetBool, s.g, "segment g");
  HV_SNAP_GET(in, GetBool, s.avl, "segment avl");
  HV_SNAP_GET(in, GetBool, s.unusable, "segment unusable");
  // The descriptor's type is 4 bits and its DPL 2 (Intel SDM Vol. 3A,
  // 3.4.5): a wider value was never read from a vCPU.
  if (s.type > 0xf || s.dpl > 3) {
    return absl::DataLossError(absl::StrFormat(
        "%s: segment type %u / dpl %u do not fit their 4 / 2 bits", in.what(),
        s.type, s.dpl));
  }
  return absl::OkStatus();
}

template <size_t N>
void PutArray(ByteWriter& out, const std::array<uint8_t, N>& bytes) {
  out.PutBytes(bytes);
}

template <size_t N>
absl::Status GetArray(ByteReader& in, const char* field,
                      std::array<uint8_t, N>& bytes) {
  ASSIGN_OR_RETURN(absl::Span<const uint8_t> data, in.GetBytes(field, N));
  std::copy(data.begin(), data.end(), bytes.begin());
  return absl::OkStatus();
}

}  // namespace

std::vector<uint8_t> EncodeRegs(const Regs& r) {
  ByteWriter out;
  for (uint64_t v : {r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rsp, r.rbp,
                     r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15,
                     r.rip, r.rflags}) {
    out.Put64(v);
  }
  return out.Take();
}

absl::StatusOr<Regs> DecodeRegs(absl::Span<const uint8_t> data,
                                const std::string& what) {
  ByteReader in(data, what);
  Regs r;
  for (uint64_t* v : {&r.rax, &r.rbx, &r.rcx, &r.rdx, &r.rsi, &r.rdi, &r.rsp,
                      &r.rbp, &r.r8, &r.r9, &r.r10, &r.r11, &r.r12, &r.r13,
                      &r.r14, &r.r15, &r.rip, &r.rflags}) {
    HV_SNAP_GET(in, Get64, *v, "register");
  }
  RETURN_IF_ERROR(in.Done());
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
  ByteWriter out;
  for (const Segment* seg : {&s.cs, &s.ds, &s.es, &s.fs, &s.gs, &s.ss, &s.tr,
                             &s.ldt}) {
    PutSegment(out, *seg);
  }
  for (const DescriptorTable* table : {&s.gdt, &s.idt}) {
    out.Put64(table->base);
    out.Put16(table->limit);
  }
  for (uint64_t v : {s.cr0, s.cr2, s.cr3, s.cr4, s.cr8, s.efer, s.apic_base}) {
    out.Put64(v);
  }
  return out.Take();
}

absl::StatusOr<Sregs> DecodeSregs(absl::Span<const uint8_t> data,
                                  const std::string& what) {
  ByteReader in(data, what);
  Sregs s;
  for (Segment* seg : {&s.cs, &s.ds, &s.es, &s.fs, &s.gs, &s.ss, &s.tr,
                       &s.ldt}) {
    RETURN_IF_ERROR(GetSegment(in, *seg));
  }
  for (DescriptorTable* table : {&s.gdt, &s.idt}) {
    HV_SNAP_GET(in, Get64, table->base, "descriptor table base");
    HV_SNAP_GET(in, Get16, table->limit, "descriptor table limit");
  }
  for (uint64_t* v : {&s.cr0, &s.cr2, &s.cr3, &s.cr4, &s.cr8, &s.efer,
                      &s.apic_base}) {
    HV_SNAP_GET(in, Get64, *v, "control register");
  }
  RETURN_IF_ERROR(in.Done());
  // CR0 bits 63:32 are reserved, CR8 holds a 4-bit priority (Intel SDM
  // Vol. 3A, 2.5): no vCPU had other values.
  if ((s.cr0 >> 32) != 0 || s.cr8 > 0xf) {
    return absl::DataLossError(absl::StrFormat(
        "%s: cr0 %#x / cr8 %#x have reserved bits set", what, s.cr0, s.cr8));
  }
  return s;
}

std::vector<uint8_t> EncodeFpu(const Fpu& f) {
  ByteWriter out;
  for (const auto& reg : f.fpr) PutArray(out, reg);
  out.Put16(f.fcw);
  out.Put16(f.fsw);
  out.Put8(f.ftwx);
  out.Put16(f.last_opcode);
  out.Put64(f.last_ip);
  out.Put64(f.last_dp);
  for (const auto& reg : f.xmm) PutArray(out, reg);
  out.Put32(f.mxcsr);
  return out.Take();
}

absl::StatusOr<Fpu> DecodeFpu(absl::Span<const uint8_t> data,
                              const std::string& what) {
  ByteReader in(data, what);
  Fpu f;
  for (auto& reg : f.fpr) RETURN_IF_ERROR(GetArray(in, "fpr", reg));
  HV_SNAP_GET(in, Get16, f.fcw, "fcw");
  HV_SNAP_GET(in, Get16, f.fsw, "fsw");
  HV_SNAP_GET(in, Get8, f.ftwx, "ftwx");
  HV_SNAP_GET(in, Get16, f.last_opcode, "last opcode");
  HV_SNAP_GET(in, Get64, f.last_ip, "last ip");
  HV_SNAP_GET(in, Get64, f.last_dp, "last dp");
  for (auto& reg : f.xmm) RETURN_IF_ERROR(GetArray(in, "xmm", reg));
  HV_SNAP_GET(in, Get32, f.mxcsr, "mxcsr");
  RETURN_IF_ERROR(in.Done());
  return f;
}

std::vector<uint8_t> EncodeDebugRegs(const DebugRegs& d) {
  ByteWriter out;
  for (uint64_t v : d.db) out.Put64(v);
  out.Put64(d.dr6);
  out.Put64(d.dr7);
  return out.Take();
}

absl::StatusOr<DebugRegs> DecodeDebugRegs(absl::Span<const uint8_t> data,
                                          const std::string& what) {
  ByteReader in(data, what);
  DebugRegs d;
  for (uint64_t& v : d.db) {
    HV_SNAP_GET(in, Get64, v, "db");
  }
  HV_SNAP_GET(in, Get64, d.dr6, "dr6");
  HV_SNAP_GET(in, Get64, d.dr7, "dr7");
  RETURN_IF_ERROR(in.Done());
  return d;
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
    HV_SNAP_GET(in, Get32, e.index, "index");
    HV_SNAP_GET(in, Get64, e.value, "value");
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
  ByteWriter out;
  out.PutBool(e.exception.injected);
  out.Put8(e.exception.vector);
  out.PutBool(e.exception.has_error_code);
  out.Put32(e.exception.error_code);
  out.PutBool(e.interrupt.injected);
  out.Put8(e.interrupt.vector);
  out.PutBool(e.interrupt.soft);
  out.Put8(e.interrupt.shadow);
  out.PutBool(e.nmi.injected);
  out.PutBool(e.nmi.pending);
  out.PutBool(e.nmi.masked);
  out.PutBool(e.sipi_vector.has_value());
  out.Put8(e.sipi_vector.value_or(0));
  out.PutBool(e.smi.smm);
  out.PutBool(e.smi.pending);
  out.PutBool(e.smi.smm_inside_nmi);
  out.PutBool(e.smi.latched_init);
  return out.Take();
}

absl::StatusOr<VcpuEvents> DecodeVcpuEvents(absl::Span<const uint8_t> data,
                                            const std::string& what) {
  ByteReader in(data, what);
  VcpuEvents e;
  HV_SNAP_GET(in, GetBool, e.exception.injected, "exception injected");
  HV_SNAP_GET(in, Get8, e.exception.vector, "exception vector");
  HV_SNAP_GET(in, GetBool, e.exception.has_error_code, "has error code");
  HV_SNAP_GET(in, Get32, e.exception.error_code, "error code");
  HV_SNAP_GET(in, GetBool, e.interrupt.injected, "interrupt injected");
  HV_SNAP_GET(in, Get8, e.interrupt.vector, "interrupt vector");
  HV_SNAP_GET(in, GetBool, e.interrupt.soft, "interrupt soft");
  HV_SNAP_GET(in, Get8, e.interrupt.shadow, "interrupt shadow");
  HV_SNAP_GET(in, GetBool, e.nmi.injected, "nmi injected");
  HV_SNAP_GET(in, GetBool, e.nmi.pending, "nmi pending");
  HV_SNAP_GET(in, GetBool, e.nmi.masked, "nmi masked");
  ASSIGN_OR_RETURN(bool has_sipi, in.GetBool("sipi present"));
  ASSIGN_OR_RETURN(uint8_t sipi, in.Get8("sipi vector"));
  if (has_sipi) e.sipi_vector = sipi;
  HV_SNAP_GET(in, GetBool, e.smi.smm, "smm");
  HV_SNAP_GET(in, GetBool, e.smi.pending, "smi pending");
  HV_SNAP_GET(in, GetBool, e.smi.smm_inside_nmi, "smm inside nmi");
  HV_SNAP_GET(in, GetBool, e.smi.latched_init, "latched init");
  RETURN_IF_ERROR(in.Done());
  return e;
}

// MP states by number; the numbers are part of the format.
std::vector<uint8_t> EncodeClock(const ClockState& c) {
  ByteWriter out;
  out.Put64(c.clock_ns);
  out.PutBool(c.stable);
  out.PutBool(c.realtime_ns.has_value());
  out.Put64(c.realtime_ns.value_or(0));
  out.PutBool(c.host_tsc.has_value());
  out.Put64(c.host_tsc.value_or(0));
  return out.Take();
}

absl::StatusOr<ClockState> DecodeClock(absl::Span<const uint8_t> data,
                                       const std::string& what) {
  ByteReader in(data, what);
  ClockState c;
  HV_SNAP_GET(in, Get64, c.clock_ns, "clock ns");
  HV_SNAP_GET(in, GetBool, c.stable, "stable");
  ASSIGN_OR_RETURN(bool has_realtime, in.GetBool("realtime present"));
  ASSIGN_OR_RETURN(uint64_t realtime, in.Get64("realtime ns"));
  if (has_realtime) c.realtime_ns = realtime;
  ASSIGN_OR_RETURN(bool has_tsc, in.GetBool("host tsc present"));
  ASSIGN_OR_RETURN(uint64_t tsc, in.Get64("host tsc"));
  if (has_tsc) c.host_tsc = tsc;
  RETURN_IF_ERROR(in.Done());
  return c;
}

std::vector<uint8_t> EncodePic(const PicState& p) {
  ByteWriter out;
  for (uint8_t v : {p.last_irr, p.irr, p.imr, p.isr, p.priority_add,
                    p.irq_base, p.read_reg_select, p.poll, p.special_mask,
                    p.init_state, p.auto_eoi, p.rotate_on_auto_eoi,
                    p.special_fully_nested_mode, p.init4, p.elcr,
                    p.elcr_mask}) {
    out.Put8(v);
  }
  return out.Take();
}

absl::StatusOr<PicState> DecodePic(absl::Span<const uint8_t> data,
                                   const std::string& what) {
  ByteReader in(data, what);
  PicState p;
  for (uint8_t* v : {&p.last_irr, &p.irr, &p.imr, &p.isr, &p.priority_add,
                     &p.irq_base, &p.read_reg_select, &p.poll,
                     &p.special_mask, &p.init_state, &p.auto_eoi,
                     &p.rotate_on_auto_eoi, &p.special_fully_nested_mode,
                     &p.init4, &p.elcr, &p.elcr_mask}) {
    HV_SNAP_GET(in, Get8, *v, "pic register");
  }
  RETURN_IF_ERROR(in.Done());
  return p;
}

std::vector<uint8_t> EncodeIoapic(const IoapicState& s) {
  ByteWriter out;
  out.Put64(s.base_address);
  out.Put32(s.ioregsel);
  out.Put32(s.id);
  out.Put32(s.irr);
  for (uint64_t entry : s.redirection) out.Put64(entry);
  return out.Take();
}

absl::StatusOr<IoapicState> DecodeIoapic(absl::Span<const uint8_t> data,
                                         const std::string& what) {
  ByteReader in(data, what);
  IoapicState s;
  HV_SNAP_GET(in, Get64, s.base_address, "base address");
  HV_SNAP_GET(in, Get32, s.ioregsel, "ioregsel");
  HV_SNAP_GET(in, Get32, s.id, "id");
  HV_SNAP_GET(in, Get32, s.irr, "irr");
  for (uint64_t& entry : s.redirection) {
    HV_SNAP_GET(in, Get64, entry, "redirection entry");
  }
  RETURN_IF_ERROR(in.Done());
  return s;
}

std::vector<uint8_t> EncodePit(const PitState& p) {
  ByteWriter out;
  for (const PitChannelState& c : p.channels) {
    out.Put32(c.count);
    out.Put16(c.latched_count);
    for (uint8_t v : {c.count_latched, c.status_latched, c.status,
                      c.read_state, c.write_state, c.write_latch, c.rw_mode,
                      c.mode, c.bcd, c.gate}) {
      out.Put8(v);
    }
    out.Put64(static_cast<uint64_t>(c.count_load_time));
  }
  out.Put32(p.flags);
  return out.Take();
}

absl::StatusOr<PitState> DecodePit(absl::Span<const uint8_t> data,
                                   const std::string& what) {
  ByteReader in(data, what);
  PitState p;
  for (PitChannelState& c : p.channels) {
    HV_SNAP_GET(in, Get32, c.count, "count");
    HV_SNAP_GET(in, Get16, c.latched_count, "latched count");
    for (uint8_t* v : {&c.count_latched, &c.status_latched, &c.status,
                       &c.read_state, &c.write_state, &c.write_latch,
                       &c.rw_mode, &c.mode, &c.bcd, &c.gate}) {
      HV_SNAP_GET(in, Get8, *v, "channel register");
    }
    ASSIGN_OR_RETURN(uint64_t load_time, in.Get64("count load time"));
    c.count_load_time = static_cast<int64_t>(load_time);
  }
  HV_SNAP_GET(in, Get32, p.flags, "flags");
  RETURN_IF_ERROR(in.Done());
  return p;
}

#undef HV_SNAP_GET

}  // namespace hv::snapshot
