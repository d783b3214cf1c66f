#include "hypervisor/x86_64/boot.h"

#include <cstring>

#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/arch_bits.h"

namespace hv {
namespace {

constexpr uint64_t kPage = x86::kPageSize;

// GDT layout written at `tables` (selectors are index * 8 | RPL).
enum GdtIndex : uint16_t {
  kNull = 0,
  kCode32 = 1,
  kData = 2,
  kCode64 = 3,
  kUserData = 4,
  kUserCode64 = 5,
  kTss = 6,  // a 16-byte system descriptor: entries 6 and 7
  kGdtEntries = 8,
};

// The TSS sits in the GDT page after the descriptors; 104 bytes, all zero
// (no I/O permission bitmap: IOPL decides port access).
constexpr uint64_t kTssOffset = 0x800;
constexpr uint32_t kTssLimit = 0x67;

Segment FlatSegment(uint16_t index, uint8_t type, uint8_t dpl, bool code64) {
  Segment s;
  s.base = 0;
  s.limit = 0xffffffff;
  s.selector = static_cast<uint16_t>(index * 8 | dpl);
  s.type = type;
  s.present = true;
  s.dpl = dpl;
  s.db = !code64;
  s.s = true;
  s.l = code64;
  s.g = true;
  return s;
}

// Encodes `s` as an 8-byte segment descriptor (Intel SDM Vol. 3, 3.4.5).
uint64_t Descriptor(const Segment& s) {
  uint32_t limit = s.g ? s.limit >> 12 : s.limit;
  uint64_t d = (limit & 0xffffull) | ((s.base & 0xffffffull) << 16);
  d |= static_cast<uint64_t>(s.type & 0xf) << 40;
  d |= static_cast<uint64_t>(s.s) << 44;
  d |= static_cast<uint64_t>(s.dpl & 3) << 45;
  d |= static_cast<uint64_t>(s.present) << 47;
  d |= static_cast<uint64_t>((limit >> 16) & 0xf) << 48;
  d |= static_cast<uint64_t>(s.avl) << 52;
  d |= static_cast<uint64_t>(s.l) << 53;
  d |= static_cast<uint64_t>(s.db) << 54;
  d |= static_cast<uint64_t>(s.g) << 55;
  d |= ((s.base >> 24) & 0xffull) << 56;
  return d;
}

void Put64(uint8_t* p, uint64_t value) { std::memcpy(p, &value, 8); }

Segment RealSegment(uint16_t selector, uint8_t type) {
  Segment s;
  s.base = static_cast<uint64_t>(selector) << 4;
  s.limit = 0xffff;
  s.selector = selector;
  s.type = type;
  s.present = true;
  s.s = true;
  return s;
}

}  // namespace

absl::StatusOr<X86Mode> ParseX86Mode(absl::string_view name) {
  if (name == "real") return X86Mode::kReal;
  if (name == "protected") return X86Mode::kProtected;
  if (name == "long") return X86Mode::kLong;
  return absl::InvalidArgumentError(absl::StrFormat(
      "x86 mode \"%s\": expected real, protected or long", name));
}

const char* X86ModeName(X86Mode mode) {
  switch (mode) {
    case X86Mode::kReal: return "real";
    case X86Mode::kProtected: return "protected";
    case X86Mode::kLong: return "long";
  }
  return "unknown";
}

absl::Status SetupX86Boot(VcpuX86_64& vcpu, absl::Span<uint8_t> ram,
                          GuestAddress ram_base, const X86BootOptions& o) {
  ASSIGN_OR_RETURN(Sregs sregs, vcpu.GetSregs());
  Regs regs;
  regs.rsp = o.stack;

  if (o.mode == X86Mode::kReal) {
    if (o.entry >= (1ull << 20)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "x86 boot: real-mode entry %#x is above 1 MiB", o.entry));
    }
    // Code segment at the entry's 64 KiB boundary; data segments at 0.
    sregs.cs = RealSegment(static_cast<uint16_t>((o.entry & ~0xffffull) >> 4), 0xb);
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = RealSegment(0, 0x3);
    sregs.cr0 = x86::kCr0Et;
    sregs.cr4 = 0;
    sregs.efer = 0;
    regs.rip = o.entry & 0xffff;
    RETURN_IF_ERROR(vcpu.SetSregs(sregs));
    return vcpu.SetRegs(regs);
  }

  const uint64_t tables_size = o.mode == X86Mode::kLong ? kX86BootTablesSize : kPage;
  if (o.tables % kPage != 0 || o.tables < ram_base ||
      o.tables - ram_base > ram.size() ||
      tables_size > ram.size() - (o.tables - ram_base)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "x86 boot: tables [%#x, %#x) are not page-aligned guest RAM inside "
        "[%#x, %#x)", o.tables, o.tables + tables_size, ram_base,
        ram_base + ram.size()));
  }
  if (o.mode == X86Mode::kProtected && o.entry > 0xffffffffull) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "x86 boot: protected-mode entry %#x is above 4 GiB", o.entry));
  }

  Segment code32 = FlatSegment(kCode32, 0xb, 0, false);
  Segment data = FlatSegment(kData, 0x3, 0, false);
  Segment code64 = FlatSegment(kCode64, 0xb, 0, true);
  Segment user_data = FlatSegment(kUserData, 0x3, 3, false);
  Segment user_code64 = FlatSegment(kUserCode64, 0xb, 3, true);

  uint8_t* tables = ram.data() + (o.tables - ram_base);
  std::memset(tables, 0, tables_size);
  // A busy TSS (type 11): VMX-based hypervisors refuse to enter a guest
  // whose task register is unusable, even if it never switches tasks.
  Segment tss;
  tss.base = o.tables + kTssOffset;
  tss.limit = kTssLimit;
  tss.selector = kTss * 8;
  tss.type = 0xb;
  tss.present = true;
  const Segment* gdt[] = {nullptr, &code32, &data, &code64, &user_data,
                          &user_code64, &tss};
  for (int i = 1; i <= kTss; ++i) Put64(tables + 8 * i, Descriptor(*gdt[i]));
  Put64(tables + 8 * (kTss + 1), tss.base >> 32);  // upper half (64-bit TSS)
  sregs.tr = tss;
  sregs.ldt = Segment();
  sregs.ldt.unusable = true;
  sregs.gdt.base = o.tables;
  sregs.gdt.limit = kGdtEntries * 8 - 1;
  sregs.idt.base = 0;
  sregs.idt.limit = 0;

  if (o.mode == X86Mode::kProtected) {
    sregs.cs = code32;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.cr0 = x86::kCr0Pe | x86::kCr0Et;
    sregs.cr4 = 0;
    sregs.efer = 0;
  } else {
    // PML4 at +1 page, PDPT at +2, four page directories at +3..+5: an
    // identity map of the first 4 GiB with 2 MiB pages.
    const uint64_t user = o.user_mode ? x86::kPteUser : 0;
    const uint64_t flags = x86::kPtePresent | x86::kPteWritable | user;
    const GuestAddress pml4 = o.tables + kPage, pdpt = o.tables + 2 * kPage;
    Put64(tables + kPage, pdpt | flags);
    for (uint64_t i = 0; i < 4; ++i) {
      const GuestAddress pd = o.tables + (3 + i) * kPage;
      Put64(tables + 2 * kPage + 8 * i, pd | flags);
      for (uint64_t j = 0; j < 512; ++j) {
        const uint64_t address = (i << 30) | (j << 21);
        Put64(tables + (3 + i) * kPage + 8 * j,
              address | flags | x86::kPdeLargePage);
      }
    }
    sregs.cs = o.user_mode ? user_code64 : code64;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss =
        o.user_mode ? user_data : data;
    sregs.cr3 = pml4;
    sregs.cr4 = x86::kCr4Pae;
    sregs.cr0 = x86::kCr0Pe | x86::kCr0Et | x86::kCr0Pg;
    sregs.efer = x86::kEferLme | x86::kEferLma;
    if (o.user_mode) regs.rflags |= x86::kRflagsIopl3;
  }
  regs.rip = o.entry;
  RETURN_IF_ERROR(vcpu.SetSregs(sregs));
  return vcpu.SetRegs(regs);
}

}  // namespace hv
