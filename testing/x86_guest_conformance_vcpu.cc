// X86GuestConformance: kicking a running vCPU, the immediate-exit flag,
// register state round trips and the TSC offset.

#include <x86intrin.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "testing/x86_guest_conformance.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::SizeIs;

TEST_P(X86GuestConformance, KickInterruptsSpinningGuest) {
  for (GuestMode mode : kLongModes) {
    SCOPED_TRACE(GuestModeName(mode));
    ASSERT_OK(guest_->Load(guest::Spin(), mode));
    // Kick once after the guest has started; kick again every second only
    // so that a broken kick fails the test instead of hanging it.
    absl::Notification returned;
    std::atomic<int> kicks{0};
    std::atomic<int64_t> kicked_ns{0};
    std::thread kicker([&] {
      absl::SleepFor(absl::Milliseconds(100));
      do {
        kicked_ns = absl::GetCurrentTimeNanos();
        ++kicks;
        (void)guest_->vcpu().Kick();
      } while (!returned.WaitForNotificationWithTimeout(absl::Seconds(1)) &&
               kicks < 10);
    });
    absl::StatusOr<VcpuExit> exit = guest_->vcpu().Run();
    const int64_t returned_ns = absl::GetCurrentTimeNanos();
    returned.Notify();
    kicker.join();
    ASSERT_OK(exit);
    EXPECT_EQ(exit->kind, VcpuExitKind::kInterrupted);
    EXPECT_EQ(kicks, 1);
    EXPECT_LT(absl::Nanoseconds(returned_ns - kicked_ns), absl::Seconds(1));

    // The kick was consumed: the next run runs the guest again.
    ASSERT_OK(guest_->Load(guest::PioOut(), mode));
    ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest_->Run());
    EXPECT_THAT(run.accesses, SizeIs(3));
  }
}

// A pending request makes the next Run() return kInterrupted without running
// the guest; the run after it runs normally.
void ExpectInterruptedWithoutRunning(GuestFixture& guest) {
  absl::StatusOr<VcpuExit> exit = guest.vcpu().Run();
  ASSERT_OK(exit);
  EXPECT_EQ(exit->kind, VcpuExitKind::kInterrupted);
  ASSERT_OK_AND_ASSIGN(Regs regs, guest.vcpu().GetRegs());
  EXPECT_EQ(regs.rip, HV_GUEST_CODE) << "the guest ran";
  ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest.Run());
  EXPECT_THAT(run.accesses, SizeIs(3));
}

TEST_P(X86GuestConformance, ImmediateExitReturnsBeforeRunning) {
  ASSERT_OK(guest_->Load(guest::PioOut(), GuestMode::kLong));
  guest_->vcpu().SetImmediateExit(true);
  ExpectInterruptedWithoutRunning(*guest_);
}

TEST_P(X86GuestConformance, KickBeforeRunInterruptsNextRun) {
  ASSERT_OK(guest_->Load(guest::PioOut(), GuestMode::kLong));
  ASSERT_OK(guest_->vcpu().Kick());
  ExpectInterruptedWithoutRunning(*guest_);
}

// Describe(): every field, for comparing whole states with a readable diff.
std::string Describe(const Regs& r) {
  return absl::StrFormat(
      "rax=%x rbx=%x rcx=%x rdx=%x rsi=%x rdi=%x rsp=%x rbp=%x r8=%x r9=%x "
      "r10=%x r11=%x r12=%x r13=%x r14=%x r15=%x rip=%x rflags=%x",
      r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rsp, r.rbp, r.r8, r.r9,
      r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip, r.rflags);
}
std::string Describe(const Segment& s) {
  return absl::StrFormat(
      "{base=%x limit=%x sel=%x type=%x p=%d dpl=%d db=%d s=%d l=%d g=%d "
      "avl=%d unusable=%d}",
      s.base, s.limit, s.selector, s.type, s.present, s.dpl, s.db, s.s, s.l,
      s.g, s.avl, s.unusable);
}
std::string Describe(const Sregs& s) {
  return absl::StrCat(
      "cs=", Describe(s.cs), " ds=", Describe(s.ds), " es=", Describe(s.es),
      " fs=", Describe(s.fs), " gs=", Describe(s.gs), " ss=", Describe(s.ss),
      " tr=", Describe(s.tr), " ldt=", Describe(s.ldt),
      absl::StrFormat(" gdt=%x/%x idt=%x/%x cr0=%x cr2=%x cr3=%x cr4=%x "
                      "cr8=%x efer=%x apic_base=%x",
                      s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit, s.cr0,
                      s.cr2, s.cr3, s.cr4, s.cr8, s.efer, s.apic_base));
}
template <size_t N>
std::string Hex(const std::array<uint8_t, N>& bytes) {
  return absl::StrJoin(bytes, ",", [](std::string* out, uint8_t b) {
    absl::StrAppendFormat(out, "%02x", b);
  });
}
std::string Describe(const Fpu& f) {
  std::string out = absl::StrFormat(
      "fcw=%x fsw=%x ftwx=%x op=%x ip=%x dp=%x mxcsr=%x", f.fcw, f.fsw, f.ftwx,
      f.last_opcode, f.last_ip, f.last_dp, f.mxcsr);
  for (const auto& r : f.fpr) absl::StrAppend(&out, " st=", Hex(r));
  for (const auto& r : f.xmm) absl::StrAppend(&out, " xmm=", Hex(r));
  return out;
}
std::string Describe(const DebugRegs& d) {
  return absl::StrFormat("db0=%x db1=%x db2=%x db3=%x dr6=%x dr7=%x", d.db[0],
                         d.db[1], d.db[2], d.db[3], d.dr6, d.dr7);
}

