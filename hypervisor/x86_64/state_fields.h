// Field maps between hv's x86_64 state types (x86_64/regs.h) and the
// structs of the hypervisors that name their fields as hv does, written
// once for both directions: a backend's Get* copies from its struct into
// hv's, its Set* from hv's into its struct, through the same function.
// Backend support: not part of the hypervisor API.
//
// Example (a hypervisor whose struct names its segment state as Sregs
// does, with segment and table types of its own, and an array of GPRs):
//   hv::Sregs sregs;
//   hv::CopySregsFields(mine, sregs, SegmentFromMine, TableFromMine);  // Get
//   hv::CopySregsFields(sregs, mine, SegmentToMine, TableToMine);      // Set
//   hv::Regs regs;
//   for (int i = 0; i < 16; ++i) regs.*hv::kGprsByNumber[i] = gprs[i];
#ifndef HV_HYPERVISOR_X86_64_STATE_FIELDS_H_
#define HV_HYPERVISOR_X86_64_STATE_FIELDS_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "hypervisor/x86_64/regs.h"

namespace hv {

// CopySregsFields(): the fields Sregs shares by name with a hypervisor's
// segment state (KVM's kvm_sregs, HAXM's vcpu_state_t), from `from` to
// `to`, either way round: the eight segment registers (cs, ds, es, fs, gs,
// ss, tr, ldt) through `segment`, gdt and idt through `table` (each turns
// one field into the other side's type), cr0, cr2, cr3 and cr4 as they
// are. What else each side has (cr8, EFER, the APIC base) the backend
// copies itself.
template <typename From, typename To, typename SegmentFn, typename TableFn>
void CopySregsFields(const From& from, To& to, SegmentFn segment,
                     TableFn table) {
  to.cs = segment(from.cs);
  to.ds = segment(from.ds);
  to.es = segment(from.es);
  to.fs = segment(from.fs);
  to.gs = segment(from.gs);
  to.ss = segment(from.ss);
  to.tr = segment(from.tr);
  to.ldt = segment(from.ldt);
  to.gdt = table(from.gdt);
  to.idt = table(from.idt);
  to.cr0 = from.cr0;
  to.cr2 = from.cr2;
  to.cr3 = from.cr3;
  to.cr4 = from.cr4;
}

// kGprsByNumber: Regs' sixteen general purpose registers by x86 register
// number (rax 0, rcx 1, rdx 2, rbx 3, rsp 4, rbp 5, rsi 6, rdi 7, r8-r15
// 8-15), the order of an array indexed as instructions encode registers
// (HAXM's vcpu_state_t.regs).
inline constexpr uint64_t Regs::*kGprsByNumber[16] = {
    &Regs::rax, &Regs::rcx, &Regs::rdx, &Regs::rbx, &Regs::rsp, &Regs::rbp,
    &Regs::rsi, &Regs::rdi, &Regs::r8,  &Regs::r9,  &Regs::r10, &Regs::r11,
    &Regs::r12, &Regs::r13, &Regs::r14, &Regs::r15,
};

// kRegsFields: Regs' eighteen fields in their declaration order (rax, rbx,
// rcx, rdx, rsi, rdi, rsp, rbp, r8-r15, rip, rflags), the order of an
// array of register values named in that order (WHPX's batched calls).
inline constexpr uint64_t Regs::*kRegsFields[18] = {
    &Regs::rax, &Regs::rbx, &Regs::rcx, &Regs::rdx, &Regs::rsi, &Regs::rdi,
    &Regs::rsp, &Regs::rbp, &Regs::r8,  &Regs::r9,  &Regs::r10, &Regs::r11,
    &Regs::r12, &Regs::r13, &Regs::r14, &Regs::r15, &Regs::rip, &Regs::rflags,
};

// kSregsSegments: Sregs' eight segment registers in CopySregsFields'
// order (cs, ds, es, fs, gs, ss, tr, ldt), for a hypervisor that takes
// them as an array (WHPX's batched calls).
inline constexpr Segment Sregs::*kSregsSegments[8] = {
    &Sregs::cs, &Sregs::ds, &Sregs::es, &Sregs::fs,
    &Sregs::gs, &Sregs::ss, &Sregs::tr, &Sregs::ldt,
};

// The fields of a 512-byte FXSAVE image (Intel SDM Vol. 1, Section 10.5.1,
// Table 10-2, 64-bit form): FCW 0, FSW 2, abridged FTW 4, FOP 6, FIP 8,
// FDP 16, MXCSR 24, ST0-7 from 32 and XMM0-15 from 160 in 16-byte slots.
// KVM's XSAVE image starts with one (its legacy area); HAXM's fx_layout is
// one. `field(offset, fpu's field, size)` for each; `FpuT` is Fpu or
// const Fpu.
namespace state_fields_internal {
template <typename FpuT, typename FieldFn>
void FxsaveFields(FpuT& fpu, FieldFn field) {
  field(0, &fpu.fcw, 2);
  field(2, &fpu.fsw, 2);
  field(4, &fpu.ftwx, 1);
  field(6, &fpu.last_opcode, 2);
  field(8, &fpu.last_ip, 8);
  field(16, &fpu.last_dp, 8);
  field(24, &fpu.mxcsr, 4);
  for (int i = 0; i < 8; ++i) field(32 + 16 * i, fpu.fpr[i].data(), 16);
  for (int i = 0; i < 16; ++i) field(160 + 16 * i, fpu.xmm[i].data(), 16);
}
}  // namespace state_fields_internal

// ReadFxsave(): the Fpu in the FXSAVE image at `image` (512 bytes).
inline Fpu ReadFxsave(const uint8_t* image) {
  Fpu fpu;
  state_fields_internal::FxsaveFields(
      fpu, [image](size_t offset, void* field, size_t size) {
        std::memcpy(field, image + offset, size);
      });
  return fpu;
}

// WriteFxsave(): writes `fpu` into the FXSAVE image at `image`; the bytes
// hv's Fpu does not carry (reserved ones, MXCSR_MASK, the tail) stay.
inline void WriteFxsave(const Fpu& fpu, uint8_t* image) {
  state_fields_internal::FxsaveFields(
      fpu, [image](size_t offset, const void* field, size_t size) {
        std::memcpy(image + offset, field, size);
      });
}

// Segment attributes in the VMX access-rights layout (Intel SDM Vol. 3,
// Section 24.4.1, Table 24-2): type 3:0, S 4, DPL 6:5, P 7, AVL 12, L 13,
// D/B 14, G 15, "unusable" 16. HAXM's segment_desc_t.ar is this word; WHPX's
// segment Attributes are its low 16 bits.
inline constexpr uint32_t kAccessRightsTypeMask = 0xf;
inline constexpr int kAccessRightsSBit = 4;
inline constexpr int kAccessRightsDplShift = 5;
inline constexpr int kAccessRightsPresentBit = 7;
inline constexpr int kAccessRightsAvlBit = 12;
inline constexpr int kAccessRightsLBit = 13;
inline constexpr int kAccessRightsDbBit = 14;
inline constexpr int kAccessRightsGBit = 15;
inline constexpr int kAccessRightsUnusableBit = 16;

// ToAccessRights(): `s`'s attributes (type through unusable) as one
// access-rights word.
inline uint32_t ToAccessRights(const Segment& s) {
  auto bit = [](bool set, int position) {
    return set ? uint32_t{1} << position : 0u;
  };
  return (s.type & kAccessRightsTypeMask) | bit(s.s, kAccessRightsSBit) |
         (static_cast<uint32_t>(s.dpl & 3) << kAccessRightsDplShift) |
         bit(s.present, kAccessRightsPresentBit) |
         bit(s.avl, kAccessRightsAvlBit) | bit(s.l, kAccessRightsLBit) |
         bit(s.db, kAccessRightsDbBit) | bit(s.g, kAccessRightsGBit) |
         bit(s.unusable, kAccessRightsUnusableBit);
}

// SetAccessRights(): sets `s`'s attributes (type through unusable) from
// the access-rights word `ar`; base, limit and selector stay.
inline void SetAccessRights(uint32_t ar, Segment& s) {
  auto bit = [ar](int position) { return ((ar >> position) & 1) != 0; };
  s.type = static_cast<uint8_t>(ar & kAccessRightsTypeMask);
  s.s = bit(kAccessRightsSBit);
  s.dpl = static_cast<uint8_t>((ar >> kAccessRightsDplShift) & 3);
  s.present = bit(kAccessRightsPresentBit);
  s.avl = bit(kAccessRightsAvlBit);
  s.l = bit(kAccessRightsLBit);
  s.db = bit(kAccessRightsDbBit);
  s.g = bit(kAccessRightsGBit);
  s.unusable = bit(kAccessRightsUnusableBit);
}

}  // namespace hv

#endif  // HV_HYPERVISOR_X86_64_STATE_FIELDS_H_