TEST_P(X86GuestConformance, RegsRoundTrip) {
  Regs regs;
  uint64_t* fields[] = {&regs.rax, &regs.rbx, &regs.rcx, &regs.rdx,
                        &regs.rsi, &regs.rdi, &regs.rsp, &regs.rbp,
                        &regs.r8,  &regs.r9,  &regs.r10, &regs.r11,
                        &regs.r12, &regs.r13, &regs.r14, &regs.r15};
  for (uint64_t i = 0; i < 16; ++i) *fields[i] = 0x0101010101010101ull * (i + 1) + i;
  regs.rip = 0x12345;
  regs.rflags = 0x2 | 0x1 | 0x40 | 0x800;  // reserved bit 1, CF, ZF, OF
  ASSERT_OK(guest_->vcpu().SetRegs(regs));
  ASSERT_OK_AND_ASSIGN(Regs back, guest_->vcpu().GetRegs());
  EXPECT_EQ(Describe(back), Describe(regs));
}

TEST_P(X86GuestConformance, SregsRoundTrip) {
  // Start from a valid long-mode state and change what a VMM would.
  ASSERT_OK(guest_->Load(guest::Halt(), GuestMode::kLong));
  ASSERT_OK_AND_ASSIGN(Sregs sregs, guest_->vcpu().GetSregs());
  sregs.fs.base = 0x00007f0000001000ull;
  sregs.gs.base = 0xffff888000002000ull;
  sregs.idt.base = HV_GUEST_IDT;
  sregs.idt.limit = 256 * 16 - 1;
  sregs.cr2 = 0xdeadb000;
  ASSERT_OK(guest_->vcpu().SetSregs(sregs));
  ASSERT_OK_AND_ASSIGN(Sregs back, guest_->vcpu().GetSregs());
  EXPECT_EQ(Describe(back), Describe(sregs));
}

TEST_P(X86GuestConformance, FpuRoundTrip) {
  Fpu fpu;
  fpu.fcw = 0x027f;          // 53-bit precision, all exceptions masked
  fpu.fsw = 0x3800;          // TOP = 7
  fpu.ftwx = 0x80;           // ST7 (physical register 7) valid
  fpu.last_opcode = 0x1d9;   // 11 bits
  fpu.last_ip = 0x401000;
  fpu.last_dp = 0x602000;
  fpu.mxcsr = 0x7f80;        // exceptions masked, round toward zero
  for (size_t i = 0; i < fpu.fpr.size(); ++i) {
    for (size_t j = 0; j < 10; ++j) fpu.fpr[i][j] = static_cast<uint8_t>(0x10 * i + j + 1);
  }
  for (size_t i = 0; i < fpu.xmm.size(); ++i) {
    for (size_t j = 0; j < 16; ++j) fpu.xmm[i][j] = static_cast<uint8_t>(0x11 * i + j);
  }
  ASSERT_OK(guest_->vcpu().SetFpu(fpu));
  ASSERT_OK_AND_ASSIGN(Fpu back, guest_->vcpu().GetFpu());
  EXPECT_EQ(Describe(back), Describe(fpu));
}

TEST_P(X86GuestConformance, DebugRegsRoundTrip) {
  DebugRegs debug;
  debug.db = {0x1000, 0x2008, 0x300c, 0x4010};
  // DR6: reserved bits read as 1 (Intel SDM Vol. 3, Section 18.2.3) plus B1.
  debug.dr6 = 0xffff0ff0 | 0x2;
  // DR7: reserved bit 10 set, G0, breakpoint 0 on 4-byte writes (18.2.4).
  debug.dr7 = 0x400 | 0x2 | (0x1 << 16) | (0x3 << 18);
  ASSERT_OK(guest_->vcpu().SetDebugRegs(debug));
  ASSERT_OK_AND_ASSIGN(DebugRegs back, guest_->vcpu().GetDebugRegs());
  EXPECT_EQ(Describe(back), Describe(debug));
}

TEST_P(X86GuestConformance, XcrsRoundTrip) {
  VcpuX86_64& vcpu = guest_->vcpu();
  if (!hypervisor_->CheckCapability(HypervisorCap::kXcrs)) {
    EXPECT_THAT(vcpu.GetXcrs(), StatusIs(absl::StatusCode::kUnimplemented));
    EXPECT_THAT(vcpu.SetXcrs({Xcr{0, 1}}),
                StatusIs(absl::StatusCode::kUnimplemented));
    return;
  }
  ASSERT_OK_AND_ASSIGN(std::vector<Xcr> xcrs, vcpu.GetXcrs());
  ASSERT_FALSE(xcrs.empty());
  EXPECT_EQ(xcrs[0].index, 0u);
  EXPECT_EQ(xcrs[0].value & 1, 1u) << "XCR0.x87 must be set";
  // Which XCR0 bits a guest may set follows its CPUID (leaf 0xd, subleaf 0,
  // EAX: Intel SDM Vol. 1, Section 13.2), so give it the supported CPUID, as
  // a VMM would, and set XCR0 to x87 plus SSE where offered (Section 13.3).
  VmX86_64* vm86 = vm_->AsX86_64();
  ASSERT_NE(vm86, nullptr);
  ASSERT_OK_AND_ASSIGN(std::vector<CpuidEntry> cpuid, vm86->GetSupportedCpuid());
  ASSERT_OK(vcpu.SetCpuid(cpuid));
  uint64_t xcr0 = 0x1;
  for (const CpuidEntry& entry : cpuid) {
    if (entry.function == 0xd && entry.index == 0) xcr0 |= entry.eax & 0x2;
  }
  for (uint64_t value : {xcr0, uint64_t{0x1}}) {
    ASSERT_OK(vcpu.SetXcrs({Xcr{0, value}}));
    ASSERT_OK_AND_ASSIGN(std::vector<Xcr> back, vcpu.GetXcrs());
    ASSERT_FALSE(back.empty());
    EXPECT_EQ(back[0].index, 0u);
    EXPECT_EQ(back[0].value, value);
    // What the guest itself reads, so a kernel that accepts XCR0 and
    // ignores it is caught (kXcrs is a promise about the guest). At CPL3,
    // which kvm_pvm runs natively: its instruction emulator, which runs
    // CPL0 code there, has no XGETBV (KVM_EXIT_INTERNAL_ERROR).
    ASSERT_OK(guest_->Load(guest::Xgetbv(), GuestMode::kLongUser));
    ASSERT_OK_AND_ASSIGN(Sregs sregs, vcpu.GetSregs());
    sregs.cr4 |= uint64_t{1} << 18;  // CR4.OSXSAVE
    ASSERT_OK(vcpu.SetSregs(sregs));
    ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest_->Run());
    ASSERT_THAT(run.reports, SizeIs(1)) << VcpuExitKindName(run.exit.kind);
    EXPECT_EQ(run.reports[0], value) << "XCR0 as the guest reads it";
  }
}

TEST_P(X86GuestConformance, MsrsRoundTrip) {
  // Intel SDM Vol. 4, Table 2-2: SYSENTER_CS/ESP/EIP, STAR, LSTAR, CSTAR,
  // FMASK, KERNEL_GS_BASE. The SYSENTER values fit in 32 bits: AMD CPUs
  // keep only those (AMD APM Vol. 2, Section 6.1.1).
  const std::vector<MsrEntry> msrs = {
      {0x174, 0x10},
      {0x175, 0x00801000},
      {0x176, 0x00802000},
      {0xc0000081, 0x0023001000000000ull},
      {0xc0000082, 0xffffffff81000000ull},
      {0xc0000083, 0xffffffff81000100ull},
      {0xc0000084, 0x47700},
      {0xc0000102, 0xffff888000003000ull},
  };
  ASSERT_OK(guest_->vcpu().SetMsrs(msrs));
  std::vector<uint32_t> indices;
  for (const MsrEntry& msr : msrs) indices.push_back(msr.index);
  ASSERT_OK_AND_ASSIGN(std::vector<MsrEntry> back,
                       guest_->vcpu().GetMsrs(indices));
  ASSERT_EQ(back.size(), msrs.size());
  for (size_t i = 0; i < msrs.size(); ++i) {
    EXPECT_EQ(back[i].index, msrs[i].index);
    EXPECT_EQ(back[i].value, msrs[i].value) << absl::StrFormat("MSR %#x", msrs[i].index);
  }
}

TEST_P(X86GuestConformance, LapicRoundTrip) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, NewVmWithKernelIrqChip());
  if (vm == nullptr) return;  // no irqchip to create, as checked
  VmX86_64* vm86 = vm->AsX86_64();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<VcpuX86_64> vcpu,
                       vm86->CreateVcpuX86_64(0));
  ASSERT_OK_AND_ASSIGN(LapicState lapic, vcpu->GetLapic());
  // Registers of the local APIC page (Intel SDM Vol. 3, Table 11-1): task
  // priority, spurious-interrupt vector (bit 8 enables the APIC), LVT timer.
  auto put32 = [&](size_t offset, uint32_t value) {
    for (int i = 0; i < 4; ++i) lapic.regs[offset + i] = uint8_t(value >> (8 * i));
  };
  auto get32 = [](const LapicState& state, size_t offset) {
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) value |= uint32_t{state.regs[offset + i]} << (8 * i);
    return value;
  };
  put32(0x80, 0x30);
  put32(0xf0, 0x1ff);
  put32(0x320, 0x10040);  // masked, vector 0x40
  ASSERT_OK(vcpu->SetLapic(lapic));
  ASSERT_OK_AND_ASSIGN(LapicState back, vcpu->GetLapic());
  EXPECT_EQ(get32(back, 0x80), 0x30u) << "TPR";
  EXPECT_EQ(get32(back, 0xf0), 0x1ffu) << "SVR";
  EXPECT_EQ(get32(back, 0x320), 0x10040u) << "LVT timer";
  // Everything else reads back as written, but the processor priority,
  // which the APIC derives from the TPR (SDM Vol. 3, Section 11.8.3.1).
  constexpr size_t kPpr = 0xa0;
  EXPECT_GE(get32(back, kPpr), 0x30u) << "PPR follows TPR";
  for (size_t i = kPpr; i < kPpr + 4; ++i) back.regs[i] = lapic.regs[i];
  EXPECT_EQ(Hex(back.regs), Hex(lapic.regs)) << "the rest of the page";
}

TEST_P(X86GuestConformance, TscOffsetIsVisibleToGuest) {
  VcpuX86_64& vcpu = guest_->vcpu();
  constexpr uint64_t kOffset = 1ull << 50;
  if (!hypervisor_->CheckCapability(HypervisorCap::kTscControl)) {
    // No capability, no half-honoured offset: both calls refuse, and the
    // refused offset never reaches the guest (its TSC moves on by the time
    // between two runs, far less than the offset).
    std::vector<uint64_t> guest_tsc;
    for (int run_index = 0; run_index < 2; ++run_index) {
      ASSERT_OK(guest_->Load(guest::Rdtsc(), GuestMode::kLong));
      ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest_->Run());
      ASSERT_THAT(run.reports, SizeIs(1));
      guest_tsc.push_back(run.reports[0]);
      EXPECT_THAT(vcpu.SetTscOffset(kOffset),
                  StatusIs(absl::StatusCode::kUnimplemented));
      EXPECT_THAT(vcpu.GetTscOffset(),
                  StatusIs(absl::StatusCode::kUnimplemented));
    }
    EXPECT_GE(guest_tsc[1], guest_tsc[0]);
    EXPECT_LT(guest_tsc[1] - guest_tsc[0], kOffset);
    return;
  }
  for (GuestMode mode : kLongModes) {
    SCOPED_TRACE(GuestModeName(mode));
    // The guest's TSC lies between the host's before and after the run,
    // shifted by the offset.
    std::vector<uint64_t> guest_tsc;
    for (uint64_t offset : {uint64_t{0}, kOffset}) {
      ASSERT_OK(vcpu.SetTscOffset(offset));
      ASSERT_OK_AND_ASSIGN(uint64_t in_effect, vcpu.GetTscOffset());
      EXPECT_EQ(in_effect, offset);
      ASSERT_OK(guest_->Load(guest::Rdtsc(), mode));
      const uint64_t before = __rdtsc();
      ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest_->Run());
      const uint64_t after = __rdtsc();
      ASSERT_THAT(run.reports, SizeIs(1));
      EXPECT_GE(run.reports[0], before + offset);
      EXPECT_LE(run.reports[0], after + offset);
      guest_tsc.push_back(run.reports[0]);
    }
    // So the difference between the two runs is the offset plus the time
    // between them (well under a second here).
    ASSERT_OK_AND_ASSIGN(uint32_t khz, vcpu.GetTscKhz());
    EXPECT_GT(khz, 0u);
    const uint64_t difference = guest_tsc[1] - guest_tsc[0];
    EXPECT_GE(difference, kOffset);
    EXPECT_LT(difference - kOffset, uint64_t{khz} * 1000) << "over 1 s apart";
  }
}

}  // namespace
}  // namespace hv::testing
